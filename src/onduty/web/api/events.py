"""Alert ingest: PagerDuty Events v2 (`/v2/enqueue`) and onduty's own `/api/v1/alerts`.

Both answer 2xx only after the event is committed, and 503 (retry) when it cannot be stored.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from onduty.adapters.ingest.native import NativeAlert
from onduty.adapters.ingest.pagerduty import InvalidEvent, parse_event
from onduty.app.ingest import IngestResult, ingest_event
from onduty.app.keys import hash_key
from onduty.app.ports import NotFound, Unavailable
from onduty.domain.alerts import AlertEvent
from onduty.engine import metrics
from onduty.web.auth import bearer

router = APIRouter(tags=["ingest"])

PD_INVALID = "Event object is invalid"


def _pd_invalid(errors: list[str]) -> JSONResponse:
    metrics.EVENTS_REJECTED.labels("pagerduty").inc()
    return JSONResponse({"status": "invalid event", "message": PD_INVALID, "errors": errors}, 400)


def _unavailable(exc: Exception) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "message": f"cannot store events right now: {exc}; "
                         "retry shortly"}, 503, headers={"Retry-After": "5"})


def service_for(request: Request, routing_key: str) -> str | None:
    key_hash = hash_key(routing_key)
    cache = request.app.state.integration_key_cache
    service = cache.get(key_hash)
    if service is None:
        with request.app.state.container.db.transaction() as store:
            service = store.service_for_key(key_hash)
        if service is not None:
            cache.put(key_hash, service)
    return service if isinstance(service, str) else None


def store_event(request: Request, service_id: str, event: AlertEvent, source: str) -> IngestResult:
    container = request.app.state.container
    started = time.perf_counter()
    result = ingest_event(container.db, service_id, event, container.clock.now())
    metrics.INGEST_SECONDS.observe(time.perf_counter() - started)
    metrics.EVENTS_ACCEPTED.labels(source, result.decision.value).inc()
    if result.decision.value in ("open", "acknowledge", "resolve"):
        container.worker.wake()
    return result


def _json_body(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent([f"the request body is not valid JSON: {exc}"]) from None


@router.post("/v2/enqueue", status_code=202, summary="PagerDuty Events API v2")
async def enqueue(request: Request) -> JSONResponse:
    """Accept a PagerDuty v2 event (trigger, acknowledge, resolve); 202 once it is stored."""
    try:
        parsed = parse_event(_json_body(await request.body()))
    except InvalidEvent as exc:
        return _pd_invalid(exc.errors)
    try:
        service_id = await run_in_threadpool(service_for, request, parsed.routing_key)
        if service_id is None:
            return _pd_invalid(["'routing_key' is not a known integration key "
                                "(create one with: onduty keys create --service SERVICE)"])
        result = await run_in_threadpool(store_event, request, service_id, parsed.event, "pagerduty")
    except Unavailable as exc:
        return _unavailable(exc)
    except NotFound as exc:
        return _pd_invalid([f"'routing_key': {exc}"])
    return JSONResponse({"status": "success", "message": "Event processed", "dedup_key": result.dedup_key}, 202)


@router.post("/api/v1/alerts", status_code=202, summary="Native alert (integration key as Bearer)")
async def native_alert(request: Request) -> JSONResponse:
    """Accept one alert in onduty's own format; the integration key is sent as a Bearer token."""
    routing_key = bearer(request)
    try:
        alert = NativeAlert.model_validate(_json_body(await request.body()))
    except InvalidEvent as exc:
        return JSONResponse({"detail": exc.errors}, 400)
    except ValidationError as exc:
        return JSONResponse({"detail": [
            {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]} for e in exc.errors()
        ]}, 400)
    try:
        service_id = await run_in_threadpool(service_for, request, routing_key)
        if service_id is None:
            return JSONResponse({"detail": "unknown integration key; create one with: "
                                 "onduty keys create --service SERVICE"}, 401)
        result = await run_in_threadpool(store_event, request, service_id, alert.to_event(), "api")
    except Unavailable as exc:
        return _unavailable(exc)
    return JSONResponse({"status": "accepted", "key": result.dedup_key, "action": result.decision.value,
                         "incident_id": result.incident_id}, 202)
