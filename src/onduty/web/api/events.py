"""Alert ingest: PagerDuty Events v2 (`/v2/enqueue`, `/v2/change/enqueue`), Alertmanager and Grafana
webhooks (`/integrations/alertmanager/{key}`) and onduty's own `/api/v1/alerts`.

Events go to the group-commit writer; each request is answered 2xx only after its events are
committed, 503 (retry) when they cannot be stored, 413 past the body limit, 429 past the key's rate or
its client's (all of the client's integration keys together).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from onduty.adapters.ingest.alertmanager import parse_webhook
from onduty.adapters.ingest.native import NativeAlert
from onduty.adapters.ingest.pagerduty import InvalidEvent, parse_change_event, parse_event
from onduty.app.changes import record_change
from onduty.app.ingest import IngestResult
from onduty.app.keys import hash_key
from onduty.app.ports import NotFound, Unavailable
from onduty.domain.alerts import AlertEvent
from onduty.engine import metrics
from onduty.engine.ingest_writer import Overloaded
from onduty.web.auth import bearer
from onduty.web.limits import BodyTooLarge, ingest_limit, read_body

router = APIRouter(tags=["ingest"])
PD_INVALID = "Event object is invalid"
UNKNOWN_KEY = "is not a known integration key (create one with: onduty keys create --service SERVICE)"


class JsonReply(Response):
    """A JSON answer whose header list is written out directly: Starlette's general header building
    cost a single-event request about a tenth of its CPU."""

    media_type = "application/json"

    def __init__(self, content: bytes, status_code: int, headers: dict[str, str] | None = None):
        self.status_code = status_code
        self.body = content
        self.background = None
        self.raw_headers = [(b"content-length", str(len(content)).encode("latin-1")),
                            (b"content-type", b"application/json")]
        if headers:
            self.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def reply(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return JsonReply(orjson.dumps(body), status, headers)


_ACCEPTED: dict[tuple[str, str], Any] = {}  # (source, decision) → its counter: labels() takes a lock each call


def count_accepted(source: str, decision: str, count: int) -> None:
    counter = _ACCEPTED.get((source, decision))
    if counter is None:
        counter = _ACCEPTED[(source, decision)] = metrics.EVENTS_ACCEPTED.labels(source, decision)
    counter.inc(count)


class Refused(Exception):
    """An ingest request answered with an error: `response` says which and why."""

    def __init__(self, response: Response):
        self.response = response


def pd_error(errors: list[str], status: int = 400, headers: dict[str, str] | None = None) -> Refused:
    metrics.EVENTS_REJECTED.labels("pagerduty").inc()
    return Refused(reply({"status": "invalid event", "message": PD_INVALID, "errors": errors}, status, headers))


def plain_error(message: Any, status: int, source: str,
                headers: dict[str, str] | None = None) -> Refused:
    metrics.EVENTS_REJECTED.labels(source).inc()
    return Refused(reply({"detail": message}, status, headers))


async def body_json(request: Request) -> Any:
    """The body parsed as JSON; BodyTooLarge past the limit, InvalidEvent when it is not JSON."""
    raw = await read_body(request, request.app.state.container.settings.max_body_bytes)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent([f"the request body is not valid JSON: {exc}"]) from None


@dataclass(frozen=True)
class KeyOwner:
    """Who an integration key sends for: its service, that service's client, and the key's hash."""

    service_id: str
    client_id: str
    key_hash: str


def _lookup(request: Request, key_hash: str) -> KeyOwner | None:
    with request.app.state.container.db.transaction() as store:
        found: tuple[str, str] | None = store.service_for_key(key_hash)
        return None if found is None else KeyOwner(found[0], found[1], key_hash)


async def service_for(request: Request, routing_key: str) -> KeyOwner | None:
    """The key's service and client, or None for an unknown key; lookups are cached briefly."""
    key_hash = hash_key(routing_key)
    cache = request.app.state.integration_key_cache
    owner = cache.get(key_hash)
    if owner is None:
        owner = await run_in_threadpool(_lookup, request, key_hash)
        if owner is not None:
            cache.put(key_hash, owner)
    return owner if isinstance(owner, KeyOwner) else None


def check_rate(request: Request, owner: KeyOwner, cost: int, refuse: Any) -> None:
    """429 past the key's own rate, or past its client's (all of that client's integration keys together)."""
    exceeded = ingest_limit(request, owner.key_hash, "this integration key", owner.client_id, cost)
    if exceeded is not None:
        raise refuse([exceeded.message], 429, exceeded.headers)


def pd_refusal(exc: InvalidEvent | BodyTooLarge | Refused) -> Response:
    """A refused PagerDuty request in PagerDuty's error shape (413 for an oversized body)."""
    if isinstance(exc, InvalidEvent):
        return pd_error(exc.errors).response
    if isinstance(exc, BodyTooLarge):
        return pd_error([str(exc)], 413).response
    return exc.response


def plain_refusal(exc: InvalidEvent | BodyTooLarge | Refused, source: str) -> Response:
    """A refused request in onduty's own error shape (413 for an oversized body)."""
    if isinstance(exc, InvalidEvent):
        return plain_error(exc.errors, 400, source).response
    if isinstance(exc, BodyTooLarge):
        return plain_error(str(exc), 413, source).response
    return exc.response


async def pagerduty_service(request: Request, routing_key: str) -> str:
    """The service a PagerDuty routing key belongs to, once the key is known and within its rate."""
    owner = await service_for(request, routing_key)
    if owner is None:
        raise pd_error([f"'routing_key' {UNKNOWN_KEY}"])
    check_rate(request, owner, 1, pd_error)
    return owner.service_id


async def store_events(request: Request, items: Sequence[tuple[str, AlertEvent]], source: str) -> list[IngestResult]:
    """Hand events to the group-commit writer and wait until they are committed."""
    try:
        results: list[IngestResult] = await request.app.state.ingest_writer.wait(items)
    except (Unavailable, Overloaded) as exc:
        raise Refused(reply({"status": "unavailable", "message": f"cannot store events right now: {exc}; "
                             "retry shortly"}, 503, {"Retry-After": "5"})) from None
    except NotFound as exc:
        raise plain_error(str(exc), 400, source) from None
    if len(results) == 1:
        count_accepted(source, results[0].decision.value, 1)
        return results
    counts: dict[str, int] = {}
    for result in results:
        counts[result.decision.value] = counts.get(result.decision.value, 0) + 1
    for decision, count in counts.items():  # one counter update per decision, not per alert of a batch
        count_accepted(source, decision, count)
    return results


@router.post("/v2/enqueue", status_code=202, summary="PagerDuty Events API v2")
async def enqueue(request: Request) -> Response:
    """Accept a PagerDuty v2 event (trigger, acknowledge, resolve); 202 once it is stored."""
    try:
        parsed = parse_event(await body_json(request))
        service_id = await pagerduty_service(request, parsed.routing_key)
        (result,) = await store_events(request, [(service_id, parsed.event)], "pagerduty")
    except (InvalidEvent, BodyTooLarge, Refused) as exc:
        return pd_refusal(exc)
    return reply({"status": "success", "message": "Event processed", "dedup_key": result.dedup_key}, 202)


@router.post("/v2/change/enqueue", status_code=202, summary="PagerDuty change events")
async def change_enqueue(request: Request) -> Response:
    """Record a change (a deploy, a data release) as a recent change of the key's service."""
    try:
        parsed = parse_change_event(await body_json(request))
        service_id = await pagerduty_service(request, parsed.routing_key)
        container = request.app.state.container
        await run_in_threadpool(record_change, container.db, service_id, parsed.summary, parsed.source,
                                parsed.timestamp, parsed.custom_details, parsed.links, container.clock.now())
    except (InvalidEvent, BodyTooLarge, Refused) as exc:
        return pd_refusal(exc)
    except NotFound as exc:
        return pd_error([f"'routing_key': {exc}"]).response
    return reply({"status": "success", "message": "Change event processed"}, 202)


@router.post("/integrations/alertmanager/{key}", summary="Prometheus Alertmanager / Grafana webhook")
async def alertmanager(request: Request, key: str) -> Response:
    """Alertmanager webhook v4 or Grafana webhook: every alert of the group, firing or resolved."""
    try:
        events = parse_webhook(await body_json(request))
        owner = await service_for(request, key)
        if owner is None:
            raise plain_error(f"the key in the URL {UNKNOWN_KEY}", 401, "alertmanager")
        check_rate(request, owner, max(len(events), 1),
                   lambda errors, status, headers: plain_error(errors[0], status, "alertmanager", headers))
        results = await store_events(request, [(owner.service_id, e) for e in events], "alertmanager")
    except (InvalidEvent, BodyTooLarge, Refused) as exc:
        return plain_refusal(exc, "alertmanager")
    counts: dict[str, int] = {}
    for result in results:
        counts[result.decision.value] = counts.get(result.decision.value, 0) + 1
    return reply({"status": "success", "alerts": len(results), "decisions": counts}, 200)


@router.post("/api/v1/alerts", status_code=202, summary="Native alert (integration key as Bearer)")
async def native_alert(request: Request) -> Response:
    """Accept one alert in onduty's own format; the integration key is sent as a Bearer token."""
    routing_key = bearer(request)
    try:
        try:
            alert = NativeAlert.model_validate(await body_json(request))
        except ValidationError as exc:
            raise plain_error([{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                               for e in exc.errors()], 400, "api") from None
        owner = await service_for(request, routing_key)
        if owner is None:
            raise plain_error("unknown integration key; create one with: onduty keys create --service SERVICE",
                              401, "api")
        check_rate(request, owner, 1, lambda errors, status, headers: plain_error(errors, status, "api", headers))
        (result,) = await store_events(request, [(owner.service_id, alert.to_event())], "api")
    except (InvalidEvent, BodyTooLarge, Refused) as exc:
        return plain_refusal(exc, "api")
    return reply({"status": "accepted", "key": result.dedup_key, "action": result.decision.value,
                  "incident_id": result.incident_id, "service": result.service_id}, 202)
