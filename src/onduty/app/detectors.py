"""Run one detector of the plan over metric points: its configuration from the spec, its state from
JSON, the pure arithmetic from `onduty.detect`, and each transition as an alert event with evidence."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from onduty.detect import kpi, outputs, slo
from onduty.detect.cusum import Array
from onduty.detect.kpi import Transition
from onduty.domain.alerts import AlertEvent
from onduty.domain.detectors import DetectorSpec


@dataclass(frozen=True)
class Series:
    """One service's points of one metric: epoch seconds and values."""

    ts: Array
    values: Array


@dataclass
class Outcome:
    state: dict[str, Any]
    status: str  # learning, ok, firing
    transitions: list[Transition]


def _param(spec: DetectorSpec, name: str, default: float) -> float:
    value = spec.params.get(name)
    return default if value is None else float(value)


def rate_config(spec: DetectorSpec) -> kpi.RateConfig:
    step = _param(spec, "step_s", 60.0)
    alarms = _param(spec, "false_alarms_per_30d", 0.1)
    if spec.kind == "relevance":
        return outputs.relevance_config(_param(spec, "drop", 0.2), alarms, step)
    seasonal = spec.params.get("seasonal", True) is not False
    return kpi.RateConfig(drop=_param(spec, "drop", 0.15), false_alarms_per_30d=alarms, step_s=step,
                          slots=168 if seasonal else 1, periods=int(_param(spec, "weeks", 4)) if seasonal else 24 * 7,
                          pool=1 if seasonal else 0, min_periods=2 if seasonal else 24)


def _pair(a: Series | None, b: Series | None) -> tuple[Array, Array, Array]:
    """Two metrics' points as one stream: (ts, first's values or 0, second's values or 0)."""
    empty = Series(np.zeros(0), np.zeros(0))
    a, b = a or empty, b or empty
    ts = np.concatenate([a.ts, b.ts])
    return ts, np.concatenate([a.values, np.zeros(b.ts.size)]), np.concatenate([np.zeros(a.ts.size), b.values])


def run_rate(spec: DetectorSpec, stored: dict[str, Any] | None, series: dict[str, Series]) -> Outcome:
    config = rate_config(spec)
    state = kpi.RateState.from_json(stored, config) if stored else kpi.RateState.new(config)
    ts, x, n = _pair(series.get(spec.metrics["successes"]), series.get(spec.metrics["trials"]))
    transitions = kpi.update(state, config, ts, x, n)
    status = "firing" if state.firing else ("ok" if state.h > 0 else "learning")
    return Outcome(state.to_json(), status, transitions)


def run_slo(spec: DetectorSpec, stored: dict[str, Any] | None, series: dict[str, Series]) -> Outcome:
    config = slo.SloConfig(target=_param(spec, "target", 0.999))
    state = slo.SloState.from_json(stored, config) if stored else slo.SloState.new(config)
    ts, bad, total = _pair(series.get(spec.metrics["bad"]), series.get(spec.metrics["total"]))
    transitions = slo.update(state, config, ts, bad, total)
    return Outcome(state.to_json(), "firing" if any(state.firing.values()) else "ok", transitions)


def run_output_drift(spec: DetectorSpec, stored: dict[str, Any] | None, series: dict[str, Series]) -> Outcome:
    threshold = spec.params.get("threshold")
    config = outputs.OutputDriftConfig(int(_param(spec, "reference_size", 2000)), int(_param(spec, "window", 500)),
                                       None if threshold is None else float(threshold))
    state = outputs.OutputDriftState.from_json(stored) if stored else outputs.OutputDriftState([], [])
    scores = series.get(spec.metrics["metric"]) or Series(np.zeros(0), np.zeros(0))
    transitions = outputs.update_output_drift(state, config, scores.ts, scores.values)
    learning = len(state.reference) < config.reference_size
    return Outcome(state.to_json(), "firing" if state.drifted else ("learning" if learning else "ok"), transitions)


RUNNERS: dict[str, Callable[[DetectorSpec, dict[str, Any] | None, dict[str, Series]], Outcome]] = {
    "kpi": run_rate, "relevance": run_rate, "slo": run_slo, "output_drift": run_output_drift,
}


def run_detector(spec: DetectorSpec, stored: dict[str, Any] | None, series: dict[str, Series]) -> Outcome:
    return RUNNERS[spec.kind](spec, stored, series)


def _when(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return "?"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _rate(spec: DetectorSpec, value: Any) -> str:
    if not isinstance(value, float | int):
        return "?"
    return f"{value:.2f}" if spec.kind == "relevance" else f"{value:.2%}"


def summary(spec: DetectorSpec, transition: Transition) -> str:
    e = transition.evidence
    if spec.kind in ("kpi", "relevance"):
        what = "Recommendation relevance" if spec.kind == "relevance" else \
            f"{spec.id} ({spec.metrics['successes']}/{spec.metrics['trials']})"
        window = e.get("window", {})
        change = e.get("change")
        drop = f" ({change:+.0%})" if isinstance(change, float) else ""
        return (f"{what} {_rate(spec, window.get('rate'))} vs baseline {_rate(spec, e.get('baseline'))}{drop} "
                f"on {spec.service_id} since {_when(window.get('start'))}: "
                f"CUSUM {e['statistic']:.1f} > threshold {e['threshold']:.1f}")
    if spec.kind == "slo":
        burns = ", ".join(f"{w} {v['burn_rate']:g}x" for w, v in e["burn_rates"].items())
        return f"SLO {spec.id} on {spec.service_id} burning its error budget ({e['level']}): {burns}"
    return (f"Score distribution of {spec.metrics['metric']} on {spec.service_id} drifted: "
            f"{e['method']} {e['statistic']:.4g} (threshold {e['threshold']:g})")


def metric_name(spec: DetectorSpec) -> str:
    """What a rate detector's series is called on charts: relevance, or the detector's own name."""
    return "relevance" if spec.kind == "relevance" else spec.id


def _evidence(spec: DetectorSpec, transition: Transition) -> dict[str, Any]:
    """The transition's evidence; a rate detector's series is named, with the ratio its values are."""
    if "points" not in transition.evidence:
        return transition.evidence
    ratio = f"{spec.metrics['successes']} / {spec.metrics['trials']}"
    return {"metric": metric_name(spec), "ratio": ratio, **transition.evidence}


def to_event(spec: DetectorSpec, transition: Transition) -> AlertEvent:
    """A detector's fire or resolve as an alert event carrying the evidence (with the recent series of a
    rate detector: at most `RateConfig.recent` points of [start, rate, expected rate])."""
    level = transition.evidence.get("level") if spec.kind == "slo" else None
    key = spec.dedup_key(str(level) if level else None)
    at = datetime.fromtimestamp(transition.at, UTC)
    source = f"onduty detector {spec.id}"
    if transition.action == "resolve":
        return AlertEvent(action="resolve", dedup_key=key, source=source, timestamp=at,
                          custom_details={"evidence": _evidence(spec, transition)}, labels=spec.labels())
    severity = spec.ticket_severity if level == "ticket" else spec.severity
    onset = transition.evidence.get("window", {}).get("start", -1.0)
    if onset >= 0:  # the first abnormal signal: where the statistic last left zero
        at = datetime.fromtimestamp(onset, UTC)
    return AlertEvent(
        action="trigger", dedup_key=key, summary=summary(spec, transition), source=source, severity=severity,
        timestamp=at, component=spec.service_id, event_class=spec.incident_type, group=spec.dedup_key(),
        custom_details={"detector": spec.id, "kind": spec.kind, "metrics": dict(spec.metrics),
                        "evidence": _evidence(spec, transition)},
        labels=spec.labels(),
    )
