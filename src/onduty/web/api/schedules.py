"""Schedules: list, shifts (overrides included), coverage gaps, overrides and swaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from onduty.app.ports import ApiKey, NotFound
from onduty.app.schedules import (
    OverrideRequest,
    clients_of_schedule,
    coverage_gaps,
    create_override,
    delete_override,
    schedule_shifts,
    swap_shifts,
)
from onduty.domain.model import Override
from onduty.domain.schedules import Shift
from onduty.web.auth import Responder, Viewer

router = APIRouter(prefix="/api/v1", tags=["schedules"])
MAX_RANGE = timedelta(days=366)


class ShiftOut(BaseModel):
    start: datetime
    end: datetime
    person: str | None
    layer: str | None
    covering_for: str | None
    cover_reason: str | None
    override_id: int | None
    gap_reason: str | None

    @classmethod
    def of(cls, s: Shift) -> ShiftOut:
        return cls(start=s.start, end=s.end, person=s.person_id, layer=s.layer, covering_for=s.covering_for,
                   cover_reason=s.cover_reason, override_id=s.override_id, gap_reason=s.gap_reason)


class OverrideOut(BaseModel):
    id: int | None
    schedule: str
    person: str
    replaces: str | None
    start: datetime
    end: datetime
    reason: str
    created_by: str

    @classmethod
    def of(cls, o: Override) -> OverrideOut:
        return cls(id=o.id, schedule=o.schedule_id, person=o.person_id, replaces=o.replaces, start=o.start,
                   end=o.end, reason=o.reason, created_by=o.created_by)


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: str = Field(description="who takes the on-call time")
    start: datetime
    end: datetime
    replaces: str | None = Field(None, description="only cover this person's time")
    reason: str = Field("override", max_length=500)
    by: str | None = Field(None, max_length=120)


class SwapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shift_at: datetime = Field(description="a time inside the first shift")
    with_shift_at: datetime = Field(description="a time inside the other person's shift")
    by: str | None = Field(None, max_length=120)


class ScheduleOut(BaseModel):
    id: str
    name: str
    time_zone: str
    layers: list[dict[str, object]]
    clients: list[str]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _range(request: Request, start: datetime | None, end: datetime | None, days: int) -> tuple[datetime, datetime]:
    lo = _aware(start) if start else request.app.state.container.clock.now()
    hi = _aware(end) if end else lo + timedelta(days=days)
    if hi <= lo or hi - lo > MAX_RANGE:
        raise HTTPException(400, "`to` must come after `from`, at most 366 days later")
    return lo, hi


def _visible(request: Request, key: ApiKey) -> dict[str, set[str]]:
    with request.app.state.container.db.transaction() as store:
        served = clients_of_schedule(store.directory())
    return {s: c for s, c in served.items() if key.client_id is None or key.client_id in c}


def _actor(key: ApiKey, by: str | None) -> str:
    return by or f"api ({key.role} key)"


@router.get("/schedules", response_model=list[ScheduleOut])
def list_schedules(request: Request, key: Viewer) -> list[ScheduleOut]:
    visible = _visible(request, key)
    with request.app.state.container.db.transaction() as store:
        schedules = store.directory().schedules
    return [
        ScheduleOut(id=s.id, name=s.name, time_zone=s.time_zone, clients=sorted(visible[s.id]),
                    layers=[{"name": layer.name, "members": list(layer.members)} for layer in s.layers])
        for s in schedules.values() if s.id in visible
    ]


@router.get("/schedules/{schedule_id}/shifts", response_model=list[ShiftOut])
def shifts(request: Request, schedule_id: str, key: Viewer,
           start: Annotated[datetime | None, Query(alias="from")] = None,
           end: Annotated[datetime | None, Query(alias="to")] = None,
           days: Annotated[int, Query(ge=1, le=366)] = 7) -> list[ShiftOut]:
    """Who holds the schedule over a range (default: the next 7 days); gaps have `person` null."""
    lo, hi = _range(request, start, end, days)
    try:
        with request.app.state.container.db.transaction() as store:
            return [ShiftOut.of(s) for s in schedule_shifts(store, schedule_id, lo, hi, key.client_id)]
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/gaps")
def gaps(request: Request, key: Viewer, days: Annotated[int, Query(ge=1, le=366)] = 30) -> list[dict[str, object]]:
    """Spans inside clients' coverage hours with nobody eligible to page, over the next `days`."""
    lo, hi = _range(request, None, None, days)
    with request.app.state.container.db.transaction() as store:
        found = coverage_gaps(store, lo, hi, key.client_id)
    return [{"schedule": g.schedule_id, "start": g.start, "end": g.end, "reason": g.reason} for g in found]


@router.get("/schedules/{schedule_id}/overrides", response_model=list[OverrideOut])
def list_overrides(request: Request, schedule_id: str, key: Viewer,
                   days: Annotated[int, Query(ge=1, le=366)] = 30) -> list[OverrideOut]:
    if schedule_id not in _visible(request, key):
        raise HTTPException(404, f"schedule {schedule_id!r} not found")
    lo, hi = _range(request, None, None, days)
    with request.app.state.container.db.transaction() as store:
        return [OverrideOut.of(o) for o in store.overrides(schedule_id, lo, hi)]


@router.post("/schedules/{schedule_id}/overrides", response_model=OverrideOut, status_code=201)
def add_override(request: Request, schedule_id: str, key: Responder, body: OverrideIn) -> OverrideOut:
    container = request.app.state.container
    wanted = OverrideRequest(schedule_id, body.person, _aware(body.start), _aware(body.end), body.replaces,
                             body.reason)
    try:
        made = create_override(container.db, wanted, _actor(key, body.by), container.clock.now(), key.client_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return OverrideOut.of(made)


@router.delete("/schedules/{schedule_id}/overrides/{override_id}", status_code=204)
def remove_override(request: Request, schedule_id: str, override_id: int, key: Responder) -> Response:
    container = request.app.state.container
    try:
        delete_override(container.db, schedule_id, override_id, _actor(key, None), container.clock.now(),
                        key.client_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(status_code=204)


@router.post("/schedules/{schedule_id}/swaps", response_model=list[OverrideOut], status_code=201)
def swap(request: Request, schedule_id: str, key: Responder, body: SwapIn) -> list[OverrideOut]:
    """Two people trade the shifts holding `shift_at` and `with_shift_at`."""
    container = request.app.state.container
    try:
        made = swap_shifts(container.db, schedule_id, _aware(body.shift_at), _aware(body.with_shift_at),
                           _actor(key, body.by), container.clock.now(), key.client_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return [OverrideOut.of(o) for o in made]
