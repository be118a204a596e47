"""`POST /api/v1/metrics`: batches of metric points for the plan's detectors (KPI, relevance, SLO burn
rate, output drift). A bad point answers 400 naming its index and field, and nothing is applied; so does
a request past its key's or client's ingest limit (one event per point), with 429 and Retry-After."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from onduty.adapters.ingest.pagerduty import InvalidEvent
from onduty.app.keys import hash_key
from onduty.app.metrics import MetricPoint, ingest_metrics
from onduty.app.ports import ApiKey, NotFound, Unavailable
from onduty.web.api.events import Refused, body_json, plain_error, plain_refusal, reply, service_for
from onduty.web.auth import ROLE_RANK, Viewer, bearer
from onduty.web.limits import BodyTooLarge, ingest_limit

router = APIRouter(tags=["ingest"])
MAX_POINTS = 100_000


def _problem(index: int, field: str, message: str) -> dict[str, Any]:
    return {"index": index, "field": f"points[{index}].{field}", "message": message}


def _time(value: Any) -> datetime:
    if isinstance(value, bool):
        raise ValueError("expected an ISO 8601 time with an offset or epoch seconds")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError("expected finite epoch seconds")
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 time with an offset or epoch seconds")
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2026-11-20T23:40:00Z")
    return at


def parse_points(body: Any) -> list[MetricPoint]:
    """`{"points": [...]}` or a bare list; a refusal lists the bad points by index and field."""
    items = body.get("points") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise plain_error([{"field": "points", "message": "expected a non-empty list of points"}], 400, "metrics")
    if len(items) > MAX_POINTS:
        raise plain_error([{"field": "points", "message": f"at most {MAX_POINTS} points per request"}], 400,
                          "metrics")
    problems: list[dict[str, Any]] = []
    points = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(_problem(i, "", "expected an object {service, name, ts, value, labels}"))
            continue
        unknown = sorted(set(item) - {"service", "name", "ts", "value", "labels"})
        if unknown:
            problems.append(_problem(i, unknown[0], "unknown field; expected service, name, ts, value, labels"))
        for field in ("service", "name"):
            if not isinstance(item.get(field), str) or not item[field].strip():
                problems.append(_problem(i, field, "expected a non-empty string"))
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(_problem(i, "value", "expected a finite number"))
        labels = item.get("labels", {})
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            problems.append(_problem(i, "labels", "expected an object of string values"))
        try:
            at = _time(item.get("ts"))
        except ValueError as exc:
            problems.append(_problem(i, "ts", str(exc)))
            continue
        if len(problems) > 50:
            break
        if not problems:
            points.append(MetricPoint(item["service"], item["name"], at, float(value or 0), dict(labels)))
    if problems:
        raise plain_error(problems, 400, "metrics")
    return points


def _api_key(request: Request, token: str) -> ApiKey | None:
    with request.app.state.container.db.transaction() as store:
        found: ApiKey | None = store.api_key(hash_key(token))
        return found


def _client_services(request: Request, client_id: str) -> set[str]:
    with request.app.state.container.db.transaction() as store:
        return {s for s, v in store.directory().services.items() if v.client_id == client_id}


@dataclass(frozen=True)
class Sender:
    """Whose limits a request of points counts against: the key's (by its hash) and its client's, if any."""

    key_hash: str
    key_name: str
    client_id: str | None


async def _check_access(request: Request, token: str, points: list[MetricPoint]) -> Sender:
    """An integration key may post its own service's points; an API key (responder or admin) any
    service of its scope — a client-scoped key gets 404 for another client's service."""
    owner = await service_for(request, token)
    if owner is not None:
        service_id = owner.service_id
        for i, p in enumerate(points):
            if p.service != service_id:
                raise plain_error([_problem(i, "service", f"this integration key belongs to {service_id!r}")],
                                  400, "metrics")
        return Sender(owner.key_hash, "this integration key", owner.client_id)
    key = await run_in_threadpool(_api_key, request, token)
    if key is None:
        raise plain_error("unknown key: send a service's integration key or an API key as the Bearer token",
                          401, "metrics")
    if key.expires_at is not None and key.expires_at <= request.app.state.container.clock.now():
        raise plain_error(f"this API key expired at {key.expires_at:%Y-%m-%d %H:%M} UTC; "
                          "create a new one with: onduty keys create", 401, "metrics")
    if ROLE_RANK[key.role] < ROLE_RANK["responder"]:
        raise plain_error(f"posting metrics needs a responder key or an integration key; yours is {key.role}",
                          403, "metrics")
    if key.client_id is not None:
        allowed = await run_in_threadpool(_client_services, request, key.client_id)
        for p in points:
            if p.service not in allowed:
                raise plain_error(f"service {p.service!r} not found", 404, "metrics")
    return Sender(hash_key(token), "this API key", key.client_id)


@router.post("/api/v1/metrics", status_code=202, summary="Metric points for the detectors")
async def post_metrics(request: Request) -> Response:
    """Points `{service, name, ts, value, labels}` go to the detectors the plan sets on each service;
    each point counts as one event against the key's and its client's ingest limits (429 past them)."""
    token = bearer(request)
    container = request.app.state.container
    try:
        points = parse_points(await body_json(request))
        sender = await _check_access(request, token, points)
        exceeded = ingest_limit(request, sender.key_hash, sender.key_name, sender.client_id, len(points),
                                "metric points")
        if exceeded is not None:
            raise plain_error(exceeded.message, 429, "metrics", exceeded.headers)
        try:
            result = await run_in_threadpool(ingest_metrics, container.db, points, container.clock.now())
        except NotFound as exc:
            index = next((i for i, p in enumerate(points) if repr(p.service) in str(exc)), 0)
            raise plain_error([_problem(index, "service", str(exc))], 400, "metrics") from None
        except Unavailable as exc:
            raise Refused(reply({"detail": f"cannot store points right now: {exc}; retry shortly"}, 503,
                                {"Retry-After": "5"})) from None
    except (InvalidEvent, BodyTooLarge, Refused) as exc:
        return plain_refusal(exc, "metrics")
    if any(d.action is not None for d in result.detectors):
        container.worker.wake()
    return reply({"status": "accepted", "points": result.points, "unused_points": result.unused,
                  "detectors": [{"service": d.service, "detector": d.detector, "kind": d.kind, "status": d.status,
                                 "action": d.action, "incident_id": d.incident_id} for d in result.detectors]}, 202)


@router.get("/api/v1/detectors", tags=["alerts"])
def detectors(request: Request, key: Viewer) -> list[dict[str, Any]]:
    """Every detector of the plan: kind, metrics it reads, status (learning, ok, firing), points seen."""
    with request.app.state.container.db.transaction() as store:
        directory = store.directory()
        states = {(r.service_id, r.detector_id): r for r in store.all_detector_states()}
    out = []
    for service_id, specs in sorted(directory.detectors.items()):
        service = directory.services.get(service_id)
        if service is None or key.client_id not in (None, service.client_id):
            continue
        for spec in specs:
            row = states.get((service_id, spec.id))
            current = row is not None and row.kind == spec.kind
            out.append({"service": service_id, "detector": spec.id, "kind": spec.kind, "metrics": dict(spec.metrics),
                        "status": row.status if row and current else "waiting for points",
                        "points": row.points if row and current else 0,
                        "updated_at": row.updated_at.isoformat() if row and current else None})
    return out
