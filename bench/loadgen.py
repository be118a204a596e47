"""A small, fast HTTP/1.1 load generator: N keep-alive connections, each sending prepared requests one
after another and timing each answer. Plain asyncio streams (uvloop when installed), so the client
side costs little next to the server being measured; httpx would be the bottleneck at these rates.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Load:
    """What a run sent and got: status counts, per-request latencies (s), events carried, wall time."""

    statuses: Counter[int | str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    events_ok: int = 0
    seconds: float = 0.0
    bodies: list[bytes] = field(default_factory=list)  # kept only when asked
    machine_busy: float | None = None  # CPU seconds every process on the machine used meanwhile
    sender_cpu: float = 0.0  # CPU seconds of this load generator's own process meanwhile

    def figures(self) -> dict[str, object]:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            if not ordered:
                return 0.0
            return round(ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))] * 1000, 2)

        return {
            "requests": len(self.latencies), "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events_ok / self.seconds, 1) if self.seconds else 0.0,
            "latency_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99), "max": pct(100)},
            "statuses": {str(k): v for k, v in self.statuses.items()},
            **self._cpu_figures(),
        }

    def _cpu_figures(self) -> dict[str, object]:
        """Where the CPU went per event: the whole machine's (server, worker, database, this load
        generator: the budget every side shares on a small machine) and this load generator's own."""
        if not self.events_ok or not self.seconds or self.machine_busy is None:
            return {}
        cores = os.cpu_count() or 1
        return {"machine_cpu_us_per_event": round(self.machine_busy * 1e6 / self.events_ok, 1),
                "machine_busy_share": round(self.machine_busy / (cores * self.seconds), 3),
                "sender_cpu_us_per_event": round(self.sender_cpu * 1e6 / self.events_ok, 1)}


def machine_busy_seconds() -> float | None:
    """CPU seconds spent by every core so far, idle and I/O wait left out (Linux's /proc/stat), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - fields[3] - fields[4]) / ticks


def machine_quiet(timeout: float = 300.0, share: float = 0.1, window: float = 2.0) -> float | None:
    """Wait until the machine's cores have been less than `share` busy for `window` seconds (a worker
    catching up on pages and audit seals, a database's autovacuum: work a load left behind that would
    otherwise land on the next one); the seconds it took, or None when `timeout` passed first."""
    started = time.monotonic()
    cores, step, calm = os.cpu_count() or 1, 0.5, 0.0
    last = machine_busy_seconds()
    while last is not None and time.monotonic() - started < timeout:
        time.sleep(step)
        now = machine_busy_seconds()
        if now is None:
            return None
        calm = calm + step if (now - last) / (cores * step) < share else 0.0
        last = now
        if calm >= window:
            return round(time.monotonic() - started, 1)
    return None


def _timed(load: Load, busy_before: float | None, cpu_before: float) -> Load:
    busy_after = machine_busy_seconds()
    load.machine_busy = None if busy_before is None or busy_after is None else busy_after - busy_before
    load.sender_cpu = time.process_time() - cpu_before
    return load


def request_bytes(url: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    host = urlsplit(url).netloc
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value.strip())
        elif lowered == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]
    return status, (await reader.readexactly(length) if length else b"")


async def _connection(url: str, work: Iterator[tuple[bytes, int, float | None]], load: Load,
                      keep_bodies: bool) -> None:
    """Send the next request whenever this connection is free; a paced request waits for its due time
    and is timed from it, so a server that falls behind shows the queueing in its latency."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port, limit=1 << 22)
    try:
        for payload, events, due in work:
            if due is not None:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            started = due if due is not None else time.perf_counter()
            try:
                writer.write(payload)
                status, body = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                load.statuses[type(exc).__name__] += 1
                load.latencies.append(time.perf_counter() - started)
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port, limit=1 << 22)
                continue
            load.latencies.append(time.perf_counter() - started)
            load.statuses[status] += 1
            if 200 <= status < 300:
                load.events_ok += events
            if keep_bodies:
                load.bodies.append(body)
    finally:
        writer.close()


async def _run(url: str, requests: list[tuple[bytes, int]], concurrency: int, keep_bodies: bool) -> Load:
    load = Load()
    work = ((payload, events, None) for payload, events in requests)  # shared by every connection
    busy, cpu, started = machine_busy_seconds(), time.process_time(), time.perf_counter()
    await asyncio.gather(*(_connection(url, work, load, keep_bodies) for _ in range(concurrency)))
    load.seconds = time.perf_counter() - started
    return _timed(load, busy, cpu)


def run(url: str, requests: list[tuple[bytes, int]], concurrency: int, keep_bodies: bool = False) -> Load:
    """Send every (request bytes, events it carries) over `concurrency` connections; return the figures."""
    try:
        import uvloop

        return uvloop.run(_run(url, requests, concurrency, keep_bodies))
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(_run(url, requests, concurrency, keep_bodies))


async def _run_paced(url: str, requests: list[tuple[bytes, int]], rate: float, connections: int) -> Load:
    load = Load()
    busy, cpu, started = machine_busy_seconds(), time.process_time(), time.perf_counter()
    work = ((payload, events, started + i / rate) for i, (payload, events) in enumerate(requests))
    await asyncio.gather(*(_connection(url, work, load, False) for _ in range(connections)))
    load.seconds = time.perf_counter() - started
    return _timed(load, busy, cpu)


def run_paced(url: str, requests: list[tuple[bytes, int]], rate: float, connections: int = 64) -> Load:
    """Send at a fixed `rate` (open loop), timing each request from when it was due."""
    try:
        import uvloop

        return uvloop.run(_run_paced(url, requests, rate, connections))
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        return asyncio.run(_run_paced(url, requests, rate, connections))
