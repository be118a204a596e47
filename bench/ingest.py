"""Benchmark: alert ingest over HTTP against `onduty serve`, side by side with a real Alertmanager.

Loads (each answered 2xx only after the events are committed, on onduty's side):
  pd         single PagerDuty Events v2 triggers (`POST /v2/enqueue`) at --concurrency; a share
             (--dedup-ratio) repeats a few hot dedup keys, the rest open incidents (which page)
  pd repeats the same, every event a repeat of an open alert (no incident to open)
  am-batch   Alertmanager webhooks of --batch alerts (`POST /integrations/alertmanager/{key}`), one
             group per webhook, fresh alerts each
and the same two loads sent to the Debian `prometheus-alertmanager` (`POST /api/v2/alerts`, single
alerts and batches), with the ratio onduty/Alertmanager of each. `--storm` instead sends 100,000
alerts over 1,000 keys and checks for exactly 1,000 incidents and 1,000 first pages, with the time
and the server's peak memory (VmHWM from /proc).

After each onduty load the database is read back: every accepted event must be stored.

Run: .venv/bin/python bench/ingest.py                 (fresh SQLite file in a temp dir)
     .venv/bin/python bench/ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/onduty_bench
     .venv/bin/python bench/ingest.py --storm
Figures are printed as one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson
from alertmanager_side import alertmanager, api_requests
from http_floor import floor_server
from loadgen import Load, machine_quiet, request_bytes, run_paced
from loadgen import run as send

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.faults.harness import reset_database

REPO = Path(__file__).resolve().parent.parent
PLAN = REPO / "examples" / "agency" / "onduty.yaml"
SERVICE = "recs-model"
COVERAGE = 'coverage: {start: "07:00", end: "22:00"}'  # the client of SERVICE in the sample plan
TIME_LIMIT = 600.0
STARTED = time.monotonic()


def note(message: str) -> None:
    print(f"[bench {time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def onduty(env: dict[str, str], *args: str) -> str:
    exe = str(Path(sys.executable).with_name("onduty"))
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"onduty {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PageReceiver(BaseHTTPRequestHandler):
    """Stands in for the phones: answers every webhook page with 204, so the worker delivers for real.
    `GET /counts` tells how many pages came, and how many were first-level escalation pages."""

    received = 0
    first_pages: ClassVar[set[str]] = set()  # webhook ids (idempotency keys) of first-level escalation pages

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        PageReceiver.received += 1
        key = self.headers.get("webhook-id", "")
        if key.startswith("page:") and ":escalate:0:0" in key:
            PageReceiver.first_pages.add(key)
        self.send_response(204)
        self.end_headers()

    def do_GET(self) -> None:
        body = orjson.dumps({"received": PageReceiver.received, "first_pages": len(PageReceiver.first_pages)})
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _receive(port: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageReceiver)
    port.put(server.server_address[1])
    server.serve_forever()


class Receiver:
    """The page receiver in a process of its own: its threads would otherwise take turns on the load
    generator's interpreter, and slow the load down by as much as the pages cost it."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        port = context.Queue()
        self.process = context.Process(target=_receive, args=(port,), daemon=True)
        self.process.start()
        self.port: int = port.get(timeout=60)

    def counts(self) -> tuple[int, int]:
        """(pages received, first-level pages received) so far."""
        found = httpx.get(f"http://127.0.0.1:{self.port}/counts", timeout=10, trust_env=False).json()
        return int(found["received"]), int(found["first_pages"])

    def shutdown(self) -> None:
        self.process.terminate()
        self.process.join(10)


def loopback_plan(workdir: Path) -> tuple[Path, Receiver]:
    """The sample plan with its webhook pages pointed at a receiver on loopback."""
    receiver = Receiver()
    hooks = f"http://127.0.0.1:{receiver.port}/hooks/"
    plan = workdir / "onduty.yaml"
    text = PLAN.read_text()
    if COVERAGE not in text:
        raise SystemExit(f"{PLAN} no longer gives the bench service's client {COVERAGE}; update bench/ingest.py")
    # around the clock: the bench's incidents page at once whatever the time of day it runs at
    plan.write_text(text.replace("https://pager.halyard.example/hooks/", hooks).replace(COVERAGE, "coverage: 24x7", 1)
                    .replace("organization:\n", "organization:\n  webhook_allow_networks: [127.0.0.0/8]\n", 1))
    shutil.copytree(PLAN.parent / "runbooks", workdir / "runbooks", dirs_exist_ok=True)
    return plan, receiver


def family(pid: int) -> list[int]:
    """`pid` and its descendants now (the ingest process, the processes of `serve --processes N`), from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def peak_rss_mb(pid: int) -> float | None:
    """The peak resident memory of `pid` and its descendants, added up (VmHWM from /proc)."""
    total = 0
    for member in family(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1) if total else None


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid` and its descendants so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def database_cpu_seconds(url: str) -> float | None:
    """CPU time so far of the PostgreSQL backends serving `url`'s database (None on SQLite): the
    database's share of the work, which the server's own CPU time leaves out."""
    if not url.startswith("postgresql"):
        return None
    pids = query(url, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid != pg_backend_pid()")
    return sum((cpu_seconds(int(str(pid))) for (pid,) in pids), 0.0)


def database_cpu_us(url: str, before: float | None, count: int) -> float | None:
    """The database's CPU per event (µs) since `before` (a `database_cpu_seconds` reading), or None."""
    after = database_cpu_seconds(url)
    return None if before is None or after is None else round((after - before) * 1e6 / count, 1)


@contextmanager
def onduty_server(args: argparse.Namespace, workdir: Path,
                  ) -> Iterator[tuple[str, str, subprocess.Popen[bytes], Receiver]]:
    """A fresh database with the sample plan, an integration key, and `onduty serve` on loopback."""
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    if args.database_url:
        reset_database(url)  # every run starts empty: a database filled by earlier runs is slower
    env = {**os.environ, "ONDUTY_DATABASE_URL": url, "ONDUTY_INGEST_RATE_PER_KEY": "1e9",
           "ONDUTY_INGEST_BURST_PER_KEY": "1e9", "ONDUTY_INGEST_RATE_PER_CLIENT": "1e9",
           "ONDUTY_INGEST_BURST_PER_CLIENT": "1e9"}
    plan, receiver = loopback_plan(workdir)
    onduty(env, "plan", "apply", str(plan))
    key = onduty(env, "keys", "create", "--service", SERVICE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (workdir / "serve.log").open("wb")
    exe = str(Path(sys.executable).with_name("onduty"))
    inline = ["--worker"] if args.worker == "inline" else ["--no-worker"]
    processes = ["--processes", str(args.processes)] if getattr(args, "processes", 1) > 1 else []
    server = subprocess.Popen([exe, "serve", "--port", str(port), *inline, *processes], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    worker = subprocess.Popen([exe, "worker", "--poll", "0.2"], env=env, stdout=log, stderr=subprocess.STDOUT) \
        if args.worker == "process" else None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit(f"onduty serve exited early; see {workdir / 'serve.log'}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield base, key, server, receiver
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()
        receiver.shutdown()


def commit_counts(base: str) -> tuple[float, float]:
    """(group commits, events they stored) so far, from the server's `onduty_ingest_commit_events`."""
    found = {"count": 0.0, "sum": 0.0}
    for line in httpx.get(f"{base}/metrics", timeout=10, trust_env=False).text.splitlines():
        for part in found:
            if line.startswith(f"onduty_ingest_commit_events_{part} "):
                found[part] = float(line.split()[-1])
    return found["count"], found["sum"]


def events_per_commit(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    commits = after[0] - before[0]
    return round((after[1] - before[1]) / commits, 1) if commits else None


def query(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def worker_caught_up(url: str, timeout: float = 300.0) -> float | None:
    """Wait until the worker has fired every due timer and sent every due page, so that the next load
    does not share the machine (and SQLite's write lock) with this one's paging; the seconds it took,
    or None when `timeout` passed first."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        now = datetime.now(UTC)
        at: object = now if url.startswith("postgresql") else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        due = query(url, "SELECT (SELECT COUNT(*) FROM timers WHERE NOT done AND due_at <= :at) + "
                         "(SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'delivering') "
                         "AND next_attempt_at <= :at)", at=at)[0][0]
        if due == 0:
            return round(time.monotonic() - started, 1)
        time.sleep(0.5)
    return None


def pd_requests(base: str, key: str, prefix: str, count: int, ratio: float, hot: list[str],
                seed: int, severity: str = "warning") -> tuple[list[tuple[bytes, int]], list[str]]:
    rng = random.Random(seed)
    keys = [rng.choice(hot) if rng.random() < ratio else f"{prefix}-u{i}" for i in range(count)]
    requests = [(request_bytes(base, "/v2/enqueue", orjson.dumps({
        "routing_key": key, "event_action": "trigger", "dedup_key": k,
        "payload": {"summary": f"bench: p99 latency over SLO on {k}", "source": "bench", "severity": severity},
    })), 1) for k in keys]
    return requests, keys


def am_webhook_requests(base: str, key: str, prefix: str, batches: int, size: int) -> list[tuple[bytes, int]]:
    requests = []
    for b in range(batches):
        alerts = [{"status": "firing", "labels": {"alertname": "BenchAlert", "pod": f"{prefix}-{b}-{i}",
                                                  "severity": "warning"},
                   "annotations": {"summary": f"bench alert {b}/{i}"}, "startsAt": "2026-11-20T23:40:00Z",
                   "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"{prefix}{b:05d}{i:03d}"}
                  for i in range(size)]
        body = {"version": "4", "groupKey": f'{{}}:{{alertname="BenchAlert",batch="{prefix}-{b}"}}',
                "status": "firing", "receiver": "onduty", "groupLabels": {}, "commonLabels": {},
                "commonAnnotations": {}, "externalURL": "http://am.example", "truncatedAlerts": 0,
                "alerts": alerts}
        requests.append((request_bytes(base, f"/integrations/alertmanager/{key}", orjson.dumps(body)), size))
    return requests


def measured(name: str, load: Load, extra: dict[str, object] | None = None) -> dict[str, object]:
    figures = load.figures()
    latency: Any = figures["latency_ms"]
    note(f"{name}: {figures['events_per_s']} events/s, p50 {latency['p50']} ms, "
         f"p99 {latency['p99']} ms, statuses {figures['statuses']}")
    return {**figures, **(extra or {})}


def run_compare(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    prefix = f"b{uuid.uuid4().hex[:6]}"
    hot = [f"{prefix}-hot{i}" for i in range(args.hot_keys)]
    results: dict[str, object] = {}
    with onduty_server(args, workdir) as (base, key, server, receiver):
        warm, _ = pd_requests(base, key, f"{prefix}-w", 300, 0.0, hot, 2)
        send(base, [(request_bytes(base, "/v2/enqueue", orjson.dumps({
            "routing_key": key, "event_action": "trigger", "dedup_key": h,
            "payload": {"summary": "hot", "source": "bench", "severity": "warning"}})), 1) for h in hot] + warm, 8)
        requests, keys = pd_requests(base, key, f"{prefix}-m", args.events, args.dedup_ratio, hot, args.seed,
                                     args.severity)
        machine_quiet()
        cpu_before, commits_before = cpu_seconds(server.pid), commit_counts(base)
        pages_before, db_before = receiver.counts()[0], database_cpu_seconds(url)
        load = send(base, requests, args.concurrency)
        cpu_single, commits_single = cpu_seconds(server.pid) - cpu_before, commit_counts(base)
        db_single = database_cpu_us(url, db_before, args.events)
        pages_single = receiver.counts()[0] - pages_before
        rows = query(url, "SELECT dedup_key, occurrences FROM alerts WHERE dedup_key LIKE :p", p=f"{prefix}-%")
        stored = {k: n for k, n in rows}
        new_keys = {k for k in keys if not k.startswith(f"{prefix}-hot")}
        mixed = results["onduty_pd_single"] = measured("onduty pd single", load, {
            "events": args.events, "concurrency": args.concurrency, "dedup_ratio": args.dedup_ratio,
            "severity": args.severity, "pages_received_during_load": pages_single,
            "lost": len(new_keys - set(stored)) if load.statuses.get(202) == args.events else "n/a",
            "incidents_opened": len(new_keys),
            "server_cpu_us_per_event": round(1e6 * cpu_single / args.events, 1),
            "database_cpu_us_per_event": db_single,
            "events_per_commit": events_per_commit(commits_before, commits_single),
        })
        if args.worker != "none":
            mixed["worker_caught_up_after_s"] = worker_caught_up(url)
        mixed["machine_quiet_after_s"] = machine_quiet()  # every load starts on a quiet machine
        # The same load with every event a repeat of an open alert: what the single figure costs without
        # the incidents (each with its timers and timeline) that the new keys open.
        repeats, _ = pd_requests(base, key, f"{prefix}-r", args.events, 1.0, hot, args.seed + 1)
        cpu_before, commits_before = cpu_seconds(server.pid), commit_counts(base)
        db_before = database_cpu_seconds(url)
        load = send(base, repeats, args.concurrency)
        results["onduty_pd_single_repeats"] = measured("onduty pd single, repeats only", load, {
            "events": args.events, "concurrency": args.concurrency, "dedup_ratio": 1.0,
            "server_cpu_us_per_event": round(1e6 * (cpu_seconds(server.pid) - cpu_before) / args.events, 1),
            "database_cpu_us_per_event": database_cpu_us(url, db_before, args.events),
            "events_per_commit": events_per_commit(commits_before, commit_counts(base)),
        })
        machine_quiet()
        batches = max(1, args.batch_events // args.batch)
        cpu_before, db_before = cpu_seconds(server.pid), database_cpu_seconds(url)
        am_load = send(base, am_webhook_requests(base, key, prefix, batches, args.batch), args.batch_concurrency)
        cpu_after, db_alert = cpu_seconds(server.pid), database_cpu_us(url, db_before, batches * args.batch)
        stored_am = query(url, "SELECT COUNT(*) FROM alerts WHERE dedup_key LIKE 'am:%'")[0][0]
        results["onduty_am_batch"] = measured(f"onduty alertmanager webhook x{args.batch}", am_load, {
            "alerts": batches * args.batch, "batch": args.batch, "concurrency": args.batch_concurrency,
            "stored_alerts": stored_am,
            "server_cpu_us_per_alert": round((cpu_after - cpu_before) * 1e6 / (batches * args.batch), 1),
            "database_cpu_us_per_alert": db_alert,
        })
        time.sleep(1)
        results["onduty_peak_rss_mb"] = peak_rss_mb(server.pid)
        results["pages_received"] = receiver.counts()[0]
    with alertmanager(workdir, free_port()) as am:
        single = api_requests(am, f"{prefix}-s", args.events, 1)
        send(am, api_requests(am, f"{prefix}-w", 300, 1), 8)
        machine_quiet()  # onduty's worker and database have stopped: Alertmanager starts as quiet as onduty did
        results["alertmanager_single"] = measured("alertmanager single", send(am, single, args.concurrency))
        batch = api_requests(am, f"{prefix}-b", max(1, args.batch_events // args.batch), args.batch)
        results["alertmanager_batch"] = measured(f"alertmanager batch x{args.batch}",
                                                 send(am, batch, args.batch_concurrency))
    with floor_server(free_port()) as (floor, process):
        # the same single events, answered by the least a Python endpoint on onduty's HTTP stack can do
        send(floor, pd_requests(floor, "floor", f"{prefix}-fw", 300, 0.0, hot, 2)[0], 8)
        cpu_before = cpu_seconds(process.pid)
        load = send(floor, pd_requests(floor, "floor", f"{prefix}-f", args.events, args.dedup_ratio, hot,
                                       args.seed)[0], args.concurrency)
        results["python_http_floor_single"] = measured("python http floor single", load, {
            "server_cpu_us_per_event": round(1e6 * (cpu_seconds(process.pid) - cpu_before) / args.events, 1),
        })
    ratio = {}
    for mine, theirs, name in (("python_http_floor_single", "alertmanager_single", "python_http_floor_single"),
                               ("onduty_pd_single", "alertmanager_single", "single"),
                               ("onduty_pd_single_repeats", "alertmanager_single", "single_repeats_only"),
                               ("onduty_am_batch", "alertmanager_batch", "batch")):
        a: Any = results[mine]
        b: Any = results[theirs]
        ratio[name] = round(a["events_per_s"] / b["events_per_s"], 3) if b["events_per_s"] else None
    results["ratio_onduty_to_alertmanager"] = ratio
    return results


def run_rate(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """Single PagerDuty events at a fixed rate (open loop): the latency a steady source sees."""
    prefix = f"r{uuid.uuid4().hex[:6]}"
    hot = [f"{prefix}-hot{i}" for i in range(args.hot_keys)]
    with onduty_server(args, workdir) as (base, key, server, receiver):
        warm, _ = pd_requests(base, key, f"{prefix}-w", 300, 0.0, hot, 2)
        send(base, warm, 8)
        pages_before = receiver.counts()[0]
        count = int(args.rate * args.seconds)
        requests, _ = pd_requests(base, key, f"{prefix}-m", count, args.dedup_ratio, hot, args.seed,
                                  args.severity)
        cpu_before = cpu_seconds(server.pid)
        load = run_paced(base, requests, args.rate)
        cpu = cpu_seconds(server.pid) - cpu_before
        return {"onduty_pd_fixed_rate": measured(f"onduty pd at {args.rate:g}/s", load, {
            "rate_per_s": args.rate, "events": count, "dedup_ratio": args.dedup_ratio,
            "server_cpu_us_per_event": round(1e6 * cpu / count, 1),
            "severity": args.severity, "pages_received_during_load": receiver.counts()[0] - pages_before,
            "latency_measured_from": "each request's due time (open loop)"})}


def run_storm(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """100,000 critical triggers over 1,000 keys: exactly 1,000 incidents, each paging its first level once."""
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    prefix = f"s{uuid.uuid4().hex[:6]}"
    keys = [f"{prefix}-{i % args.storm_keys}" for i in range(args.storm_alerts)]
    with onduty_server(args, workdir) as (base, key, server, receiver):
        requests = [(request_bytes(base, "/v2/enqueue", orjson.dumps({
            "routing_key": key, "event_action": "trigger", "dedup_key": k,
            "payload": {"summary": f"storm on {k}", "source": "bench", "severity": "critical"},
        })), 1) for k in keys]
        started = time.perf_counter()
        load = send(base, requests, args.concurrency)
        deadline = time.monotonic() + 120
        while receiver.counts()[1] < args.storm_keys and time.monotonic() < deadline:
            time.sleep(0.2)
        paged_after = time.perf_counter() - started
        time.sleep(1)
        incidents = query(url, "SELECT COUNT(DISTINCT incident_id) FROM alerts WHERE dedup_key LIKE :p",
                          p=f"{prefix}-%")[0][0]
        occurrences = query(url, "SELECT SUM(occurrences) FROM alerts WHERE dedup_key LIKE :p", p=f"{prefix}-%")[0][0]
        first_pages = query(url, "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE 'page:%:escalate:0:0:%'")[0][0]
        return {"storm": measured("storm", load, {
            "alerts": args.storm_alerts, "keys": args.storm_keys, "concurrency": args.concurrency,
            "incidents": incidents, "stored_occurrences": occurrences, "first_pages_queued": first_pages,
            "first_pages_received": receiver.counts()[1],
            "webhooks_received_in_all": receiver.counts()[0],
            "seconds_until_every_first_page_delivered": round(paged_after, 2),
            "server_peak_rss_mb": peak_rss_mb(server.pid),
        })}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="single events per load (default 10000)")
    parser.add_argument("--concurrency", type=int, default=32, help="senders of single events (default 32)")
    parser.add_argument("--dedup-ratio", type=float, default=0.5, help="share of repeats of hot keys (0.5)")
    parser.add_argument("--severity", default="warning",
                        help="PagerDuty severity of the single events (default warning: Sev3, paging the on-call)")
    parser.add_argument("--hot-keys", type=int, default=20, help="how many hot dedup keys (default 20)")
    parser.add_argument("--batch", type=int, default=100, help="alerts per batch (default 100)")
    parser.add_argument("--batch-events", type=int, default=100_000, help="alerts sent in batches (100000)")
    parser.add_argument("--batch-concurrency", type=int, default=8, help="senders of batches (default 8)")
    parser.add_argument("--worker", choices=("inline", "process", "none"), default="process",
                        help="the worker in the server process, in its own process (default), or not at all")
    parser.add_argument("--processes", type=int, default=1, help="HTTP processes of `onduty serve` (default 1)")
    parser.add_argument("--storm", action="store_true", help="run the alert storm instead")
    parser.add_argument("--rate", type=float, help="instead: single events at this fixed rate per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="with --rate: how long (default 20)")
    parser.add_argument("--storm-alerts", type=int, default=100_000)
    parser.add_argument("--storm-keys", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (database, server log)")
    parser.add_argument("--database-url", help="a database to use instead of a fresh SQLite file (emptied first)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="onduty-bench-"))
    note(f"work dir {workdir}; database {args.database_url or 'fresh SQLite file'}")
    try:
        if args.storm:
            figures = run_storm(args, workdir)
        elif args.rate:
            figures = run_rate(args, workdir)
        else:
            figures = run_compare(args, workdir)
    except BaseException:
        note(f"kept {workdir} (server log, database) to look into")
        raise
    figures = {"bench": "ingest", "database": (args.database_url or "sqlite").split(":", 1)[0], **figures}
    print(json.dumps(figures, indent=2))
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
