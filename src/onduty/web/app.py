"""The FastAPI application: API routers over a container built by the composition root."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from onduty import __version__
from onduty.app.ports import Unavailable
from onduty.bootstrap import Container
from onduty.web import fast_ingest
from onduty.web.api import (
    alerting,
    calendar,
    comms,
    events,
    feeds,
    health,
    incidents,
    metrics,
    oncall,
    playbook,
    reports,
    reviews,
    schedules,
)
from onduty.web.auth import KeyCache
from onduty.web.body_limit import BodyLimit
from onduty.web.ingest import client_rate_limiter, ingest_writer, rate_limiter
from onduty.web.limits import RateLimiter
from onduty.web.ui import mount_ui


class OndutyApp(FastAPI):
    """FastAPI, with the ingest endpoints served before its own layers (see web/fast_ingest.py)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            endpoint = fast_ingest.fast_endpoint(scope["method"], scope["path"])
            if endpoint is not None:
                scope["app"] = self
                await fast_ingest.serve(endpoint, scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(container: Container, *, run_worker: bool = False) -> FastAPI:
    """The HTTP app; with `run_worker` the engine ticks in a thread beside it (`onduty serve`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if run_worker:
            thread = threading.Thread(
                target=container.worker.run_forever,
                args=(container.clock, stop, container.settings.worker_poll_seconds),
                name="onduty-worker", daemon=True,
            )
            thread.start()
        app.state.worker_running = run_worker
        yield
        stop.set()
        app.state.ingest_writer.stop()
        container.worker.stop()
        if thread is not None:
            thread.join(timeout=10)

    app = OndutyApp(title="onduty", version=__version__, lifespan=lifespan,
                  description="Incident response for teams that run production AI systems for clients.")
    app.state.container = container
    app.state.worker_running = False
    app.state.api_key_cache = KeyCache(ttl=5.0)  # a revoked key stops working within 5 s
    app.state.api_key_touched = {}  # key id → when its last use was last written (monotonic)
    settings = container.settings
    app.state.api_key_limiter = RateLimiter(settings.api_rate_per_key, settings.api_burst_per_key)
    app.state.api_client_limiter = RateLimiter(settings.api_rate_per_client, settings.api_burst_per_client)
    app.state.integration_key_cache = KeyCache()
    app.state.ingest_writer = ingest_writer(container)
    app.state.rate_limiter = rate_limiter(container.settings)
    app.state.client_rate_limiter = client_rate_limiter(container.settings)
    for module in (events, alerting, feeds, incidents, playbook, comms, oncall, schedules, calendar, health,
                   reviews, reports, metrics):
        app.include_router(module.router)
    mount_ui(app)
    app.add_middleware(BodyLimit, limit=container.settings.max_body_bytes,
                       larger={"/api/v1/feeds/": container.settings.max_feed_bytes})

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        return JSONResponse({"detail": f"{exc}; retry shortly"}, 503, headers={"Retry-After": "5"})

    @app.exception_handler(OverflowError)
    async def _too_large(_: Request, exc: OverflowError) -> JSONResponse:
        # An id past the database's integer range cannot even be looked up: no such object can exist.
        return JSONResponse({"detail": "a number in the request is too large to be an id"}, 400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]}, 400)

    return app


def app_from_environment() -> FastAPI:
    """The app of one `onduty serve --processes N` process, built from the environment's settings.
    Every process may run a worker: they share due work through the database's row locks."""
    import os

    from onduty.bootstrap import build
    from onduty.config import SERVE_WORKER_ENV
    from onduty.web.heap import settle_heap

    app = create_app(build(), run_worker=os.environ.get(SERVE_WORKER_ENV, "1") == "1")
    settle_heap()
    return app
