"""Compile the plan's `services[].detectors` into the domain's DetectorSpecs, grouped by service."""

from __future__ import annotations

from onduty.domain.detectors import ROLES, DetectorSpec
from onduty.plan import schema
from onduty.plan.detector_schema import DEFAULT_SEVERITY, DEFAULT_TYPE, Detector


def _spec(service_id: str, d: Detector) -> DetectorSpec:
    params: dict[str, float | bool | None] = {
        "drop": d.drop, "false_alarms_per_30d": d.false_alarms_per_30d, "step_s": d.step.total_seconds(),
        "seasonal": d.seasonal, "weeks": float(d.weeks), "target": d.target,
        "reference_size": float(d.reference_size), "window": float(d.window), "threshold": d.threshold,
    }
    return DetectorSpec(
        id=d.id, service_id=service_id, kind=d.kind,
        metrics={role: str(getattr(d, role)) for role in ROLES[d.kind]}, params=params,
        severity=d.severity or DEFAULT_SEVERITY[d.kind], ticket_severity=d.ticket_severity,
        incident_type=d.type or DEFAULT_TYPE[d.kind],
    )


def detector_specs(plan: schema.Plan) -> dict[str, tuple[DetectorSpec, ...]]:
    return {s.id: tuple(_spec(s.id, d) for d in s.detectors) for s in plan.services if s.detectors}
