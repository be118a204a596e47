"""Incidents: list, show, timeline, and the responder's actions. Scoped keys see their client only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from onduty.app.incidents import add_note, change_status
from onduty.app.ports import ApiKey, IncidentFilter, NotFound
from onduty.domain.incidents import IllegalTransition, Status
from onduty.domain.severity import Severity
from onduty.web.alerting_schemas import IncidentDetailOut
from onduty.web.api.alerting import incident_detail
from onduty.web.auth import Responder, Viewer
from onduty.web.schemas import ActionIn, IncidentOut, NoteIn, TimelineOut

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
STATUSES = ("triggered", "acknowledged", "mitigated", "resolved")


def _not_found(incident_id: int) -> HTTPException:
    return HTTPException(404, f"incident {incident_id} not found")


@router.get("", response_model=list[IncidentOut])
def list_incidents(
    request: Request, key: Viewer,
    status: Annotated[str | None, Query(description="triggered, acknowledged, mitigated, resolved, open")] = None,
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


@router.post("/{incident_id}/notes", response_model=TimelineOut, status_code=201)
def note(request: Request, incident_id: int, key: Responder, body: NoteIn) -> TimelineOut:
    container = request.app.state.container
    try:
        entry = add_note(container.db, incident_id, body.text, body.by or f"api ({key.role} key)",
                         container.clock.now(), key.client_id)
    except NotFound:
        raise _not_found(incident_id) from None
    return TimelineOut.of(entry)
