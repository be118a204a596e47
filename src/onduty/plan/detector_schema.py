"""The plan's `services[].detectors` entries: kind, the metrics that feed it, thresholds (defaults
documented on each field), and the alert's severity and incident type."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from onduty.domain.detectors import ROLES

EventSeverity = Literal["critical", "error", "warning", "info"]
IncidentType = Literal["model_degradation", "pipeline_failure", "api_availability", "security", "other"]


def _duration(value: object) -> timedelta:
    from onduty.plan.schema import parse_duration

    return parse_duration(value)


def _format(value: timedelta) -> str:
    from onduty.plan.schema import format_duration

    return format_duration(value)


Step = Annotated[timedelta, BeforeValidator(_duration), PlainSerializer(_format, when_used="json")]
DEFAULT_TYPE = {"kpi": "other", "relevance": "model_degradation", "slo": "api_availability",
                "output_drift": "model_degradation"}
DEFAULT_SEVERITY = {"kpi": "error", "relevance": "critical", "slo": "critical", "output_drift": "warning"}


class Detector(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    kind: Literal["kpi", "relevance", "slo", "output_drift"]
    successes: str | None = Field(None, description="kpi/relevance: metric counting successes (orders, matching recs)")
    trials: str | None = Field(None, description="kpi/relevance: metric counting trials (sessions, recs shown)")
    bad: str | None = Field(None, description="slo: metric counting bad events (errors, requests over the latency)")
    total: str | None = Field(None, description="slo: metric counting all events")
    metric: str | None = Field(None, description="output_drift: metric whose values are prediction scores")
    drop: float | None = Field(None, gt=0, lt=1, description="kpi: 0.15, relevance: 0.2 (relative drop tuned for)")
    false_alarms_per_30d: float = Field(0.1, gt=0, le=30, description="kpi/relevance: false-alarm budget")
    step: Step = Field(timedelta(minutes=1), description="kpi/relevance: bucket length (e.g. 1m)")
    seasonal: bool = Field(True, description="kpi: baseline by hour of week; false: one flat baseline")
    weeks: int = Field(4, ge=1, le=12, description="kpi: weeks of history behind the seasonal baseline")
    target: float = Field(0.999, gt=0, lt=1, description="slo: objective, e.g. 0.999 over 30 days")
    reference_size: int = Field(2000, ge=50, le=20000, description="output_drift: scores in the reference")
    window: int = Field(500, ge=20, le=20000, description="output_drift: scores per comparison")
    threshold: float | None = Field(None, gt=0, description="output_drift: KS p-value 0.05 / Wasserstein 0.1")
    severity: EventSeverity | None = Field(None, description="alert severity word; default by kind")
    ticket_severity: EventSeverity = Field("warning", description="slo: severity of the 1x/3d ticket alert")
    type: IncidentType | None = Field(None, description="incident type; default by kind")

    @model_validator(mode="after")
    def _metrics_named(self) -> Detector:
        missing = [role for role in ROLES[self.kind] if getattr(self, role) is None]
        if missing:
            raise ValueError(f"a {self.kind} detector needs {' and '.join(missing)} (metric names)")
        extra = [role for roles in ROLES.values() for role in roles
                 if role not in ROLES[self.kind] and getattr(self, role) is not None]
        if extra:
            raise ValueError(f"a {self.kind} detector does not read {', '.join(sorted(set(extra)))}")
        if self.step < timedelta(seconds=1):
            raise ValueError("step must be at least 1s")
        return self
