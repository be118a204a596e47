"""`POST /api/v1/feeds/{feed}/batches`: a data batch (CSV, JSON lines, Parquet) checked before use.

The body streams to a temporary file (413 past ONDUTY_MAX_FEED_BYTES), is parsed (400 naming the row
or column), checked against the feed's reference, and answered with the verdict and its findings so
the pipeline can hold a bad batch. Authenticated by the feed's service's integration key; each batch
counts as one event against the key's and its client's ingest limits (429 with Retry-After past them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from onduty.adapters.feeds.reader import CONTENT_TYPES, BadBatch, format_for_content_type, read_batch
from onduty.app.feeds import BatchOutcome, NoReference, feed_spec, receive_batch
from onduty.app.ports import NotFound
from onduty.domain.alerts import Decision
from onduty.web.api.events import reply, service_for
from onduty.web.auth import bearer
from onduty.web.limits import ingest_limit

router = APIRouter(tags=["feeds"])


class _TooLarge(Exception):
    pass


async def _spool(request: Request, limit: int, target: Path) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    size = 0
    with target.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge
            out.write(chunk)


def _check(request: Request, feed: str, path: Path, fmt: str, service_id: str) -> BatchOutcome:
    container = request.app.state.container
    batch = read_batch(path, fmt)
    outcome = receive_batch(container.db, feed, batch, container.clock.now(), service_id)
    if outcome.decision in (Decision.OPEN, Decision.GROUP):
        container.worker.wake()  # the new incident pages now
    return outcome


@router.post("/api/v1/feeds/{feed}/batches", summary="Check a data batch before it is used")
async def feed_batch(request: Request, feed: str) -> Response:
    """Answer `accept` or `quarantine` with the findings; a quarantined batch raises the feed's alert."""
    key = bearer(request)
    owner = await service_for(request, key)
    if owner is None:
        return reply({"detail": "unknown integration key; create one with: onduty keys create --service SERVICE"}, 401)
    container = request.app.state.container
    try:
        spec = await run_in_threadpool(feed_spec, container.db, feed, owner.service_id)
    except NotFound as exc:
        return reply({"detail": str(exc)}, 404)
    fmt = format_for_content_type(request.headers.get("content-type"), spec.format)
    if fmt is None:
        accepted = ", ".join(sorted(CONTENT_TYPES))
        return reply({"detail": f"Content-Type {request.headers.get('content-type')!r} is not a batch format; "
                                f"send one of {accepted} (or set the feed's format in the plan)"}, 415)
    exceeded = ingest_limit(request, owner.key_hash, "this integration key", owner.client_id, 1, "feed batches")
    if exceeded is not None:  # refused before its body is read: a flood of batches costs no disk or parsing
        return reply({"detail": exceeded.message}, 429, exceeded.headers)
    limit = container.settings.max_feed_bytes
    with tempfile.TemporaryDirectory(prefix="onduty-feed-") as folder:
        path = Path(folder) / f"batch.{fmt}"
        try:
            await _spool(request, limit, path)
        except _TooLarge:
            return reply({"detail": f"the batch is larger than {limit} bytes (ONDUTY_MAX_FEED_BYTES)"}, 413)
        if path.stat().st_size == 0:
            return reply({"detail": "the request body is empty; send the batch file as the body"}, 400)
        try:
            outcome = await run_in_threadpool(_check, request, feed, path, fmt, owner.service_id)
        except BadBatch as exc:
            return reply({"detail": f"the batch cannot be read: {exc}"}, 400)
        except NoReference as exc:
            return reply({"detail": str(exc)}, 409)
        except NotFound as exc:
            return reply({"detail": str(exc)}, 404)
    return reply(outcome.as_dict(), 200)
