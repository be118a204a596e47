"""Incidents: list, show, timeline, and the responder's actions. Scoped keys see their client only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from onduty.app.escalate import CannotEscalate, escalate_now
from onduty.app.incidents import add_note, change_status, record_security_notice
from onduty.app.lifecycle import change_severity
from onduty.app.ports import ApiKey, IncidentFilter, NotFound
from onduty.app.roles import assign_role, roles_of
from onduty.domain.incidents import STATUSES, IllegalTransition, Status, TimelineEntry
from onduty.domain.severity import Severity
from onduty.web.alerting_schemas import IncidentDetailOut
from onduty.web.api.alerting import incident_detail
from onduty.web.auth import Responder, Viewer
from onduty.web.lifecycle_schemas import EscalateIn, RoleIn, RoleOut, SeverityIn
from onduty.web.schemas import ActionIn, IncidentOut, NoteIn, TimelineOut

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


def _not_found(incident_id: int) -> HTTPException:
    return HTTPException(404, f"incident {incident_id} not found")


@router.get("", response_model=list[IncidentOut])
def list_incidents(
    request: Request, key: Viewer,
    status: Annotated[str | None, Query(
        description="triggered, acknowledged, mitigated, resolved, monitoring, closed, open")] = None,
    client: str | None = None, service: str | None = None,
    severity: Annotated[str | None, Query(description="sev1 … sev4")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IncidentOut]:
    if status is not None and status not in (*STATUSES, "open"):
        raise HTTPException(400, f"status must be one of {', '.join(STATUSES)} or open; got {status!r}")
    try:
        sev = Severity.parse(severity) if severity else None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    if key.client_id is not None:
        if client not in (None, key.client_id):
            return []
        client = key.client_id
    query = IncidentFilter(
        status=None if status == "open" else status, client_id=client, service_id=service,
        severity=int(sev) if sev else None, open_only=status == "open", limit=limit,
    )
    with request.app.state.container.db.transaction() as store:
        return [IncidentOut.of(i) for i in store.incidents(query)]


@router.get("/{incident_id}", response_model=IncidentDetailOut)
def get_incident(request: Request, incident_id: int, key: Viewer) -> IncidentDetailOut:
    """The incident with its alerts, every service it affects, and recent changes around it."""
    return incident_detail(request, incident_id, key.client_id)


@router.get("/{incident_id}/timeline", response_model=list[TimelineOut])
def get_timeline(request: Request, incident_id: int, key: Viewer) -> list[TimelineOut]:
    with request.app.state.container.db.transaction() as store:
        if store.incident(incident_id, key.client_id) is None:
            raise _not_found(incident_id)
        return [TimelineOut.of(e) for e in store.timeline(incident_id)]


def _act(request: Request, incident_id: int, to: Status, key: ApiKey, body: ActionIn | None) -> IncidentOut:
    body = body or ActionIn()
    container = request.app.state.container
    actor = body.by or f"api ({key.role} key)"
    try:
        incident = change_status(container.db, incident_id, to, actor, container.clock.now(),
                                 key.client_id, body.note)
    except NotFound:
        raise _not_found(incident_id) from None
    except IllegalTransition as exc:
        raise HTTPException(409, str(exc)) from None
    return IncidentOut.of(incident)


@router.post("/{incident_id}/acknowledge", response_model=IncidentOut)
def acknowledge(request: Request, incident_id: int, key: Responder, body: ActionIn | None = None) -> IncidentOut:
    """Stop the escalation: someone is on it."""
    return _act(request, incident_id, "acknowledged", key, body)


@router.post("/{incident_id}/mitigate", response_model=IncidentOut)
def mitigate(request: Request, incident_id: int, key: Responder, body: ActionIn | None = None) -> IncidentOut:
    """Service restored for the client (fallback, rollback); the cause may still be open."""
    return _act(request, incident_id, "mitigated", key, body)


@router.post("/{incident_id}/resolve", response_model=IncidentOut)
def resolve(request: Request, incident_id: int, key: Responder, body: ActionIn | None = None) -> IncidentOut:
    return _act(request, incident_id, "resolved", key, body)


@router.post("/{incident_id}/escalate", response_model=IncidentOut)
def escalate(request: Request, incident_id: int, key: Responder, body: EscalateIn) -> IncidentOut:
    """Page the next escalation level now, with the reason; 409 when closed or already at the last level."""
    container = request.app.state.container
    try:
        incident = escalate_now(container.db, incident_id, body.reason, body.by or f"api ({key.role} key)",
                                container.clock.now(), key.client_id)
    except NotFound:
        raise _not_found(incident_id) from None
    except CannotEscalate as exc:
        raise HTTPException(409, str(exc)) from None
    return IncidentOut.of(incident)


def _write_entry(request: Request, incident_id: int, key: ApiKey, body: NoteIn,
                 write: Callable[..., TimelineEntry]) -> TimelineOut:
    """One timeline entry written by `write(txs, incident_id, text, actor, now, client_id)`."""
    container = request.app.state.container
    try:
        entry = write(container.db, incident_id, body.text, body.by or f"api ({key.role} key)",
                      container.clock.now(), key.client_id)
    except NotFound:
        raise _not_found(incident_id) from None
    return TimelineOut.of(entry)


@router.post("/{incident_id}/notes", response_model=TimelineOut, status_code=201)
def note(request: Request, incident_id: int, key: Responder, body: NoteIn) -> TimelineOut:
    return _write_entry(request, incident_id, key, body, add_note)


@router.post("/{incident_id}/security-notified", response_model=TimelineOut, status_code=201)
def security_notified(request: Request, incident_id: int, key: Responder, body: NoteIn) -> TimelineOut:
    """Record that the security notification went out (`text`: to whom, how, reference); meets its clock."""
    return _write_entry(request, incident_id, key, body, record_security_notice)


@router.post("/{incident_id}/severity", response_model=IncidentOut)
def severity(request: Request, incident_id: int, key: Responder, body: SeverityIn) -> IncidentOut:
    """Raise or lower the severity with a reason; paging and clocks follow the new level at once."""
    container = request.app.state.container
    try:
        sev = Severity.parse(body.severity)
        incident = change_severity(container.db, incident_id, sev, body.reason, body.by or f"api ({key.role} key)",
                                   container.clock.now(), key.client_id)
    except NotFound:
        raise _not_found(incident_id) from None
    except IllegalTransition as exc:
        raise HTTPException(409, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return IncidentOut.of(incident)


@router.get("/{incident_id}/roles", response_model=list[RoleOut])
def roles(request: Request, incident_id: int, key: Viewer) -> list[RoleOut]:
    """Responder, incident commander and communications lead: who holds each, assigned or by default."""
    with request.app.state.container.db.transaction() as store:
        incident = store.incident(incident_id, key.client_id)
        if incident is None:
            raise _not_found(incident_id)
        directory = store.directory()
        return [RoleOut.of(a, directory) for a in roles_of(store, directory, incident).values()]


@router.post("/{incident_id}/roles", response_model=list[RoleOut])
def assign(request: Request, incident_id: int, key: Responder, body: RoleIn) -> list[RoleOut]:
    """Assign a role or hand it over; the change goes on the timeline. Answers every role's holder."""
    container = request.app.state.container
    try:
        assign_role(container.db, incident_id, body.role, body.person, body.by or f"api ({key.role} key)",
                    container.clock.now(), key.client_id)
    except NotFound:
        raise _not_found(incident_id) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return roles(request, incident_id, key)
