"""Ingest limits: a request body size cap (413) and a token bucket per integration key (429).

The buckets live in memory, per process: a limit protects this server, and a restart forgives.
"""

from __future__ import annotations

import math
import threading
import time

from fastapi import Request


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused past `limit` bytes (by Content-Length at once, else while reading it)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    if declared is not None:
        return await request.body()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


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


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
