"""API models for alerts, silences, changes and heartbeats, and the incident's full view."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onduty.domain.alerts import Alert
from onduty.domain.changes import Change
from onduty.domain.suppression import Silence
from onduty.web.lifecycle_schemas import ClockOut, RoleOut
from onduty.web.schemas import IncidentOut


class AlertOut(BaseModel):
    id: int
    service: str
    key: str
    status: str
    summary: str
    source: str
    severity: str
    incident_id: int | None
    occurrences: int
    created_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    first_signal_at: datetime | None
    suppressed_by: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    custom_details: Any
    links: list[dict[str, str]]
    images: list[dict[str, str]]
    details: dict[str, Any]

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        assert alert.id is not None
        d = alert.details or {}
        return cls(
            id=alert.id, service=alert.service_id, key=alert.dedup_key, status=alert.status, summary=alert.summary,
            source=alert.source, severity=alert.severity, incident_id=alert.incident_id,
            occurrences=alert.occurrences, created_at=alert.created_at, last_seen_at=alert.updated_at,
            resolved_at=alert.resolved_at, first_signal_at=alert.first_signal_at,
            suppressed_by=d.get("suppressed_by"), labels=d.get("labels", {}), annotations=d.get("annotations", {}),
            custom_details=d.get("custom_details", {}), links=d.get("links", []), images=d.get("images", []),
            details=d,
        )


class ChangeOut(BaseModel):
    id: int
    service: str
    summary: str
    source: str
    occurred_at: datetime
    received_at: datetime
    details: dict[str, Any]
    links: list[dict[str, str]]

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        assert change.id is not None
        return cls(id=change.id, service=change.service_id, summary=change.summary, source=change.source,
                   occurred_at=change.occurred_at, received_at=change.received_at, details=change.details,
                   links=change.links)


class AffectedService(BaseModel):
    service: str
    reason: str  # origin, inhibit
    added_at: datetime


class IncidentDetailOut(IncidentOut):
    """One incident with its alerts, every service it affects, and the recent changes around it."""

    affected_services: list[AffectedService]
    alerts: list[AlertOut]
    recent_changes: list[ChangeOut]
    roles: list[RoleOut] = Field(default_factory=list)
    clocks: list[ClockOut] = Field(default_factory=list)


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: list[str] = Field(default_factory=list, description='e.g. ["alertname=\\"DiskFull\\"", "env!=dev"]')
    service: str | None = None
    starts_at: datetime | None = Field(None, description="default: now")
    ends_at: datetime
    created_by: str = Field(min_length=1, max_length=120)
    comment: str = Field(min_length=1, max_length=4000)


class SilenceOut(BaseModel):
    id: int
    matchers: list[str]
    service: str | None
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    state: str
    expired_at: datetime | None

    @classmethod
    def of(cls, silence: Silence, now: datetime) -> SilenceOut:
        assert silence.id is not None
        return cls(id=silence.id, matchers=[str(m) for m in silence.matchers], service=silence.service_id,
                   starts_at=silence.start, ends_at=silence.end, created_by=silence.created_by,
                   comment=silence.comment, state=silence.state(now), expired_at=silence.expired_at)
