"""Detectors of the plan (KPI, relevance, SLO burn rate, output drift): which metrics feed each, its
thresholds, and the alert it raises. The arithmetic lives in `onduty.detect`; this is configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

DETECTOR_KINDS = ("kpi", "relevance", "slo", "output_drift")
# which metric each role of a kind reads
ROLES: Mapping[str, tuple[str, ...]] = {
    "kpi": ("successes", "trials"), "relevance": ("successes", "trials"),
    "slo": ("bad", "total"), "output_drift": ("metric",),
}


@dataclass(frozen=True)
class DetectorSpec:
    id: str
    service_id: str
    kind: str
    metrics: Mapping[str, str]  # role → metric name
    params: Mapping[str, float | bool | None] = field(default_factory=dict)
    severity: str = "error"  # the event severity word of the alert (a page for an SLO)
    ticket_severity: str = "warning"  # an SLO's ticket-level alert
    incident_type: str = "other"

    def dedup_key(self, level: str | None = None) -> str:
        return f"detector/{self.id}" + (f"/{level}" if level else "")

    def labels(self) -> dict[str, str]:
        return {"detector": self.id, "detector_kind": self.kind, "incident_type": self.incident_type}

    def reads(self, metric: str) -> bool:
        return metric in self.metrics.values()
