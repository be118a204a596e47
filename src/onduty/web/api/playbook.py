"""The playbook over HTTP: steps and ticks, type changes, the fallback, client requests, workarounds,
runbooks. A client-scoped key gets 404 for another client's incidents, as everywhere."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from onduty.adapters.notify.fallback import HttpFallbackCaller
from onduty.app.client_requests import RequestConflict, complete_request, create_request, list_requests
from onduty.app.fallback import NoFallback, run_fallback
from onduty.app.playbook import PlaybookConflict, add_workaround, change_type, playbook, tick
from onduty.app.ports import ApiKey, NotFound
from onduty.app.runbooks import incident_runbooks
from onduty.plan.schema import parse_duration
from onduty.web.auth import Responder, Viewer
from onduty.web.playbook_schemas import (
    ByIn,
    FallbackOut,
    PlaybookOut,
    RequestIn,
    RequestOut,
    RunbookOut,
    TickIn,
    TickOut,
    TypeIn,
    WorkaroundIn,
    WorkaroundOut,
)
from onduty.web.schemas import IncidentOut

router = APIRouter(prefix="/api/v1/incidents", tags=["playbook"])


def _actor(by: str | None, key: ApiKey) -> str:
    return by or f"api ({key.role} key)"


def _refuse(exc: Exception) -> HTTPException:
    """One mapping from use-case errors to answers: 404 unknown, 409 already so, 400 bad input."""
    if isinstance(exc, NotFound):
        return HTTPException(404, str(exc).strip("'\""))
    if isinstance(exc, PlaybookConflict | RequestConflict | NoFallback):
        return HTTPException(409, str(exc))
    return HTTPException(400, str(exc))


@router.get("/{incident_id}/playbook", response_model=PlaybookOut)
def get_playbook(request: Request, incident_id: int, key: Viewer) -> PlaybookOut:
    """The five steps with items, ticks and timebox state; candidate changes, blast radius, requests."""
    container = request.app.state.container
    try:
        report = playbook(container.db, incident_id, container.clock.now(), key.client_id)
    except NotFound as exc:
        raise _refuse(exc) from None
    return PlaybookOut.of(report)


@router.post("/{incident_id}/playbook/{item_id}", response_model=TickOut)
def tick_item(request: Request, incident_id: int, item_id: str, key: Responder, body: TickIn) -> TickOut:
    """Tick (`done: true`) or un-tick (`done: false`) one item; it goes on the timeline."""
    container = request.app.state.container
    try:
        done = tick(container.db, incident_id, item_id, _actor(body.by, key), container.clock.now(),
                    done=body.done, note=body.note, client_id=key.client_id)
    except (NotFound, ValueError) as exc:
        raise _refuse(exc) from None
    return TickOut(item=done.item_id, done=done.done, by=done.by, at=done.at, note=done.note)


@router.post("/{incident_id}/type", response_model=IncidentOut)
def set_type(request: Request, incident_id: int, key: Responder, body: TypeIn) -> IncidentOut:
    """Change the incident's type with a reason; its playbook steps follow."""
    container = request.app.state.container
    try:
        incident = change_type(container.db, incident_id, body.to, body.reason, _actor(body.by, key),
                               container.clock.now(), key.client_id)
    except (NotFound, ValueError) as exc:
        raise _refuse(exc) from None
    return IncidentOut.of(incident)


@router.post("/{incident_id}/fallback", response_model=FallbackOut)
async def fallback(request: Request, incident_id: int, key: Responder, body: ByIn | None = None) -> FallbackOut:
    """Call the service's fallback webhook (signed, no redirects); 502 when the receiver refuses or fails."""
    container = request.app.state.container
    caller = HttpFallbackCaller(container.settings.webhook_secret, txs=container.db)
    try:
        outcome = await run_in_threadpool(
            run_fallback, container.db, caller, incident_id, _actor(body.by if body else None, key),
            container.clock.now(), key.client_id)
    except (NotFound, ValueError) as exc:
        raise _refuse(exc) from None
    if not outcome.ok:
        raise HTTPException(502, f"the fallback webhook failed: {outcome.detail}; recorded on the timeline")
    return FallbackOut.of(outcome)


@router.get("/{incident_id}/requests", response_model=list[RequestOut])
def get_requests(request: Request, incident_id: int, key: Viewer) -> list[RequestOut]:
    container = request.app.state.container
    now = container.clock.now()
    try:
        return [RequestOut.of(r, now) for r in list_requests(container.db, incident_id, now, key.client_id)]
    except NotFound as exc:
        raise _refuse(exc) from None


@router.post("/{incident_id}/requests", response_model=RequestOut, status_code=201)
def post_request(request: Request, incident_id: int, key: Responder, body: RequestIn) -> RequestOut:
    """Ask the client's team to do something by a due time (`due: "30m"` or `due_at`)."""
    container = request.app.state.container
    now = container.clock.now()
    if (body.due is None) == (body.due_at is None):
        raise HTTPException(400, "give exactly one of `due` (e.g. 30m) or `due_at` (ISO 8601 with offset)")
    try:
        if body.due_at is not None and body.due_at.tzinfo is None:
            raise ValueError("`due_at` needs a UTC offset, e.g. 2026-11-20T19:30:00-06:00")
        due_at = body.due_at or now + parse_duration(body.due)
        created = create_request(container.db, incident_id, body.text, due_at, _actor(body.by, key), now,
                                 key.client_id)
    except (NotFound, ValueError) as exc:
        raise _refuse(exc) from None
    return RequestOut.of(created, now)


@router.post("/{incident_id}/requests/{request_id}/done", response_model=RequestOut)
def request_done(request: Request, incident_id: int, request_id: int, key: Responder,
                 body: ByIn | None = None) -> RequestOut:
    """The client's team did what was asked: met, or met late after its due time."""
    container = request.app.state.container
    now = container.clock.now()
    try:
        done = complete_request(container.db, incident_id, request_id, _actor(body.by if body else None, key),
                                now, key.client_id)
    except (NotFound, ValueError) as exc:
        raise _refuse(exc) from None
    return RequestOut.of(done, now)


@router.post("/{incident_id}/workarounds", response_model=WorkaroundOut, status_code=201)
def post_workaround(request: Request, incident_id: int, key: Responder, body: WorkaroundIn) -> WorkaroundOut:
    """Record a temporary workaround; step 4 lists it for removal."""
    container = request.app.state.container
    now = container.clock.now()
    by = _actor(body.by, key)
    try:
        workaround_id = add_workaround(container.db, incident_id, body.text, by, now, key.client_id)
    except (NotFound, ValueError) as exc:
        raise _refuse(exc) from None
    return WorkaroundOut(id=workaround_id, text=body.text.strip(), added_by=by, added_at=now,
                         item=f"verify.workaround.{workaround_id}")


@router.get("/{incident_id}/runbooks", response_model=list[RunbookOut])
def get_runbooks(request: Request, incident_id: int, key: Viewer) -> list[RunbookOut]:
    """Runbooks linked to the incident: title, file, why linked, and the Markdown."""
    try:
        return [RunbookOut.of(r) for r in incident_runbooks(request.app.state.container.db, incident_id,
                                                            key.client_id)]
    except NotFound as exc:
        raise _refuse(exc) from None
