"""Load benchmark: paging latency with 1,000 open incidents, and API latency with 100,000 incidents stored.

pages   1,000 incidents are opened with their first timer falling due over --spread seconds (and their
        escalation --ack seconds after each); one `onduty worker` process runs on the wall clock and pages
        a loopback receiver. Latency = arrival at the receiver minus the timer's due time; p50/p99 over all
        pages. The worker's CPU: seconds used while paging, per page, and per idle tick (no due work,
        once the storm's audit rows are sealed).
api     --incidents incidents are stored (bulk insert, a realistic mix of clients, services and statuses,
        each with a few timeline rows); `onduty serve --no-worker` answers incident lists (all, open,
        one client's) and details of random incidents; p50/p99 per kind, measured in the client.

Run: .venv/bin/python bench/load.py                      (fresh SQLite files in a temp dir)
     .venv/bin/python bench/load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/onduty_faults
Figures are printed as one JSON object on stdout; progress goes to stderr. The database is emptied first.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.harness import PLAN, Proc, Receiver, free_port, onduty_command, reset_database

from onduty.adapters.db import tables as t
from onduty.app.ingest import ingest_events
from onduty.bootstrap import build
from onduty.config import Settings
from onduty.domain.alerts import AlertEvent

STARTED = time.monotonic()
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def note(message: str) -> None:
    print(f"[load {time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 2), "p99": round(ordered[int(0.99 * (len(ordered) - 1))], 2),
            "max": round(ordered[-1], 2), "n": len(ordered)}


def paging(url: str, workdir: Path, incidents: int, spread: float, ack: int, receiver_delay: float,
           senders: int) -> dict[str, Any]:
    reset_database(url)
    receiver = Receiver(delay=receiver_delay)
    plan = workdir / "load.yaml"
    plan.write_text(PLAN.format(url=receiver.url, ack_timeout=ack))
    env = {**os.environ, "ONDUTY_DATABASE_URL": url}
    if senders:
        env["ONDUTY_DELIVERY_THREADS"] = str(senders)
    onduty_command(env, "plan", "apply", str(plan))
    container = build(Settings(database_url=url))
    start = datetime.now(UTC) + timedelta(seconds=25)  # time to store them and start the worker first
    due: dict[str, float] = {}
    for i in range(incidents):
        at = start + timedelta(seconds=spread * i / incidents)
        result = ingest_events(container.db, [("shop-api", AlertEvent("trigger", f"load-{i}", "load", "bench",
                                                                      "critical"))], at)[0]
        due[f"page:{result.incident_id}:escalate:0:0:ana:c0"] = at.timestamp()
        due[f"page:{result.incident_id}:escalate:0:1:ben:c0"] = (at + timedelta(seconds=ack)).timestamp()
    container.db.dispose()
    note(f"{incidents} incidents open, first timers due from {start:%H:%M:%S} over {spread:.0f}s")
    worker = Proc("worker", ["worker", "--poll", "0.5"], env)
    worker.start()
    assert worker.process is not None
    time.sleep(max(start.timestamp() - time.time(), 0))
    busy_from = cpu_seconds(worker.process.pid)
    deadline = time.time() + spread + ack + 120
    while time.time() < deadline and not all(k in receiver.arrivals for k in due):
        time.sleep(0.1)
    busy_cpu = cpu_seconds(worker.process.pid) - busy_from
    paged_at = time.time()
    while time.time() < paged_at + 60 and unsealed_rows(url):
        time.sleep(0.2)  # the worker seals the storm's audit rows once paging is done
    sealed_after = time.time() - paged_at
    time.sleep(1.0)  # all paged and sealed: from here on the worker ticks with nothing due
    idle_cpu = cpu_seconds(worker.process.pid)
    time.sleep(4.0)
    idle_cpu = cpu_seconds(worker.process.pid) - idle_cpu
    worker.stop()
    receiver.close()
    latencies = [receiver.arrivals[k] - due[k] for k in due if k in receiver.arrivals]
    return {
        "incidents": incidents, "timer_pages_due": len(due), "timer_pages_arrived": len(latencies),
        "pages_arrived_in_all": len(receiver.arrivals),  # Sev1 also pages the client's leads at once
        "timer_due_to_page_seconds": percentiles(latencies),
        "worker_cpu_seconds": round(busy_cpu, 2),
        "worker_cpu_ms_per_page": round(1000 * busy_cpu / max(len(latencies), 1), 2),
        "worker_cpu_ms_per_idle_tick": round(1000 * idle_cpu / (4.0 / 0.5), 2),
        "audit_sealed_seconds_after_last_page": round(sealed_after, 1),
    }


def unsealed_rows(url: str) -> int:
    """Timeline and admin rows not chained into the audit trail yet."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = sum(int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                   for table in (t.timeline, t.admin_actions))
        seals = int(conn.execute(select(func.count()).select_from(t.audit_seals)).scalar_one())
    engine.dispose()
    return rows - seals


def fill(url: str, count: int) -> None:
    """`count` incidents (a tenth open), each with three timeline rows, in bulk."""
    reset_database(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(t.clients), [{"id": f"c{i}", "name": f"Client {i}", "time_zone": "UTC", "active": True}
                                         for i in range(20)])
        conn.execute(insert(t.services), [{"id": f"s{i}", "client_id": f"c{i % 20}", "name": f"svc {i}",
                                           "kind": "api", "active": True} for i in range(100)])
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(3)
    chunk = 5000
    for first in range(0, count, chunk):
        incidents, timeline = [], []
        for n in range(first + 1, min(first + chunk, count) + 1):
            service = rng.randrange(100)
            at = base + timedelta(minutes=n)
            status = "triggered" if rng.random() < 0.1 else "resolved"
            incidents.append({"id": n, "service_id": f"s{service}", "client_id": f"c{service % 20}",
                              "title": f"incident {n}", "severity": rng.randrange(1, 5), "status": status,
                              "created_at": at, "escalation_level": 0, "escalation_loop": 0, "epoch": 0,
                              "resolved_at": at + timedelta(hours=1) if status == "resolved" else None})
            timeline += [{"incident_id": n, "at": at, "kind": kind, "actor": "bench", "message": kind, "data": {}}
                         for kind in ("incident.declared", "page.queued", "page.delivered")]
        with engine.begin() as conn:
            conn.execute(insert(t.incidents), incidents)
            conn.execute(insert(t.timeline), timeline)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval('incidents_id_seq', (SELECT max(id) FROM incidents))")
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def api(url: str, count: int, requests: int) -> dict[str, Any]:
    fill(url, count)
    note(f"{count} incidents stored")
    env = {**os.environ, "ONDUTY_DATABASE_URL": url, "ONDUTY_API_RATE_PER_KEY": "1e9",
           "ONDUTY_API_BURST_PER_KEY": "1e9", "ONDUTY_API_RATE_PER_CLIENT": "1e9", "ONDUTY_API_BURST_PER_CLIENT": "1e9"}
    key = onduty_command(env, "keys", "create", "--role", "viewer")
    port = free_port()
    server = Proc("server", ["serve", "--no-worker", "--port", str(port)], env, f"http://127.0.0.1:{port}/healthz")
    server.start()
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key}"}
    rng = random.Random(5)
    kinds = {
        "list_all": lambda: "/api/v1/incidents",
        "list_open": lambda: "/api/v1/incidents?status=open",
        "list_client": lambda: f"/api/v1/incidents?client=c{rng.randrange(20)}",
        "detail": lambda: f"/api/v1/incidents/{rng.randrange(1, count + 1)}",
        "timeline": lambda: f"/api/v1/incidents/{rng.randrange(1, count + 1)}/timeline",
    }
    figures: dict[str, Any] = {"incidents_stored": count}
    with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
        for path in kinds.values():
            client.get(path())  # warm up caches and connections
        for name, path in kinds.items():
            times = []
            for _ in range(requests):
                begun = time.perf_counter()
                response = client.get(path())
                times.append((time.perf_counter() - begun) * 1000)
                assert response.status_code == 200, response.text[:200]
            figures[f"{name}_ms"] = percentiles(times)
    server.stop()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: fresh SQLite files (the database is emptied first)")
    parser.add_argument("--open-incidents", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=20.0, help="seconds over which first timers fall due")
    parser.add_argument("--ack", type=int, default=15, help="seconds from the first page to the escalation")
    parser.add_argument("--incidents", type=int, default=100_000, help="incidents stored for the API figures")
    parser.add_argument("--requests", type=int, default=200, help="requests per API figure")
    parser.add_argument("--only", choices=["pages", "api"])
    parser.add_argument("--receiver-delay", type=float, default=0.0,
                        help="seconds the receiver takes to answer each page (a real API's latency; default 0)")
    parser.add_argument("--senders", type=int, default=0,
                        help="pages a worker sends at once (ONDUTY_DELIVERY_THREADS; default: the product's)")
    args = parser.parse_args()
    figures: dict[str, Any] = {"cores": os.cpu_count(), "load_average_1m_at_start": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory(prefix="onduty-load-") as folder:
        workdir = Path(folder)
        figures["database"] = (args.database_url or "sqlite").split(":")[0].split("+")[0]
        if args.only in (None, "pages"):
            url = args.database_url or f"sqlite:///{folder}/pages.db"
            figures["pages"] = paging(url, workdir, args.open_incidents, args.spread, args.ack,
                                      args.receiver_delay, args.senders)
            figures["pages"].update(receiver_delay_seconds=args.receiver_delay, senders=args.senders or "default")
            note(f"pages: {figures['pages']['timer_due_to_page_seconds']}")
        if args.only in (None, "api"):
            url = args.database_url or f"sqlite:///{folder}/api.db"
            figures["api"] = api(url, args.incidents, args.requests)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
