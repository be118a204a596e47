"""Metric points in: feed each to the plan's detectors of its service, keep their state, and raise or
resolve alerts through the normal pipeline — all in one transaction, so a point is counted once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from onduty.app.detectors import Series, run_detector, to_event
from onduty.app.ingest import apply_events
from onduty.app.ports import DetectorRow, NotFound, Transactions
from onduty.domain.detectors import DetectorSpec


@dataclass(frozen=True)
class MetricPoint:
    service: str
    name: str
    ts: datetime
    value: float
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DetectorReport:
    service: str
    detector: str
    kind: str
    status: str
    action: str | None = None  # "fire" or "resolve" when it changed
    incident_id: int | None = None


@dataclass(frozen=True)
class MetricsResult:
    points: int
    unused: int  # points no detector reads
    detectors: list[DetectorReport]


def _series(points: Sequence[MetricPoint]) -> dict[tuple[str, str], Series]:
    grouped: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for p in points:
        ts, values = grouped.setdefault((p.service, p.name), ([], []))
        ts.append(p.ts.timestamp())
        values.append(p.value)
    return {k: Series(np.asarray(ts, dtype=np.float64), np.asarray(v, dtype=np.float64))
            for k, (ts, v) in grouped.items()}


def ingest_metrics(txs: Transactions, points: Sequence[MetricPoint], now: datetime) -> MetricsResult:
    """Run every detector that reads any of the points; NotFound names a service not in the plan."""
    series = _series(points)
    with txs() as store:
        directory = store.directory()
        for service, _ in series:
            if service not in directory.services:
                raise NotFound(f"service {service!r} is not in the applied plan")
        specs = [spec for service in sorted({s for s, _ in series}) for spec in directory.detectors.get(service, ())
                 if any((service, name) in series for name in spec.metrics.values())]
        used = {(spec.service_id, name) for spec in specs for name in spec.metrics.values()}
        stored = store.detector_states([(spec.service_id, spec.id) for spec in specs])
        rows: list[DetectorRow] = []
        events = []
        fired: list[tuple[DetectorSpec, str | None]] = []
        for spec in specs:
            mine = {name: series[(spec.service_id, name)] for name in spec.metrics.values()
                    if (spec.service_id, name) in series}
            previous = stored.get((spec.service_id, spec.id))
            same_kind = previous is not None and previous.kind == spec.kind
            outcome = run_detector(spec, previous.state if same_kind and previous else None, mine)
            count = sum(s.ts.size for s in mine.values()) + (previous.points if same_kind and previous else 0)
            rows.append(DetectorRow(spec.service_id, spec.id, spec.kind, outcome.status, outcome.state, count, now))
            for transition in outcome.transitions:
                events.append((spec.service_id, to_event(spec, transition)))
                fired.append((spec, transition.action))
            if not outcome.transitions:
                fired.append((spec, None))
        store.save_detector_states(rows)
        results = apply_events(store, events, now) if events else []
    status = {(r.service_id, r.detector_id): r.status for r in rows}
    reports, i = [], 0
    for spec, action in fired:
        incident = None
        if action is not None:
            incident = results[i].incident_id
            i += 1
        reports.append(DetectorReport(spec.service_id, spec.id, spec.kind, status[(spec.service_id, spec.id)],
                                      action, incident))
    unused = sum(s.ts.size for key, s in series.items() if key not in used)
    return MetricsResult(len(points), unused, reports)
