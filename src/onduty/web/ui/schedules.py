"""Schedules in the console: a week grid per schedule with overrides and gaps, and the override form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onduty.app.ports import NotFound
from onduty.app.schedules import (
    OverrideRequest,
    clients_of_schedule,
    coverage_gaps,
    create_override,
    schedule_or_404,
    schedule_shifts,
)
from onduty.domain.model import Directory, Schedule
from onduty.domain.schedules import Shift, wall_instant
from onduty.web.ui.render import page
from onduty.web.ui.session import Acting, PageError, SignedIn, check_csrf

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Segment:
    """A piece of one day's bar: where it sits (percent of the day) and what it is, in words."""

    left: float
    width: float
    kind: str  # shift, cover, override, gap
    label: str
    detail: str


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _segments(shift_list: list[Shift], day_start: datetime, day_end: datetime, directory: Directory,
              zone: ZoneInfo) -> list[Segment]:
    span = (day_end - day_start).total_seconds()
    out = []
    for s in shift_list:
        start, end = max(s.start, day_start), min(s.end, day_end)
        if end <= start:
            continue
        who = directory.people.get(s.person_id or "")
        name = who.name if who else (s.person_id or "")
        when = f"{start.astimezone(zone):%H:%M}-{end.astimezone(zone):%H:%M}"
        if s.person_id is None:
            kind, label, detail = "gap", "Gap: nobody on call", f"{when} {s.gap_reason or ''}".strip()
        elif s.override_id is not None:
            kind, label, detail = "override", f"{name} (override)", f"{when} {s.cover_reason or ''}".strip()
        elif s.covering_for is not None:
            kind, label, detail = "cover", f"{name} (cover)", f"{when} for {s.covering_for}: {s.cover_reason}"
        else:
            kind, label, detail = "shift", name, f"{when} {s.layer or ''}".strip()
        out.append(Segment(round((start - day_start).total_seconds() / span * 100, 3),
                           round((end - start).total_seconds() / span * 100, 3), kind, label, detail))
    return out


@router.get("/schedules", response_class=HTMLResponse)
def schedule_list(request: Request, person: SignedIn) -> Response:
    with request.app.state.container.db.transaction() as store:
        directory = store.directory()
    served = clients_of_schedule(directory)
    items = [(s, sorted(directory.clients[c].name for c in served.get(s.id, ()) if c in directory.clients))
             for s in sorted(directory.schedules.values(), key=lambda s: s.name)]
    return page(request, "schedules.html", {"person": person, "items": items})


def _week_context(request: Request, schedule_id: str, week: str | None) -> dict[str, Any]:
    container = request.app.state.container
    now = container.clock.now()
    with container.db.transaction() as store:
        directory = store.directory()
        try:
            schedule: Schedule = schedule_or_404(directory, schedule_id)
        except NotFound as exc:
            raise PageError(404, str(exc)) from None
        zone = ZoneInfo(schedule.time_zone)
        try:
            first = _monday(date.fromisoformat(week) if week else now.astimezone(zone).date())
        except ValueError:
            raise PageError(400, f"week must be a date like 2026-11-16; got {week!r}") from None
        edges = [wall_instant(datetime.combine(first + timedelta(days=d), datetime.min.time()), zone)
                 for d in range(8)]
        found = schedule_shifts(store, schedule_id, edges[0], edges[-1])
        overrides = store.overrides(schedule_id, edges[0], edges[-1])
        gaps = [g for g in coverage_gaps(store, edges[0], edges[-1]) if g.schedule_id == schedule_id]
    days = [((first + timedelta(days=d)), _segments(found, edges[d], edges[d + 1], directory, zone))
            for d in range(7)]
    people = sorted(directory.people.values(), key=lambda p: p.name)
    return {"schedule": schedule, "days": days, "overrides": overrides, "gaps": gaps, "people": people,
            "week": first, "prev": first - timedelta(days=7), "next": first + timedelta(days=7),
            "zone": schedule.time_zone, "now": now, "names": {p.id: p.name for p in people}}


@router.get("/schedules/{schedule_id}", response_class=HTMLResponse)
def schedule_week(request: Request, schedule_id: str, person: SignedIn, week: str | None = None) -> Response:
    return page(request, "schedule_week.html", {"person": person, "form": {}, "error": "",
                                                **_week_context(request, schedule_id, week)})


def _local(text: str, zone: str, field: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a date and time like 2026-11-21T18:00") from None
    return when if when.tzinfo else wall_instant(when, ZoneInfo(zone))


@router.post("/schedules/{schedule_id}/overrides", response_class=HTMLResponse)
def add_override(
    request: Request, schedule_id: str, person: Acting,
    who: Annotated[str, Form(max_length=64)], start: Annotated[str, Form(max_length=40)],
    end: Annotated[str, Form(max_length=40)], replaces: Annotated[str, Form(max_length=64)] = "",
    reason: Annotated[str, Form(max_length=500)] = "", csrf: Annotated[str, Form()] = "", week: str = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    with container.db.transaction() as store:
        schedule = store.directory().schedules.get(schedule_id)
    if schedule is None:
        raise PageError(404, f"schedule {schedule_id!r} not found")
    form = {"who": who, "start": start, "end": end, "replaces": replaces, "reason": reason}
    try:
        begins = _local(start, schedule.time_zone, "start")
        override = create_override(container.db, OverrideRequest(
            schedule_id, who, begins, _local(end, schedule.time_zone, "end"), replaces or None,
            reason.strip() or "override"), person.name, container.clock.now())
    except ValueError as exc:
        context = _week_context(request, schedule_id, week or None)
        return page(request, "schedule_week.html", {"person": person, "form": form, "error": str(exc), **context},
                    400)
    shown = override.start.astimezone(ZoneInfo(schedule.time_zone)).date()
    return RedirectResponse(f"/schedules/{schedule_id}?week={_monday(shown).isoformat()}", 303)
