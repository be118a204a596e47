"""Model output checks: drift of the prediction-score distribution against a reference window, with
the tests and thresholds Evidently picks for a numeric column (KS up to 1,000 reference values, else
the Wasserstein distance normalised by the reference's standard deviation), and the relevance monitor's
configuration (a flat-baseline binomial CUSUM on matching / shown recommendations, see kpi.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from onduty.detect.cusum import Array
from onduty.detect.kpi import RateConfig, Transition

KS_MAX_REFERENCE = 1000
KS_P_VALUE = 0.05
WASSERSTEIN_NORMED = 0.1


def relevance_config(drop: float = 0.2, false_alarms_per_30d: float = 0.1, step_s: float = 60.0) -> RateConfig:
    """Relevance: one flat baseline over the last 24 hours (no season), learnt after 1,000 recommendations."""
    return RateConfig(drop=drop, false_alarms_per_30d=false_alarms_per_30d, step_s=step_s, slot_s=3600.0,
                      slots=1, periods=24, pool=0, min_trials=1000.0, min_periods=1)


@dataclass(frozen=True)
class Drift:
    method: str  # "ks" or "wasserstein_normed"
    statistic: float  # the p-value for KS, the normalised distance for Wasserstein
    threshold: float
    drifted: bool

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "statistic": round(self.statistic, 6), "threshold": self.threshold,
                "drifted": self.drifted}


def wasserstein_normed(reference: Array, current: Array) -> float:
    """W1 between the two samples (exact, by their quantile functions) over the reference's std."""
    a, b = np.sort(reference), np.sort(current)
    grid = np.union1d(np.linspace(0, 1, a.size + 1), np.linspace(0, 1, b.size + 1))
    qa = a[np.minimum((grid[:-1] * a.size).astype(np.int64), a.size - 1)]
    qb = b[np.minimum((grid[:-1] * b.size).astype(np.int64), b.size - 1)]
    distance = float(np.sum(np.abs(qa - qb) * np.diff(grid)))
    std = float(np.std(reference))
    return distance / std if std > 0 else (0.0 if distance == 0 else float("inf"))


def score_drift(reference: Array, current: Array, threshold: float | None = None) -> Drift:
    """Has the score distribution moved? KS (p < 0.05) for small references, Wasserstein above."""
    if reference.size <= KS_MAX_REFERENCE:
        limit = KS_P_VALUE if threshold is None else threshold
        from scipy import stats  # imported when first needed: it is slow to load

        p_value = float(stats.ks_2samp(reference, current).pvalue)
        return Drift("ks", p_value, limit, p_value < limit)
    limit = WASSERSTEIN_NORMED if threshold is None else threshold
    distance = wasserstein_normed(reference, current)
    return Drift("wasserstein_normed", distance, limit, distance >= limit)


@dataclass(frozen=True)
class OutputDriftConfig:
    reference_size: int = 2000  # the first scores seen become the reference
    window: int = 500  # each full window of new scores is compared with it
    threshold: float | None = None  # default: 0.05 (KS p-value) or 0.1 (normalised Wasserstein)


@dataclass
class OutputDriftState:
    reference: list[float]
    current: list[float]
    drifted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "current": self.current, "drifted": self.drifted}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OutputDriftState:
        return cls(list(data["reference"]), list(data["current"]), bool(data["drifted"]))


def update_output_drift(state: OutputDriftState, config: OutputDriftConfig, ts: Array,
                        scores: Array) -> list[Transition]:
    """Fill the reference, then test every full window of scores; fire on drift, resolve when it ends."""
    order = np.argsort(ts, kind="stable")
    ts, scores = ts[order], scores[order]
    transitions = []
    i = 0
    need = config.reference_size - len(state.reference)
    if need > 0:
        state.reference.extend(scores[:need].tolist())
        i = min(need, scores.size)
    while i < scores.size:
        take = min(config.window - len(state.current), scores.size - i)
        state.current.extend(scores[i:i + take].tolist())
        i += take
        if len(state.current) < config.window:
            break
        result = score_drift(np.asarray(state.reference), np.asarray(state.current), config.threshold)
        if result.drifted != state.drifted:
            state.drifted = result.drifted
            ref, cur = np.asarray(state.reference), np.asarray(state.current)
            transitions.append(Transition("fire" if result.drifted else "resolve", float(ts[i - 1]), {
                **result.as_dict(), "reference": _summary(ref), "window": _summary(cur)}))
        state.current = []
    return transitions


def _summary(values: Array) -> dict[str, float]:
    q = np.quantile(values, [0.1, 0.5, 0.9])
    return {"n": int(values.size), "mean": round(float(values.mean()), 5), "p10": round(float(q[0]), 5),
            "p50": round(float(q[1]), 5), "p90": round(float(q[2]), 5)}
