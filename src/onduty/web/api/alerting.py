"""Alerts, silences, recent changes and heartbeats over HTTP; and the full view of one incident."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from onduty.app.changes import changes_around, service_changes
from onduty.app.clocks import clocks_for
from onduty.app.heartbeats import heartbeat_report, record_beat
from onduty.app.keys import hash_key
from onduty.app.ports import AlertFilter, NotFound
from onduty.app.roles import roles_of
from onduty.app.silences import create_silence, expire_silence, list_silences
from onduty.domain.matchers import BadMatcher
from onduty.domain.routing import AlertPolicy
from onduty.web.alerting_schemas import (
    AffectedService,
    AlertOut,
    ChangeOut,
    IncidentDetailOut,
    SilenceIn,
    SilenceOut,
)
from onduty.web.api.events import reply
from onduty.web.auth import Responder, Viewer
from onduty.web.lifecycle_schemas import ClockOut, RoleOut
from onduty.web.limits import ingest_limit
from onduty.web.schemas import IncidentOut

router = APIRouter(tags=["alerts"])
ALERT_STATUSES = ("triggered", "acknowledged", "resolved", "suppressed")


def incident_detail(request: Request, incident_id: int, client_id: str | None) -> IncidentDetailOut:
    """GET /api/v1/incidents/{id}: the incident, its alerts, affected services and recent changes."""
    db = request.app.state.container.db
    with db.transaction() as store:
        incident = store.incident(incident_id, client_id)
        if incident is None:
            raise HTTPException(404, f"incident {incident_id} not found")
        alerts = store.alerts_of(incident_id)
        affected = store.affected_services(incident_id)
        directory = store.directory()
        timeline = store.timeline(incident_id)
        roles = [RoleOut.of(a, directory) for a in roles_of(store, directory, incident, timeline).values()]
    now = request.app.state.container.clock.now()
    clocks = [ClockOut.of(k, now) for k in clocks_for(directory, incident, timeline, now)]
    services = [s for s, _, _ in affected] or [incident.service_id]
    changes = changes_around(db, services, incident.created_at)
    return IncidentDetailOut(
        **IncidentOut.of(incident).model_dump(),
        affected_services=[AffectedService(service=s, reason=r, added_at=at) for s, r, at in affected],
        alerts=[AlertOut.of(a) for a in alerts],
        recent_changes=[ChangeOut.of(c) for c in changes], roles=roles, clocks=clocks,
    )


@router.get("/api/v1/incidents/{incident_id}/alerts", response_model=list[AlertOut])
def incident_alerts(request: Request, incident_id: int, key: Viewer) -> list[AlertOut]:
    """Every alert of the incident, with its labels, annotations, custom details, links and images."""
    return incident_detail(request, incident_id, key.client_id).alerts


@router.get("/api/v1/alerts", response_model=list[AlertOut])
def list_alerts(
    request: Request, key: Viewer,
    status: Annotated[str | None, Query(description="triggered, acknowledged, resolved, suppressed")] = None,
    service: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertOut]:
    """Alerts, newest first; `status=suppressed` lists what silences and maintenance windows held back."""
    if status is not None and status not in ALERT_STATUSES:
        raise HTTPException(400, f"status must be one of {', '.join(ALERT_STATUSES)}; got {status!r}")
    with request.app.state.container.db.transaction() as store:
        services = store.directory().services
        allowed = [s for s, v in services.items() if key.client_id in (None, v.client_id)]
        wanted = [service] if service is not None else (allowed if key.client_id else None)
        if service is not None and service not in allowed:
            return []
        return [AlertOut.of(a) for a in store.alerts(AlertFilter(status, wanted, limit))]


@router.get("/api/v1/services/{service_id}/changes", response_model=list[ChangeOut])
def changes(
    request: Request, service_id: str, key: Viewer,
    hours: Annotated[float, Query(gt=0, le=24 * 90, description="how far back")] = 24.0,
) -> list[ChangeOut]:
    """The service's recent changes (PagerDuty change events), newest first."""
    container = request.app.state.container
    try:
        found = service_changes(container.db, service_id, container.clock.now() - timedelta(hours=hours),
                                key.client_id)
    except NotFound:
        raise HTTPException(404, f"service {service_id!r} not found") from None
    return [ChangeOut.of(c) for c in found]


@router.post("/api/v1/silences", response_model=SilenceOut, status_code=201)
def add_silence(request: Request, body: SilenceIn, key: Responder) -> SilenceOut:
    """Hold matching alerts back from paging until `ends_at`; they are still stored and listed."""
    container = request.app.state.container
    now = container.clock.now()
    for field, value in (("starts_at", body.starts_at), ("ends_at", body.ends_at)):
        if value is not None and value.tzinfo is None:
            raise HTTPException(400, f"{field} needs a UTC offset, e.g. 2026-11-20T18:00:00Z")
    try:
        silence = create_silence(container.db, body.matchers, body.starts_at or now, body.ends_at,
                                 body.created_by, body.comment, now, body.service, key.client_id)
    except BadMatcher as exc:
        raise HTTPException(400, f"matchers: {exc}") from None
    except NotFound as exc:
        raise HTTPException(400, f"service: {exc}") from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return SilenceOut.of(silence, now)


@router.get("/api/v1/silences", response_model=list[SilenceOut])
def silences(request: Request, key: Viewer, include_expired: bool = False) -> list[SilenceOut]:
    container = request.app.state.container
    now = container.clock.now()
    return [SilenceOut.of(s, now) for s in list_silences(container.db, now, include_expired, key.client_id)]


@router.delete("/api/v1/silences/{silence_id}", status_code=204)
def end_silence(request: Request, silence_id: int, key: Responder, by: str | None = None) -> Response:
    """Expire a silence now: matching alerts page again from their next trigger."""
    container = request.app.state.container
    try:
        expire_silence(container.db, silence_id, by or f"api ({key.role} key)", container.clock.now(), key.client_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(status_code=204)


@router.get("/api/v1/heartbeats")
def heartbeats(request: Request, key: Viewer) -> list[dict[str, object]]:
    """Every heartbeat check of the plan: never pinged, ok, or missed; last ping and next due time."""
    container = request.app.state.container
    services = None
    if key.client_id is not None:
        with container.db.transaction() as store:
            services = {s for s, v in store.directory().services.items() if v.client_id == key.client_id}
    return [r for r in heartbeat_report(container.db, container.clock.now())
            if services is None or r["service"] in services]


def _check_for(request: Request, key_hash: str) -> tuple[str, str | None] | None:
    """(the key's heartbeat check, the client of the check's service), or None for an unknown key."""
    with request.app.state.container.db.transaction() as store:
        check_id: str | None = store.check_for_key(key_hash)
        if check_id is None:
            return None
        directory = store.directory()
        check = (directory.alerting or AlertPolicy()).heartbeats.get(check_id)
        service = directory.services.get(check.service_id) if check is not None else None
        return check_id, (service.client_id if service is not None else None)


@router.post("/api/v1/heartbeats/{key}", tags=["ingest"])
async def beat(request: Request, key: str) -> Response:
    """A ping from a job: its check is due again after period + grace; a missed-beat alert resolves."""
    key_hash = hash_key(key)
    found = await run_in_threadpool(_check_for, request, key_hash)
    if found is None:
        return reply({"detail": "unknown heartbeat key; create one with: onduty heartbeat key CHECK"}, 404)
    check_id, client_id = found
    exceeded = ingest_limit(request, key_hash, "this heartbeat key", client_id, 1)  # with the client's alerts
    if exceeded is not None:
        return reply({"detail": exceeded.message}, 429, exceeded.headers)
    container = request.app.state.container
    try:
        done = await run_in_threadpool(record_beat, container.db, check_id, container.clock.now())
    except NotFound as exc:
        return reply({"detail": str(exc)}, 404)
    if done.resolved_incident is not None:
        container.worker.wake()
    return reply({"status": "ok", "check": done.check_id, "service": done.service_id,
                  "next_due": _iso(done.next_due), "resolved_incident": done.resolved_incident}, 200)


def _iso(at: datetime) -> str:
    return at.isoformat()
