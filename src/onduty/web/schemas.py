"""API response and request models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.severity import Severity


class IncidentOut(BaseModel):
    id: int
    title: str
    severity: str
    status: str
    service: str
    client: str
    created_at: datetime
    first_signal_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    mitigated_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalation_level: int
    type: str = "other"
    channel_link: str | None = None
    closed_at: datetime | None = None

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        assert incident.id is not None
        return cls(
            id=incident.id, title=incident.title, severity=Severity(incident.severity).label,
            status=incident.status, service=incident.service_id, client=incident.client_id,
            created_at=incident.created_at, first_signal_at=incident.first_signal_at,
            acknowledged_at=incident.acknowledged_at, acknowledged_by=incident.acknowledged_by,
            mitigated_at=incident.mitigated_at, resolved_at=incident.resolved_at,
            resolved_by=incident.resolved_by, escalation_level=incident.escalation_level + 1,
            type=incident.incident_type, channel_link=incident.channel_link, closed_at=incident.closed_at,
        )


class TimelineOut(BaseModel):
    at: datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any]

    @classmethod
    def of(cls, entry: TimelineEntry) -> TimelineOut:
        return cls(at=entry.at, kind=entry.kind, actor=entry.actor, message=entry.message, data=entry.data)


class ActionIn(BaseModel):
    """Who acts (a person's id or name) and an optional note for the timeline."""

    model_config = ConfigDict(extra="forbid")
    by: str | None = Field(None, max_length=120)
    note: str = Field("", max_length=4000)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10000)
    by: str | None = Field(None, max_length=120)


class OnCallPerson(BaseModel):
    person: str
    name: str
    via: str
    covering_for: str | None = None
    cover_reason: str | None = None


class OnCallLevel(BaseModel):
    level: int
    ack_timeout_minutes: float
    on_call: list[OnCallPerson]
    unreachable: list[str]


class OnCallOut(BaseModel):
    service: str
    client: str
    at: datetime
    levels: list[OnCallLevel]
