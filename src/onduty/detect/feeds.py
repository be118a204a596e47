"""Feed checks: a batch against its reference profile and the previous keyed snapshot → a verdict.

Pure functions over numpy arrays (no database, no clock), so the service, the CLI and simulations
share them:

    config = FeedConfig(key="product_id", pairs=(("category", "brand"),))
    ref = feeds.reference_profile(batch, config)    # → Profile (or feeds.profile(batch, pairs) by hand)
    verdict = feeds.check(ref, batch, previous=None, config=config)
    verdict.verdict        # "accept" or "quarantine"
    verdict.findings       # what failed: check, column, statistic, threshold, value, blocking
    verdict.snapshot       # this batch's keyed snapshot, to pass as `previous` next time

A batch maps column name → numpy array (numbers, datetimes, strings or objects) or `Categorical`.
Checks: schema (missing, extra, retyped columns), null share, numeric range, category sets,
per-column drift and dataset drift (Evidently's methods), and two that per-column drift cannot see:
the share of keys whose attributes changed since the previous snapshot against the feed's normal
churn, the share of rows whose declared column pair was never seen in the reference, and (with
`multivariate=True`) PCA reconstruction error against held-out chunks of the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from onduty.detect.drift import DatasetDrift, dataset_drift, finite, profile_columns
from onduty.detect.hashing import column_hashes, combine, pair_hashes
from onduty.detect.profile import Batch, Categorical, ColumnProfile, Profile, batch_rows, profile
from onduty.detect.snapshot import Snapshot, churn_limit, compare, snapshot

__all__ = ["Batch", "Categorical", "FeedConfig", "FeedVerdict", "Finding", "Profile", "Snapshot", "check", "profile",
           "reference_profile", "snapshot"]


@dataclass(frozen=True)
class FeedConfig:
    """What to check and how strictly; every default is documented in the README's feed section."""

    key: str | None = None  # key column of a keyed feed (e.g. product_id)
    attributes: tuple[str, ...] | None = None  # what counts as a key's attributes (default: all but the key)
    pairs: tuple[tuple[str, str], ...] = ()  # column pairs whose value pairs must have been seen
    columns: tuple[str, ...] | None = None  # columns checked for drift (default: all shared columns)
    drift_share: float = 0.5  # dataset drift when this share of columns drifted
    method: str | None = None  # force one drift method (e.g. "psi"); default: Evidently's choice per column
    method_threshold: float | None = None  # its threshold; default: the method's own
    null_share_increase: float = 0.1  # a column's null share may rise this much over the reference
    out_of_range_share: float = 0.01  # share of numeric values allowed outside the reference's range
    new_category_share: float = 0.01  # share of rows allowed in categories the reference never had
    vanished_category_share: float = 0.01  # a category this common in the reference must still appear
    new_pair_share: float = 0.01  # share of rows allowed with a never-seen pair
    churn_floor: float = 0.01  # changed-key share always tolerated
    churn_factor: float = 3.0  # … and this many times the feed's normal churn
    churn_unlearnt: float = 0.2  # the limit until `churn_min_history` snapshots were compared
    churn_min_history: int = 3
    churn_history: int = 96  # how many past churn figures are remembered
    block_on_column_drift: bool = False  # True: one drifted column quarantines (else only dataset drift)
    multivariate: bool = False  # PCA reconstruction error against held-out reference chunks


@dataclass(frozen=True)
class Finding:
    check: str  # schema, nulls, range, categories, drift, dataset_drift, keys, pairs
    column: str | None
    statistic: str
    threshold: float | None
    value: float | str | None
    blocking: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "column": self.column, "statistic": self.statistic,
                "threshold": self.threshold, "value": self.value, "blocking": self.blocking,
                "message": self.message}


@dataclass(frozen=True)
class FeedVerdict:
    rows: int
    findings: tuple[Finding, ...]
    drift: DatasetDrift
    keys: dict[str, Any] | None = None  # changed/added/removed shares, limit and normal churn
    pairs: dict[str, Any] = field(default_factory=dict)
    multivariate: dict[str, Any] | None = None  # the batch's PCA error, the limit and the reference's
    snapshot: Snapshot | None = None  # this batch's snapshot, churn history extended if accepted

    @property
    def verdict(self) -> str:
        return "quarantine" if any(f.blocking for f in self.findings) else "accept"

    @property
    def accepted(self) -> bool:
        return self.verdict == "accept"

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "rows": self.rows,
                "findings": [f.as_dict() for f in self.findings], "drift": self.drift.as_dict(),
                "keys": self.keys, "pairs": self.pairs, "multivariate": self.multivariate}


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _schema(ref: Profile, cur: dict[str, ColumnProfile]) -> list[Finding]:
    out = []
    for name, col in ref.columns.items():
        if name not in cur:
            out.append(Finding("schema", name, "missing", None, None, True, f"column {name!r} is missing"))
        elif cur[name].kind != col.kind:
            out.append(Finding("schema", name, "type", None, cur[name].kind, True,
                               f"column {name!r} was {col.kind}, is now {cur[name].kind}"))
    for name in cur:
        if name not in ref.columns:
            out.append(Finding("schema", name, "extra", None, None, False, f"column {name!r} is new"))
    return out


def _nulls(ref: Profile, cur: dict[str, ColumnProfile], cfg: FeedConfig) -> list[Finding]:
    out = []
    for name, col in cur.items():
        base = ref.columns.get(name)
        if base is None or base.kind != col.kind:
            continue
        limit = min(1.0, base.null_share + cfg.null_share_increase)
        if col.null_share > limit:
            out.append(Finding("nulls", name, "null_share", round(limit, 6), round(col.null_share, 6), True,
                               f"{name}: {_pct(col.null_share)} null, the reference {_pct(base.null_share)}"))
    return out


def _ranges(ref: Profile, cur: dict[str, ColumnProfile], cfg: FeedConfig) -> list[Finding]:
    out = []
    for name, col in cur.items():
        base = ref.columns.get(name)
        if base is None or col.kind != "numeric" or base.kind != "numeric":
            continue
        assert base.values is not None and col.values is not None
        if not base.values.size or not col.values.size:
            continue
        low, high = float(base.values[0]), float(base.values[-1])
        outside = int(np.searchsorted(col.values, low, "left") + col.values.size
                      - np.searchsorted(col.values, high, "right"))
        share = outside / col.values.size
        if share > cfg.out_of_range_share:
            out.append(Finding("range", name, "out_of_range_share", cfg.out_of_range_share, round(share, 6), True,
                               f"{name}: {_pct(share)} of values outside the reference's [{low:g}, {high:g}]"))
    return out


def identifiers(ref: Profile, key: str | None) -> set[str]:
    """The key and text columns whose values hardly repeat (ids, titles): no category set to keep."""
    found = {key} if key else set()
    for name, col in ref.columns.items():
        present = col.rows - col.nulls
        if col.kind == "categorical" and present > 20 and col.n_unique > 0.5 * present:
            found.add(name)
    return found


def _categories(ref: Profile, cur: dict[str, ColumnProfile], cfg: FeedConfig) -> list[Finding]:
    out = []
    skipped = identifiers(ref, cfg.key)
    for name, col in cur.items():
        base = ref.columns.get(name)
        if base is None or col.kind != "categorical" or base.kind != "categorical" or name in skipped:
            continue
        assert base.categories is not None and base.counts is not None
        assert col.categories is not None and col.counts is not None
        new = ~np.isin(col.categories, base.categories)
        present = col.rows - col.nulls
        share = float(col.counts[new].sum() / present) if present else 0.0
        if share > cfg.new_category_share:
            names = ", ".join(map(str, col.categories[new][:5]))
            out.append(Finding("categories", name, "new_category_share", cfg.new_category_share, round(share, 6),
                               True, f"{name}: {_pct(share)} of rows in {int(new.sum())} new categories ({names})"))
        common = base.counts / max(base.rows - base.nulls, 1) >= cfg.vanished_category_share
        gone = common & ~np.isin(base.categories, col.categories)
        if gone.any():
            names = ", ".join(map(str, base.categories[gone][:5]))
            out.append(Finding("categories", name, "vanished_categories", cfg.vanished_category_share,
                               int(gone.sum()), True,
                               f"{name}: {int(gone.sum())} common categories vanished ({names})"))
    return out


def _drift_findings(drift: DatasetDrift, cfg: FeedConfig) -> list[Finding]:
    out = []
    for d in drift.columns:
        if d.drifted:
            out.append(Finding("drift", d.column, d.method, d.threshold, finite(d.statistic),
                               cfg.block_on_column_drift, f"{d.column}: {d.method} {d.statistic:.4g} "
                               f"({'<' if d.method in ('ks', 'chisquare', 'z') else '≥'} {d.threshold})"))
    if drift.drifted:
        out.append(Finding("dataset_drift", None, "drifted_column_share", drift.drift_share, round(drift.share, 6),
                           True, f"{len(drift.drifted_columns)} of {len(drift.columns)} columns drifted "
                                 f"({_pct(drift.share)} ≥ {_pct(drift.drift_share)})"))
    return out


def _pairs(ref: Profile, batch: Batch, cfg: FeedConfig, rows: int) -> tuple[list[Finding], dict[str, Any]]:
    out, figures = [], {}
    for a, b in cfg.pairs:
        label = f"{a}:{b}"
        seen = ref.pairs.get((a, b))
        if seen is None or a not in batch or b not in batch:
            out.append(Finding("pairs", label, "unavailable", None, None, False,
                               f"pair {label}: not in the reference profile or the batch; set the reference again"))
            continue
        hashes = pair_hashes(batch[a], batch[b])
        unseen = ~np.isin(hashes, seen)
        share = float(unseen.mean()) if rows else 0.0
        figures[label] = {"new_pair_share": round(share, 6), "threshold": cfg.new_pair_share,
                          "rows": int(unseen.sum())}
        if share > cfg.new_pair_share:
            out.append(Finding("pairs", label, "new_pair_share", cfg.new_pair_share, round(share, 6), True,
                               f"{label}: {_pct(share)} of rows carry a pair never seen in the reference"))
    return out, figures


def _multivariate(ref: Profile, batch: Batch, cfg: FeedConfig) -> tuple[list[Finding], dict[str, Any] | None]:
    if not cfg.multivariate:
        return [], None
    model = ref.pca
    if model is None or any(c not in batch for c in (*model.numeric, *(n for n, _ in model.categorical))):
        return [Finding("multivariate", None, "unavailable", None, None, False,
                        "no PCA model for these columns in the reference; set the reference again")], None
    error, limit = model.batch_error(batch), model.limit
    figures = {"error": round(error, 6), "limit": round(limit, 6),
               "reference_error": round(float(model.chunk_errors.mean()), 6), "components": len(model.components)}
    if error <= limit:
        return [], figures
    return [Finding("multivariate", None, "pca_reconstruction_error", round(limit, 6), round(error, 6), True,
                    f"rows fit the reference's joint structure worse: PCA error {error:.4g}, "
                    f"held-out reference {float(model.chunk_errors.mean()):.4g}, limit {limit:.4g}")], figures


def reference_profile(batch: Batch, config: FeedConfig | None = None) -> Profile:
    """The reference profile `check` needs for this configuration (pairs, multivariate model)."""
    cfg = config or FeedConfig()
    columns = list(cfg.columns or [c for c in batch if c != cfg.key])  # the model leaves out id-like text itself
    return profile(batch, cfg.pairs, multivariate=columns if cfg.multivariate else None)


def _keys(batch: Batch, previous: Snapshot | None, cfg: FeedConfig) -> tuple[list[Finding], dict[str, Any] | None,
                                                                              Snapshot | None]:
    if cfg.key is None:
        return [], None, None
    if cfg.key not in batch:
        return [Finding("keys", cfg.key, "missing", None, None, True, f"key column {cfg.key!r} is missing")], \
            None, None
    attributes = [c for c in (cfg.attributes or batch) if c != cfg.key and c in batch]
    current = snapshot(batch, cfg.key, attributes)
    findings = []
    if current.duplicates:
        findings.append(Finding("keys", cfg.key, "duplicate_keys", 0, current.duplicates, False,
                                f"{current.duplicates} rows repeat a key; the last one counts"))
    if previous is None:
        return findings, {"previous": False}, current
    changes = compare(previous, current)
    limit, normal = churn_limit(previous.history, cfg)
    figures = {"previous": True, **changes, "limit": round(limit, 6), "normal_churn": round(normal, 6),
               "history": len(previous.history)}
    if changes["changed_share"] > limit:
        findings.append(Finding("keys", cfg.key, "changed_key_share", round(limit, 6), changes["changed_share"], True,
                                f"{_pct(changes['changed_share'])} of keys changed attributes since the previous "
                                f"batch; normal churn is {_pct(normal)}, the limit {_pct(limit)}"))
    history = (*previous.history, changes["changed_share"])[-cfg.churn_history:]
    return findings, figures, Snapshot(current.keys, current.hashes, history, current.duplicates)


def check(reference: Profile, batch: Batch, previous: Snapshot | None = None,
          config: FeedConfig | None = None, workers: int = 2) -> FeedVerdict:
    """Every check of `batch` against `reference` (and the previous accepted snapshot, for keyed feeds)."""
    cfg = config or FeedConfig()
    rows = batch_rows(batch)
    current = profile_columns(dict(batch), workers)
    skipped = identifiers(reference, cfg.key)  # an id's values are new in every batch: no drift to measure
    columns = cfg.columns or [c for c in reference.columns if c not in skipped]
    drift = dataset_drift(reference.columns, current, columns, cfg.drift_share, cfg.method,
                          cfg.method_threshold, workers)
    findings = [*_schema(reference, current), *_nulls(reference, current, cfg), *_ranges(reference, current, cfg),
                *_categories(reference, current, cfg), *_drift_findings(drift, cfg)]
    pair_findings, pair_figures = _pairs(reference, batch, cfg, rows)
    key_findings, key_figures, snap = _keys(batch, previous, cfg)
    pca_findings, pca_figures = _multivariate(reference, batch, cfg)
    findings += pair_findings + key_findings + pca_findings
    held = any(f.blocking for f in findings)
    if snap is not None and held and previous is not None:  # a held batch teaches nothing about churn
        snap = Snapshot(snap.keys, snap.hashes, previous.history, snap.duplicates)
    return FeedVerdict(rows, tuple(findings), drift, key_figures, pair_figures, pca_figures, snap)


def row_hashes(batch: Batch, columns: Sequence[str]) -> np.ndarray:
    return combine([column_hashes(batch[c]) for c in columns])
