"""The ingest endpoints answered ahead of FastAPI's routing, middleware and dependency layers.

Under an alert storm those layers cost the server more CPU than the endpoint itself does, and the
endpoints need none of them: each reads its own body, checks its own key and shapes its own errors.
The same functions stay mounted as ordinary routes too, so the OpenAPI document lists them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import HTTPException, Request, Response

from onduty.app.ports import Unavailable
from onduty.web.api import events

log = logging.getLogger("onduty.web")
Endpoint = Callable[[Request], Awaitable[Response]]
ALERTMANAGER = "/integrations/alertmanager/"
EXACT: dict[str, Endpoint] = {"/v2/enqueue": events.enqueue, "/api/v1/alerts": events.native_alert}


def _alertmanager(key: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await events.alertmanager(request, key)

    return endpoint


def fast_endpoint(method: str, path: str) -> Endpoint | None:
    """The ingest endpoint for a request line, or None for everything else."""
    if method != "POST":
        return None
    found = EXACT.get(path)
    if found is None and path.startswith(ALERTMANAGER):
        key = path[len(ALERTMANAGER):]
        if key and "/" not in key:
            found = _alertmanager(key)
    return found


def _json(body: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


async def serve(endpoint: Endpoint, scope: Any, receive: Any, send: Any) -> None:
    """Run one ingest endpoint as an ASGI app; what it did not answer itself becomes a JSON error."""
    request = Request(scope, receive)
    try:
        response = await endpoint(request)
    except HTTPException as exc:
        response = _json({"detail": exc.detail}, exc.status_code, dict(exc.headers or {}))
    except Unavailable as exc:
        response = _json({"detail": f"{exc}; retry shortly"}, 503, {"Retry-After": "5"})
    except Exception:
        log.exception("ingest request %s failed", scope.get("path"))
        response = _json({"detail": "internal error; the event was not stored, retry"}, 500)
    await response(scope, receive, send)
