"""The responder console: Now, the incident list, an incident's page with its actions, and live fragments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onduty.app.changes import changes_around
from onduty.app.comms import communications
from onduty.app.incidents import add_note, change_status, clocks_for
from onduty.app.oncall import oncall_for_service
from onduty.app.ports import IncidentFilter, NotFound, Store
from onduty.app.schedules import coverage_gaps
from onduty.domain.comms import KIND_NAMES
from onduty.domain.incidents import STATUSES as ALL_STATUSES
from onduty.domain.incidents import IllegalTransition, Incident, Status
from onduty.domain.model import Directory
from onduty.domain.severity import Severity
from onduty.web.alerting_schemas import AlertOut
from onduty.web.ui.command import command_context
from onduty.web.ui.composer import composer, default_kind, kind_from
from onduty.web.ui.metric_chart import chart_for
from onduty.web.ui.playbook import playbook_for, step_state
from onduty.web.ui.render import allowed_actions, clock_view, page
from onduty.web.ui.reviews import has_review
from onduty.web.ui.session import Acting, PageError, Person, SignedIn, check_csrf

router = APIRouter(include_in_schema=False)
NOW_CLOCKS = ("acknowledge", "first_notice", "next_update")
GAP_HORIZON = timedelta(days=7)
STATUSES = ("open", *ALL_STATUSES)
DONE_STATUSES = ("resolved", "monitoring", "closed")


@dataclass(frozen=True)
class Row:
    """An incident as a list shows it: with its client, service, zone and clocks."""

    incident: Incident
    client: str
    service: str
    zone: str
    clocks: list[Any]


def _row(directory: Directory, store: Store, incident: Incident, now: datetime,
         names: Sequence[str] | None = None) -> Row:
    assert incident.id is not None
    client = directory.clients.get(incident.client_id)
    service = directory.services.get(incident.service_id)
    zone = client.time_zone if client else "UTC"
    found = clocks_for(directory, incident, store.timeline(incident.id), now)
    clocks = [clock_view(c, now, zone, incident.is_open) for c in found if names is None or c.name in names]
    return Row(incident, client.name if client else incident.client_id, service.name if service else
               incident.service_id, zone, clocks)


def _oncall_now(directory: Directory, store: Store, now: datetime) -> list[dict[str, Any]]:
    """Per client: who answers the first page of each of its services right now."""
    overrides = store.overrides(None, now, now + timedelta(seconds=1))
    out = []
    for client in sorted(directory.clients.values(), key=lambda c: c.name):
        rows = []
        for service in sorted((s for s in directory.services.values() if s.client_id == client.id),
                              key=lambda s: s.name):
            levels = oncall_for_service(directory, service.id, now, overrides=overrides)
            first = levels[0] if levels else None
            people = [(directory.people[r.person_id].name, r.target.id, r.covering_for) for r in
                      (first.recipients if first else [])]
            rows.append({"service": service.name, "people": people,
                         "unreachable": [u.reason for u in (first.unreachable if first else [])]})
        out.append({"client": client.name, "zone": client.time_zone, "services": rows})
    return out


@router.get("/", response_class=HTMLResponse)
def now_page(request: Request, person: SignedIn) -> Response:
    return page(request, "now.html", {"person": person, **_now_context(request)})


@router.get("/live/now", response_class=HTMLResponse)
def now_live(request: Request, person: SignedIn) -> Response:
    return page(request, "_now_incidents.html", {"person": person, **_now_context(request)})


def _now_context(request: Request) -> dict[str, Any]:
    container = request.app.state.container
    now = container.clock.now()
    with container.db.transaction() as store:
        directory = store.directory()
        open_incidents = sorted(store.incidents(IncidentFilter(open_only=True, limit=500)),
                                key=lambda i: (i.severity, i.created_at))
        rows = [_row(directory, store, i, now, NOW_CLOCKS) for i in open_incidents]
        done = [i for status in DONE_STATUSES for i in store.incidents(IncidentFilter(status=status, limit=5))]
        done.sort(key=lambda i: i.resolved_at or i.created_at, reverse=True)
        latest = [_row(directory, store, i, now, ()) for i in done[:5]]
        oncall = _oncall_now(directory, store, now)
        gaps = coverage_gaps(store, now, now + GAP_HORIZON)
    schedules = directory.schedules
    return {"rows": rows, "latest": latest, "oncall": oncall, "now": now, "gap_days": GAP_HORIZON.days,
            "gaps": [(g, schedules[g.schedule_id].name if g.schedule_id in schedules else g.schedule_id,
                      schedules[g.schedule_id].time_zone if g.schedule_id in schedules else "UTC") for g in gaps]}


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(
    request: Request, person: SignedIn, status: str = "open", client: str = "", severity: str = "",
) -> Response:
    if status not in STATUSES:
        raise PageError(400, f"status must be one of {', '.join(STATUSES)}; got {status!r}")
    try:
        sev = Severity.parse(severity) if severity else None
    except ValueError as exc:
        raise PageError(400, str(exc)) from None
    container = request.app.state.container
    now = container.clock.now()
    with container.db.transaction() as store:
        directory = store.directory()
        if client and client not in directory.clients:
            raise PageError(400, f"client {client!r} is not in the plan")
        found = store.incidents(IncidentFilter(
            status=None if status == "open" else status, client_id=client or None,
            severity=int(sev) if sev else None, open_only=status == "open", limit=200))
        rows = [_row(directory, store, i, now, NOW_CLOCKS) for i in found]
    return page(request, "incidents.html", {
        "person": person, "rows": rows, "statuses": STATUSES, "clients": sorted(directory.clients.values(),
                                                                               key=lambda c: c.name),
        "severities": [s.label for s in Severity], "chosen": {"status": status, "client": client,
                                                               "severity": severity}})


def _incident_context(request: Request, incident_id: int, kind: str) -> dict[str, Any]:
    container = request.app.state.container
    now = container.clock.now()
    with container.db.transaction() as store:
        directory = store.directory()
        incident = store.incident(incident_id)
        if incident is None:
            raise PageError(404, f"Incident {incident_id} not found.")
        row = _row(directory, store, incident, now)
        timeline = list(reversed(store.timeline(incident_id)))
        stored_alerts = store.alerts_of(incident_id)
        alerts = [AlertOut.of(a) for a in stored_alerts]
        affected = store.affected_services(incident_id)
    chart = chart_for(stored_alerts, incident, timeline, row.zone)
    kinds = sorted({e.kind.split(".")[0] for e in timeline})
    shown = [e for e in timeline if not kind or e.kind.split(".")[0] == kind]
    return {"row": row, "incident": incident, "timeline": shown, "kinds": kinds, "kind": kind,
            "actions": allowed_actions(incident.status), "alerts": alerts, "chart": chart,
            "affected": [(directory.services[s].name if s in directory.services else s, r, at)
                         for s, r, at in affected],
            "services": [s for s, _, _ in affected] or [incident.service_id],
            "now": now}


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, incident_id: int, person: SignedIn, kind: str = "", compose: str = "",
                  sent: int = 0) -> Response:
    return render_incident(request, person, incident_id, kind, compose=compose, sent=sent)


def render_incident(request: Request, person: Person, incident_id: int, kind: str = "", *, compose: str = "",
                    sent: int = 0, composer_view: dict[str, Any] | None = None, status: int = 200) -> Response:
    """The incident page; `composer_view` is the composer as a form post left it (else a fresh one)."""
    context = _incident_context(request, incident_id, kind)
    incident: Incident = context["incident"]
    directory_services = context.pop("services")
    changes = changes_around(request.app.state.container.db, directory_services, incident.created_at)
    report = playbook_for(request, incident_id)
    if composer_view is None:
        composer_view = _fresh_composer(request, incident, compose, sent)
    return page(request, "incident.html", {"person": person, "changes": changes, "report": report,
                                           "step_state": step_state, "has_review": has_review(request, incident_id),
                                           **command_context(request, incident), **composer_view,
                                           **context}, status)


def _fresh_composer(request: Request, incident: Incident, compose: str, sent: int) -> dict[str, Any]:
    assert incident.id is not None
    messages = [m for m, _ in communications(request.app.state.container.db, incident.id)]
    try:
        chosen = kind_from(compose, default_kind(incident, {m.kind for m in messages}))
    except ValueError as exc:
        raise PageError(400, f"compose: {exc}") from None
    done = next((m for m in messages if m.id == sent), None) if sent else None
    note = ""
    if done is not None:
        names = ", ".join(f"{r['name']} ({r['channel']})" for r in done.recipients)
        note = f"{KIND_NAMES.get(done.kind, done.kind)} sent to {names}: {done.subject}"
    return composer(request, incident, chosen, sent=note)


@router.get("/incidents/{incident_id}/live", response_class=HTMLResponse)
def incident_live(request: Request, incident_id: int, person: SignedIn, part: str = "state",
                  kind: str = "") -> Response:
    """A part of the incident page that changes while it is open (status and clocks, or the timeline)."""
    if part not in ("state", "timeline"):
        raise PageError(400, f"part must be state or timeline; got {part!r}")
    return page(request, f"_incident_{part}.html", {"person": person, **_incident_context(request, incident_id, kind)})


def _back(incident_id: int) -> Response:
    return RedirectResponse(f"/incidents/{incident_id}", 303)


@router.post("/incidents/{incident_id}/status")
def act(
    request: Request, incident_id: int, person: Acting, to: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "", note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    if to not in ("acknowledged", "mitigated", "resolved"):
        raise PageError(400, f"unknown action {to!r}; allowed: acknowledged, mitigated, resolved")
    container = request.app.state.container
    status: Status = to  # type: ignore[assignment]
    try:
        change_status(container.db, incident_id, status, person.name, container.clock.now(), note=note.strip())
    except NotFound:
        raise PageError(404, f"Incident {incident_id} not found.") from None
    except IllegalTransition as exc:
        raise PageError(409, f"{exc}. The page was out of date; it shows the current status now.") from None
    return _back(incident_id)


@router.post("/incidents/{incident_id}/notes")
def note(
    request: Request, incident_id: int, person: Acting, text: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        add_note(container.db, incident_id, text, person.name, container.clock.now())
    except NotFound:
        raise PageError(404, f"Incident {incident_id} not found.") from None
    except ValueError as exc:
        raise PageError(400, f"{exc}: write the note in the box, then add it.") from None
    return _back(incident_id)

