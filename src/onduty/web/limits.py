"""Request limits: a body size cap (413) and token buckets per key and per client (429 with Retry-After).

The buckets live in memory, per process: a limit protects this server, and a restart forgives.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import Request
from starlette.requests import ClientDisconnect


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused past `limit` bytes (by Content-Length at once, else while reading it).

    Read from the ASGI messages directly: a small body comes in one, and Starlette's header parsing
    and body stream cost an ingest request more CPU than its JSON did."""
    declared = None
    for name, value in request.scope["headers"]:
        if name == b"content-length":
            declared = value
            break
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        if not message.get("more_body", False):
            if not chunks:
                return chunk  # type: ignore[no-any-return]
            chunks.append(chunk)
            return b"".join(chunks)
        chunks.append(chunk)


class RateLimiter:
    """`rate` events a second per key, sustained, with bursts of up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: object = time.monotonic):
        self.rate, self.burst = rate, max(burst, 1.0)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str, cost: int = 1) -> float:
        """0 when `cost` events may pass now (and are counted); else the seconds to wait before retrying."""
        now: float = self._clock()  # type: ignore[operator]
        need = min(float(cost), self.burst)  # a request bigger than the burst passes on a full bucket
        with self._lock:
            tokens, at = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= need:
                self._buckets[key] = (tokens - need, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > 100_000:
                self._buckets.clear()
        return (need - tokens) / self.rate

    def give_back(self, key: str, cost: int = 1) -> None:
        """Return what `take` counted for a request that another limit then refused."""
        with self._lock:
            found = self._buckets.get(key)
            if found is not None:
                self._buckets[key] = (min(self.burst, found[0] + min(float(cost), self.burst)), found[1])


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


@dataclass(frozen=True)
class Bucket:
    """One limit a request counts against: its limiter, the bucket's key, and the limit's name for a 429."""

    limiter: RateLimiter
    key: str
    name: str


@dataclass(frozen=True)
class Exceeded:
    """A request past a limit: which one, and how long to wait; answered 429 with `headers`."""

    name: str
    wait: float

    @property
    def message(self) -> str:
        return f"rate limit for {self.name} exceeded; retry in {self.wait:.1f} s"

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": retry_after(self.wait)}


def over_limit(buckets: Sequence[Bucket], cost: int = 1) -> Exceeded | None:
    """Count `cost` against every bucket, or (past any of them) against none and say which limit it was."""
    taken: list[Bucket] = []
    for bucket in buckets:
        wait = bucket.limiter.take(bucket.key, cost)
        if wait > 0:
            for done in taken:
                done.limiter.give_back(done.key, cost)
            return Exceeded(bucket.name, wait)
        taken.append(bucket)
    return None


def ingest_limit(request: Request, key: str, key_name: str, client_id: str | None, cost: int,
                 kind: str = "") -> Exceeded | None:
    """The ingest limits (ONDUTY_INGEST_*) of one request: its key's, and its client's (all the client's keys
    together). A `kind` (metric points, feed batches) is counted in buckets of its own, so it cannot use up
    the alerts' share."""
    state = request.app.state
    prefix, of = (f"{kind}:", f"{kind} of ") if kind else ("", "")
    buckets = [Bucket(state.rate_limiter, prefix + key, of + key_name)]
    if client_id is not None:
        buckets.append(Bucket(state.client_rate_limiter, prefix + client_id,
                              f"{of}client {client_id!r} (all its keys together)"))
    return over_limit(buckets, cost)
