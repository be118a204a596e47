"""Benchmark: PagerDuty Events API v2 ingest (`POST /v2/enqueue`) over HTTP against `onduty serve`.

What it measures: events per second and per-request latency (p50/p90/p99/max) of trigger events
sent by `--concurrency` concurrent keep-alive HTTP/1.1 senders to a real `onduty serve` process
(worker in the same process unless `--no-worker`), on a fresh SQLite file in a temp dir, or on the
database given by `--database-url`. A share (`--dedup-ratio`) of the events repeats one of a few hot
dedup keys (deduplicated into open alerts); the rest open new alerts and incidents, which page, so
the worker has work too. Afterwards it reads the database back and checks that every accepted (202)
event was stored: each accepted new key has an alert row, and each accepted repeat was counted.

Run: .venv/bin/python bench/ingest.py --events 5000 --concurrency 32
Figures are printed as one JSON object on stdout; progress goes to stderr. `events_per_s` counts
accepted (202) events only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
PLAN = REPO / "examples" / "agency" / "onduty.yaml"
SERVICE = "recs-model"
TIME_LIMIT = 300.0
STARTED = time.monotonic()


def note(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


@dataclass
class Result:
    key: str  # dedup key
    hot: bool  # one of the few repeated keys
    status: int | str  # HTTP status, or the name of the client-side error
    seconds: float


def time_left(what: str) -> float:
    """Seconds left of the TIME_LIMIT budget (counted from start), or abort saying what was going on."""
    left = STARTED + TIME_LIMIT - time.monotonic()
    if left <= 0:
        raise SystemExit(f"bench aborted: over the {TIME_LIMIT:.0f} s limit while {what}")
    return left


def onduty(env: dict[str, str], *args: str) -> str:
    exe = str(Path(sys.executable).with_name("onduty"))
    try:
        done = subprocess.run([exe, *args], env=env, capture_output=True, text=True,
                              timeout=time_left(f"running onduty {args[0]}"))
    except subprocess.TimeoutExpired:
        raise SystemExit(f"bench aborted: over the {TIME_LIMIT:.0f} s limit running onduty {args[0]}") from None
    if done.returncode != 0:
        raise SystemExit(f"onduty {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while True:
            time_left("waiting for GET /healthz to answer 200")
            if server.poll() is not None:
                raise SystemExit(f"onduty serve exited early with code {server.returncode}")
            try:
                if client.get(f"{base}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)


def after_health(base: str) -> dict[str, object]:
    """GET /healthz right after the run: has the worker kept up with the paging work?"""
    try:
        response = httpx.get(f"{base}/healthz", timeout=10.0, trust_env=False)
        return {"http": response.status_code, **response.json()}
    except (httpx.HTTPError, ValueError) as exc:
        return {"http": type(exc).__name__}


def make_events(count: int, ratio: float, prefix: str, hot_keys: list[str],
                seed: int) -> list[tuple[str, bool]]:
    """`count` dedup keys: round(count*ratio) drawn from `hot_keys`, the rest unique, shuffled."""
    rng = random.Random(seed)
    n_hot = round(count * ratio)
    keys = [(rng.choice(hot_keys), True) for _ in range(n_hot)]
    keys += [(f"{prefix}-u{i}", False) for i in range(count - n_hot)]
    rng.shuffle(keys)
    return keys


async def send_all(base: str, routing_key: str, events: list[tuple[str, bool]],
                   concurrency: int) -> tuple[list[Result], float]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    results: list[Result] = []
    queue = iter(enumerate(events))

    async def sender(client: httpx.AsyncClient) -> None:
        for i, (key, hot) in queue:
            body = {"routing_key": routing_key, "event_action": "trigger", "dedup_key": key,
                    "payload": {"summary": f"bench: p99 latency over SLO on {key} (#{i})",
                                "source": "bench", "severity": "warning"}}
            started = time.perf_counter()
            try:
                status: int | str = (await client.post("/v2/enqueue", json=body)).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            results.append(Result(key, hot, status, time.perf_counter() - started))

    async with httpx.AsyncClient(base_url=base, limits=limits, http1=True, http2=False,
                                 timeout=60.0, trust_env=False) as client:
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(concurrency)))
        return results, time.perf_counter() - started


def read_alerts(url: str, prefix: str) -> tuple[list[tuple[str, int, int]], dict[str, int]]:
    """This run's alerts as (dedup_key, occurrences, incident_id) rows, and the tables' sizes."""
    alerts_sql = ("SELECT dedup_key, occurrences, incident_id FROM alerts "
                  "WHERE service_id = :service AND dedup_key LIKE :prefix")
    args = {"service": SERVICE, "prefix": f"{prefix}-%"}
    totals = "SELECT (SELECT COUNT(*) FROM alerts), (SELECT COUNT(*) FROM incidents)"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as conn:
            rows = conn.execute(alerts_sql, args).fetchall()
            total = conn.execute(totals).fetchone()
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                rows = [tuple(r) for r in conn.execute(text(alerts_sql), args)]
                total = tuple(conn.execute(text(totals)).one())
        finally:
            engine.dispose()
    return rows, {"alerts": total[0], "incidents": total[1]}


class PageReceiver(BaseHTTPRequestHandler):
    """Stands in for the phones: answers every webhook page with 204, so the worker delivers for real."""

    received = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        PageReceiver.received += 1
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def loopback_plan(workdir: Path) -> tuple[Path, ThreadingHTTPServer]:
    """The sample plan with its webhook pages pointed at a receiver on loopback."""
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), PageReceiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hooks = f"http://127.0.0.1:{receiver.server_address[1]}/hooks/"
    plan = workdir / "onduty.yaml"
    plan.write_text(PLAN.read_text().replace("https://pager.halyard.example/hooks/", hooks))
    for runbook in (PLAN.parent / "runbooks").iterdir():
        (workdir / "runbooks").mkdir(exist_ok=True)
        shutil.copy(runbook, workdir / "runbooks" / runbook.name)
    return plan, receiver


def percentile(ordered: list[float], p: float) -> float:
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def run(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    env = {**os.environ, "ONDUTY_DATABASE_URL": url}
    note(f"work dir {workdir}; database {url}")
    plan, receiver = loopback_plan(workdir)
    onduty(env, "plan", "apply", str(plan))
    routing_key = onduty(env, "keys", "create", "--service", SERVICE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [str(Path(sys.executable).with_name("onduty")), "serve", "--host", "127.0.0.1", "--port", str(port),
           *(["--no-worker"] if args.no_worker else [])]
    log_path = workdir / "serve.log"
    prefix = f"bench-{uuid.uuid4().hex[:8]}"  # this run's dedup keys, apart from any earlier run's
    hot_keys = [f"{prefix}-hot{i}" for i in range(args.hot_keys)]
    with log_path.open("wb") as log:
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(base, server)
            note(f"server up on {base} (worker {'off' if args.no_worker else 'on'}); log {log_path}")
            warm = make_events(args.warmup, args.dedup_ratio, f"{prefix}-w", hot_keys, args.seed + 1)
            warm[: len(hot_keys)] = [(k, True) for k in hot_keys]  # so measured repeats find open alerts
            events = make_events(args.events, args.dedup_ratio, f"{prefix}-m", hot_keys, args.seed)
            warm_results, _ = asyncio.run(asyncio.wait_for(
                send_all(base, routing_key, warm, args.concurrency), time_left("warming up")))
            note(f"warm-up: {len(warm)} events, statuses {dict(Counter(r.status for r in warm_results))}")
            results, seconds = asyncio.run(asyncio.wait_for(
                send_all(base, routing_key, events, args.concurrency), time_left("sending")))
            note(f"sent {len(events)} events in {seconds:.2f} s")
            health = after_health(base)
        except TimeoutError:
            raise SystemExit(f"bench aborted: over the {TIME_LIMIT:.0f} s limit; see {log_path}") from None
        finally:
            stopping = time.monotonic()
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                note("server ignored SIGTERM for 15 s; killing it")
                server.kill()
                server.wait(timeout=10)
            note(f"server stopped in {time.monotonic() - stopping:.1f} s (exit code {server.returncode})")
            receiver.shutdown()
    rows, totals = read_alerts(url, prefix)
    occurrences: Counter[str] = Counter()
    for key, count, _ in rows:
        occurrences[key] += count
    measured = [row for row in rows if row[0].startswith(f"{prefix}-m-")]
    accepted = [r for r in results if r.status == 202]
    accepted_unique = {r.key for r in accepted if not r.hot}
    repeats = sum(1 for r in warm_results + results if r.status == 202 and r.hot)
    stored_repeats = sum(occurrences.get(k, 0) for k in hot_keys)
    latencies = sorted(r.seconds * 1000 for r in results)
    log_text = log_path.read_text(errors="replace")
    return {
        "bench": "ingest",
        "server": f"onduty serve ({url.split(':', 1)[0].split('+', 1)[0]})",
        "worker": not args.no_worker,
        "events": args.events,
        "concurrency": args.concurrency,
        "dedup_ratio": args.dedup_ratio,
        "seconds": round(seconds, 3),
        "events_per_s": round(len(accepted) / seconds, 1),
        "latency_ms": {f"p{p}": round(percentile(latencies, p), 2) for p in (50, 90, 99)}
        | {"max": round(latencies[-1], 2)},
        "accepted": len(accepted),
        "errors": {str(k): v for k, v in Counter(r.status for r in results if r.status != 202).items()},
        "stored_alerts": len(measured),
        "incidents": len({row[2] for row in measured}),
        "lost": len(accepted_unique - set(occurrences)),
        "lost_repeats": repeats - stored_repeats,
        "duplicate_open_alerts": len(rows) - len(occurrences),  # the unique index should keep this 0
        "tables": totals,
        "healthz_after": health,
        "pages_received": PageReceiver.received,
        "server_log": {word.strip().lower(): log_text.count(word)
                       for word in (" WARNING ", " ERROR ", "Traceback", "locked")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: .venv/bin/python bench/ingest.py --events 5000 --concurrency 32\n"
               "         .venv/bin/python bench/ingest.py --database-url "
               "postgresql+psycopg://postgres@127.0.0.1:5432/onduty_bench",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000, help="events to measure (default 5000)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent senders (default 32)")
    parser.add_argument("--dedup-ratio", type=float, default=0.5,
                        help="share of events repeating a hot dedup key (default 0.5)")
    parser.add_argument("--hot-keys", type=int, default=20, help="how many hot dedup keys (default 20)")
    parser.add_argument("--warmup", type=int, default=200, help="uncounted warm-up events (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the event mix (default 1)")
    parser.add_argument("--no-worker", action="store_true", help="pass --no-worker to onduty serve")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, server log)")
    parser.add_argument("--database-url", help="use this database instead of a fresh SQLite file, e.g. "
                        "postgresql+psycopg://postgres@127.0.0.1:5432/onduty_bench")
    args = parser.parse_args()
    if args.events < 1 or args.concurrency < 1 or not 0 <= args.dedup_ratio <= 1 or args.hot_keys < 1:
        parser.error("--events, --concurrency and --hot-keys must be >= 1; --dedup-ratio within 0..1")
    if args.warmup < args.hot_keys:
        parser.error("--warmup must be at least --hot-keys (the warm-up opens every hot key once)")
    workdir = Path(tempfile.mkdtemp(prefix="onduty-bench-"))
    try:
        figures = run(args, workdir)
    except BaseException:
        note(f"kept {workdir} (server log, database) to look into")
        raise
    print(json.dumps(figures, indent=2))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
