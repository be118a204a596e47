"""`/healthz` (database reachable, engine not lagging) and `/metrics` (Prometheus)."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from onduty.app.ports import Unavailable

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 when the database answers and due work is not late; 503 otherwise, with the reason.

    The lag is read from the database, so a server whose workers run apart (or have died) turns
    unhealthy too: due timers or pages older than `max_engine_lag_seconds` mean nobody is paging.
    """
    container = request.app.state.container
    try:
        lag = container.worker.lag_seconds(container.clock.now())
    except Unavailable as exc:
        return JSONResponse({"status": "unhealthy", "reason": str(exc)}, 503)
    limit = container.settings.max_engine_lag_seconds
    worker = "running" if request.app.state.worker_running else "separate"
    if lag > limit:
        return JSONResponse({"status": "unhealthy", "reason": f"engine is {lag:.0f}s behind due work "
                             f"(limit {limit:.0f}s)", "engine_lag_seconds": lag, "worker": worker}, 503)
    return JSONResponse({"status": "ok", "engine_lag_seconds": lag, "worker": worker})


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text; the engine's lag and queue gauges are refreshed from the database first."""
    container = request.app.state.container
    with contextlib.suppress(Unavailable):  # the gauges keep their last values; /healthz says why
        container.worker.lag_seconds(container.clock.now())
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
