"""Two-sample drift statistics with Evidently's methods and defaults, computed on sorted samples and
category counts so a million rows take milliseconds to a fraction of a second a column.

Numeric samples are sorted float64 arrays without NaN; categorical samples are counts aligned on one
list of categories. Each test returns (statistic, drifted): p-value tests drift when p < threshold,
distance tests when the distance ≥ threshold, as Evidently decides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMALL_SAMPLE = 1000  # Evidently: reference of up to 1,000 rows → p-value tests, above → distances
BIN_BY_VALUE = 20  # numeric columns with at most this many reference values are binned per value
STD_FLOOR = 0.001  # Wasserstein is divided by max(std of the reference, this)


@dataclass(frozen=True)
class Method:
    name: str
    threshold: float
    p_value: bool  # True: drift when statistic < threshold; False: when statistic ≥ threshold


METHODS = {
    "ks": Method("ks", 0.05, True),
    "chisquare": Method("chisquare", 0.05, True),
    "z": Method("z", 0.05, True),
    "wasserstein": Method("wasserstein", 0.1, False),
    "jensenshannon": Method("jensenshannon", 0.1, False),
    "psi": Method("psi", 0.1, False),
}


def default_method(kind: str, reference_rows: int, n_unique: int) -> str:
    """Evidently's choice: by the reference's size, the column's type and its distinct values."""
    if reference_rows <= SMALL_SAMPLE:
        if kind == "numeric" and n_unique > 5:
            return "ks"
        return "chisquare" if n_unique > 2 else "z"
    if kind == "numeric" and n_unique > 5:
        return "wasserstein"
    return "jensenshannon"


def drifted(method: str, statistic: float, threshold: float) -> bool:
    m = METHODS[method]
    return bool(statistic < threshold) if m.p_value else bool(statistic >= threshold)


def wasserstein_normed(ref: np.ndarray, cur: np.ndarray, ref_std: float | None = None) -> float:
    """Exact first Wasserstein distance between two sorted samples, over max(std(ref), 0.001).

    As the integral of |F_ref^-1(q) - F_cur^-1(q)| over q: the quantile steps are k/n and l/m, so
    their merged order follows from integer arithmetic alone (no search, no sort), and each stretch
    between steps pairs one reference value with one current value.
    """
    n, m = ref.size, cur.size
    k = np.arange(1, n + 1, dtype=np.int64)
    at = k * m  # in place from here on: a million-row column should not cost ten copies of itself
    step = np.empty(n + m, dtype=np.float64)  # step positions in units of 1 / (n * m), exact below 2**53
    at -= 1
    at //= n
    at += k - 1  # where the reference's step k/n falls among all n + m steps
    is_ref = np.zeros(n + m, dtype=bool)
    is_ref[at] = True
    k *= m
    step[at] = k
    del k, at
    step[~is_ref] = np.arange(1, m + 1, dtype=np.float64) * n
    widths = np.diff(step, prepend=0.0)
    del step
    refs_before = np.cumsum(is_ref, dtype=np.int32)
    refs_before -= is_ref
    curs_before = np.arange(n + m, dtype=np.int32)
    curs_before -= refs_before
    del is_ref
    np.minimum(refs_before, n - 1, out=refs_before)  # the last stretches have zero width
    np.minimum(curs_before, m - 1, out=curs_before)
    gap = ref[refs_before]
    del refs_before
    gap -= cur[curs_before]
    del curs_before
    np.abs(gap, out=gap)
    distance_ = float(np.dot(gap, widths)) / (float(n) * float(m))
    std = float(np.std(ref)) if ref_std is None else ref_std
    return distance_ / max(std, STD_FLOOR)


def ks_pvalue(ref: np.ndarray, cur: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov p-value (scipy's ks_2samp, as Evidently calls it)."""
    from scipy import stats  # imported when needed: scipy.stats takes a while to load
    return float(stats.ks_2samp(ref, cur)[1])


def _fill_zeroes(percents: np.ndarray) -> np.ndarray:
    """Evidently replaces empty bins by a tiny share so logarithms and ratios stay finite."""
    nonzero = percents[percents != 0]
    if nonzero.size == 0:
        return percents
    smallest = float(nonzero.min())
    filled = percents.copy()
    filled[filled == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return filled


def numeric_bins(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares of each sorted sample in equal bins over both samples' range, as many as Sturges' rule
    gives for their joint size (numpy's `histogram_bin_edges(..., "sturges")`, as Evidently bins)."""
    low, high = min(float(ref[0]), float(cur[0])), max(float(ref[-1]), float(cur[-1]))
    if low == high:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / (np.log2(ref.size + cur.size) + 1.0)
    edges = np.linspace(low, high, int(np.ceil((high - low) / width)) + 1)
    return _sorted_histogram(ref, edges) / ref.size, _sorted_histogram(cur, edges) / cur.size


def _sorted_histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """np.histogram on a sorted sample by searching the edges (last bin closed, as numpy does)."""
    cuts = np.searchsorted(values, edges[1:-1], side="left")
    bounds = np.concatenate(([0], cuts, [values.size]))
    return np.diff(bounds).astype(np.float64)


def category_shares(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ref_counts / max(ref_counts.sum(), 1), cur_counts / max(cur_counts.sum(), 1)


def jensenshannon(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log) between the two shares (empty bins stay empty), computed
    as scipy.spatial.distance.jensenshannon does."""
    p, q = ref_share / ref_share.sum(), cur_share / cur_share.sum()
    m = (p + q) / 2.0
    return float(np.sqrt((_rel_entr(p, m).sum() + _rel_entr(q, m).sum()) / 2.0))


def _rel_entr(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * ln(x / y), 0 where x is 0 (scipy.special.rel_entr for shares, where y > 0 wherever x > 0)."""
    out = np.zeros_like(x)
    positive = x > 0
    out[positive] = x[positive] * np.log(x[positive] / y[positive])
    return out


def psi(ref_share: np.ndarray, cur_share: np.ndarray) -> float:
    """Population stability index: sum (ref - cur) * ln(ref / cur), empty bins filled."""
    r, c = _fill_zeroes(ref_share), _fill_zeroes(cur_share)
    return float(np.sum((r - c) * np.log(r / c)))


def chisquare_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Chi-squared goodness of fit of the current counts to the reference's shares scaled to its size."""
    from scipy import stats

    expected = ref_counts * (cur_counts.sum() / ref_counts.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.chisquare(cur_counts, expected)[1])


def z_pvalue(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Two-proportion z-test on the share outside the first (sorted) category, for binary columns."""
    from scipy import stats

    if np.count_nonzero(ref_counts) == 1 and np.count_nonzero(cur_counts) == 1 and \
            np.argmax(ref_counts) == np.argmax(cur_counts):
        return 1.0  # one and the same value on both sides
    n_ref, n_cur = float(ref_counts.sum()), float(cur_counts.sum())
    p_ref, p_cur = 1 - ref_counts[0] / n_ref, 1 - cur_counts[0] / n_cur
    pooled = (p_ref * n_ref + p_cur * n_cur) / (n_ref + n_cur)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (p_ref - p_cur) / np.sqrt(pooled * (1 - pooled) * (1.0 / n_ref + 1.0 / n_cur))
    return float(2 * (1 - stats.norm.cdf(np.abs(z))))
