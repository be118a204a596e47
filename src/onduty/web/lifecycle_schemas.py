"""API models of the lifecycle: severity changes, roles and clocks."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from onduty.domain.clocks import Clock
from onduty.domain.model import Directory
from onduty.domain.roles import Assignment


class SeverityIn(BaseModel):
    """The new severity and why."""

    model_config = ConfigDict(extra="forbid")
    severity: str = Field(description="sev1 … sev4", examples=["sev1"])
    reason: str = Field(min_length=1, max_length=4000)
    by: str | None = Field(None, max_length=120)


class RoleIn(BaseModel):
    """Give a role (responder, commander, communications_lead) to a person of the plan."""

    model_config = ConfigDict(extra="forbid")
    role: str = Field(examples=["commander"])
    person: str = Field(min_length=1, max_length=120, examples=["tomas"])
    by: str | None = Field(None, max_length=120)


class RoleOut(BaseModel):
    role: str
    person: str | None
    name: str | None
    source: str  # assigned or default
    assigned_by: str | None = None
    assigned_at: datetime | None = None

    @classmethod
    def of(cls, a: Assignment, directory: Directory) -> RoleOut:
        person = directory.people.get(a.person_id or "")
        return cls(role=a.role, person=a.person_id, name=person.name if person else None, source=a.source,
                   assigned_by=a.assigned_by, assigned_at=a.assigned_at)


class ClockOut(BaseModel):
    clock: str
    due: datetime
    state: str  # running, met, met_late, missed
    met_at: datetime | None
    seconds_left: float

    @classmethod
    def of(cls, clock: Clock, now: datetime) -> ClockOut:
        return cls(clock=clock.name, due=clock.due, state=clock.state, met_at=clock.met_at,
                   seconds_left=clock.left(now).total_seconds())


class EscalateIn(BaseModel):
    """Why the next level is paged now."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=4000, examples=["the on-call cannot reach the feature store"])
    by: str | None = Field(None, max_length=120)
