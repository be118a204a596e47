"""Per-column distribution drift of a batch against a reference profile, as Evidently's DataDriftPreset
decides it: the method per column by sample size and type, its default threshold, and dataset drift
when the share of drifted columns reaches `drift_share`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from onduty.detect import stats
from onduty.detect.profile import Column as BatchColumn
from onduty.detect.profile import ColumnProfile, column_profile, map_columns


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: str
    method: str
    statistic: float
    threshold: float
    drifted: bool
    reference_rows: int
    current_rows: int

    def as_dict(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "method": self.method,
                "statistic": finite(self.statistic), "threshold": self.threshold, "drifted": self.drifted,
                "reference_rows": self.reference_rows, "current_rows": self.current_rows}


@dataclass(frozen=True)
class DatasetDrift:
    columns: tuple[ColumnDrift, ...]
    drift_share: float  # the threshold

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def share(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @property
    def drifted(self) -> bool:
        return bool(self.columns) and self.share >= self.drift_share

    def as_dict(self) -> dict[str, Any]:
        return {"drifted": self.drifted, "share": round(self.share, 6), "threshold": self.drift_share,
                "drifted_columns": self.drifted_columns, "columns": [c.as_dict() for c in self.columns]}


def finite(value: float) -> float | None:
    """A figure for JSON: six significant digits; None for infinities and NaN."""
    return None if not np.isfinite(value) else float(f"{value:.6g}")


def _aligned_counts(ref: ColumnProfile, cur: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Both columns' counts over the union of their categories."""
    assert ref.categories is not None and ref.counts is not None
    assert cur.categories is not None and cur.counts is not None
    union = np.union1d(ref.categories, cur.categories)
    ref_counts = np.zeros(union.size, dtype=np.float64)
    cur_counts = np.zeros(union.size, dtype=np.float64)
    ref_counts[np.searchsorted(union, ref.categories)] = ref.counts
    cur_counts[np.searchsorted(union, cur.categories)] = cur.counts
    return ref_counts, cur_counts


def _numeric_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A numeric column with few distinct values, counted per value (for chi-squared / z / JS)."""
    union = np.union1d(np.unique(ref), np.unique(cur))
    ref_counts = np.diff(np.searchsorted(ref, union, side="right"), prepend=0).astype(np.float64)
    cur_counts = np.diff(np.searchsorted(cur, union, side="right"), prepend=0).astype(np.float64)
    return ref_counts, cur_counts


def _n_unique(ref: ColumnProfile, cur: ColumnProfile) -> int:
    if ref.kind == "categorical":
        assert ref.categories is not None and cur.categories is not None
        return int(np.union1d(ref.categories, cur.categories).size)
    if ref.n_unique > 5:
        return ref.n_unique
    assert ref.values is not None and cur.values is not None
    return int(np.union1d(np.unique(ref.values), np.unique(cur.values)).size)


def column_drift(ref: ColumnProfile, cur: ColumnProfile, method: str | None = None,
                 threshold: float | None = None) -> ColumnDrift | None:
    """Drift of one column; None when either side has no values to compare."""
    if ref.kind != cur.kind or ref.kind == "datetime":
        return None
    ref_n, cur_n = ref.rows - ref.nulls, cur.rows - cur.nulls
    if ref_n == 0 or cur_n == 0:
        return None
    name = method or stats.default_method(ref.kind, ref_n, _n_unique(ref, cur))
    limit = stats.METHODS[name].threshold if threshold is None else threshold
    value = _statistic(name, ref, cur)
    return ColumnDrift(ref.name, ref.kind, name, value, limit, stats.drifted(name, value, limit), ref_n, cur_n)


def _statistic(method: str, ref: ColumnProfile, cur: ColumnProfile) -> float:
    numeric = ref.kind == "numeric"
    if numeric:
        assert ref.values is not None and cur.values is not None
        r, c = ref.values, cur.values
        if method == "ks":
            return stats.ks_pvalue(r, c)
        if method == "wasserstein":
            return stats.wasserstein_normed(r, c)
        if method in ("jensenshannon", "psi") and ref.n_unique > stats.BIN_BY_VALUE:
            shares = stats.numeric_bins(r, c)
        else:
            shares = stats.category_shares(*_numeric_counts(r, c))
        counts = _numeric_counts(r, c) if method in ("chisquare", "z") else None
    else:
        counts = _aligned_counts(ref, cur)
        shares = stats.category_shares(*counts)
    if method == "jensenshannon":
        return stats.jensenshannon(*shares)
    if method == "psi":
        return stats.psi(*shares)
    if method not in ("chisquare", "z"):
        raise ValueError(f"{method} does not apply to {ref.kind} column {ref.name!r}")
    assert counts is not None
    return stats.chisquare_pvalue(*counts) if method == "chisquare" else stats.z_pvalue(*counts)


def dataset_drift(reference: dict[str, ColumnProfile], current: dict[str, ColumnProfile],
                  columns: Sequence[str] | None = None, drift_share: float = 0.5, method: str | None = None,
                  threshold: float | None = None, workers: int = 2) -> DatasetDrift:
    """Each shared column's drift (in reference order) and the dataset verdict."""
    names = [n for n in (columns or reference) if n in reference and n in current]
    found = map_columns(lambda n: column_drift(reference[n], current[n], method, threshold), names, workers)
    return DatasetDrift(tuple(d for d in found if d is not None), drift_share)


def profile_columns(batch: dict[str, BatchColumn], workers: int = 2) -> dict[str, ColumnProfile]:
    profiles = map_columns(lambda item: column_profile(*item), list(batch.items()), workers)
    return {p.name: p for p in profiles}
