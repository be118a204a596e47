"""Each drift statistic against scipy (or numpy) computed the way Evidently computes it, on fixed data;
and Evidently's choice of method by sample size, type and distinct values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sp
from scipy.spatial import distance

from onduty.detect import stats
from onduty.detect.drift import column_drift
from onduty.detect.profile import Categorical, column_profile

RNG = np.random.default_rng(42)
REF = np.sort(RNG.normal(0, 1, 4000))
CUR = np.sort(RNG.normal(0.2, 1.3, 2500))
TIED_REF = np.sort(np.round(REF, 1))
TIED_CUR = np.sort(np.round(CUR, 1))


@pytest.mark.parametrize(("ref", "cur"), [(REF, CUR), (TIED_REF, TIED_CUR), (REF[:7], CUR[:3]), (REF, REF)])
def test_wasserstein_matches_scipy_over_the_reference_std(ref: np.ndarray, cur: np.ndarray) -> None:
    expected = sp.wasserstein_distance(ref, cur) / max(np.std(ref), 0.001)
    assert stats.wasserstein_normed(ref, cur) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_ks_is_scipys_two_sample_p_value() -> None:
    assert stats.ks_pvalue(REF[:500], CUR[:400]) == sp.ks_2samp(REF[:500], CUR[:400]).pvalue


def test_sturges_bins_match_numpy_histogram() -> None:
    edges = np.histogram_bin_edges(np.concatenate([REF, CUR]), bins="sturges")
    ref_share, cur_share = stats.numeric_bins(REF, CUR)
    assert np.allclose(ref_share, np.histogram(REF, edges)[0] / REF.size)
    assert np.allclose(cur_share, np.histogram(CUR, edges)[0] / CUR.size)


def test_jensenshannon_is_scipys_distance_without_filling_empty_bins() -> None:
    ref, cur = np.array([0.5, 0.5, 0.0]), np.array([0.2, 0.3, 0.5])
    assert stats.jensenshannon(ref, cur) == pytest.approx(distance.jensenshannon(ref, cur))


def test_psi_fills_empty_bins_then_sums_the_log_ratio() -> None:
    ref, cur = np.array([0.5, 0.5, 0.0]), np.array([0.2, 0.3, 0.5])
    filled = np.array([0.5, 0.5, 0.0001])
    assert stats.psi(ref, cur) == pytest.approx(float(np.sum((filled - cur) * np.log(filled / cur))))


def test_chisquare_scales_reference_counts_to_the_current_size() -> None:
    ref, cur = np.array([50.0, 30.0, 20.0]), np.array([30.0, 30.0, 40.0])
    assert stats.chisquare_pvalue(ref, cur) == pytest.approx(sp.chisquare(cur, ref * cur.sum() / ref.sum()).pvalue)


def test_z_test_is_the_two_proportion_test() -> None:
    ref, cur = np.array([700.0, 300.0]), np.array([600.0, 400.0])
    pooled = (300 + 400) / 2000
    z = (0.3 - 0.4) / np.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 1000))
    assert stats.z_pvalue(ref, cur) == pytest.approx(2 * (1 - sp.norm.cdf(abs(z))))
    assert stats.z_pvalue(np.array([5.0, 0.0]), np.array([9.0, 0.0])) == 1.0


@pytest.mark.parametrize(("kind", "rows", "unique", "method"), [
    ("numeric", 1000, 6, "ks"), ("numeric", 1000, 5, "chisquare"), ("numeric", 1000, 2, "z"),
    ("categorical", 1000, 3, "chisquare"), ("categorical", 1000, 2, "z"),
    ("numeric", 1001, 6, "wasserstein"), ("numeric", 1001, 5, "jensenshannon"),
    ("categorical", 1001, 50, "jensenshannon"), ("categorical", 1001, 2, "jensenshannon"),
])
def test_method_follows_evidentlys_rules(kind: str, rows: int, unique: int, method: str) -> None:
    assert stats.default_method(kind, rows, unique) == method


def test_a_shifted_numeric_column_drifts_and_a_resample_does_not() -> None:
    base = column_profile("x", RNG.normal(0, 1, 5000))
    assert column_drift(base, column_profile("x", RNG.normal(0.5, 1, 5000))).drifted  # type: ignore[union-attr]
    same = column_drift(base, column_profile("x", RNG.normal(0, 1, 5000)))
    assert same is not None and same.method == "wasserstein" and not same.drifted


def test_a_categorical_column_with_a_new_dominant_value_drifts() -> None:
    ref = column_profile("c", Categorical.of(RNG.choice(["a", "b", "c"], 800)))
    cur = column_profile("c", Categorical.of(RNG.choice(["a", "d"], 800)))
    found = column_drift(ref, cur)
    assert found is not None and found.method == "chisquare" and found.drifted
