"""Benchmark: reading an incident's playbook (derived on every read) and ticking an item, printed as JSON.

An incident on the sample plan with `--changes` recent changes, `--requests` client requests and
`--workarounds` workarounds, half its items ticked: median and p95 milliseconds per full playbook
read (gather, derive, ticks, requests, runbooks) and per tick, on SQLite or the database given.

Run: .venv/bin/python bench/playbook.py [--reads 200] [--database-url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time as clock
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.progress import track

from onduty.adapters.clock import SimulatedClock
from onduty.app.changes import record_change
from onduty.app.client_requests import create_request
from onduty.app.incidents import declare
from onduty.app.plans import apply_plan
from onduty.app.playbook import add_workaround, playbook, tick
from onduty.bootstrap import build
from onduty.config import Settings
from onduty.domain.severity import Severity
from onduty.plan.load import load_plan

PLAN = Path(__file__).resolve().parents[1] / "examples" / "agency" / "onduty.yaml"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--workarounds", type=int, default=10)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        sim = SimulatedClock(datetime(2026, 11, 20, 23, 40, tzinfo=UTC))
        c = build(Settings(database_url=url), clock=sim)
        now = sim.now()
        apply_plan(c.db, load_plan(PLAN), str(PLAN), now)
        for i in range(args.changes):
            record_change(c.db, "recs-model" if i % 2 else "catalog-feed", f"change {i}", "ci",
                          now - timedelta(minutes=i * 10), {}, [], now)
        with c.db.transaction() as store:
            directory = store.directory()
            incident = declare(store, directory, directory.services["recs-model"], "relevance 0.08",
                               Severity.SEV1, now, "bench")
            incident.incident_type = "model_degradation"
            incident_id = incident.id
        assert incident_id is not None
        for i in range(args.requests):
            create_request(c.db, incident_id, f"request {i}", now + timedelta(minutes=5 + i), "bench", now)
        for i in range(args.workarounds):
            add_workaround(c.db, incident_id, f"workaround {i}", "bench", now)
        sim.advance(timedelta(minutes=20))
        items = [i.id for s in playbook(c.db, incident_id, sim.now()).steps for i in s.step.items]
        tick_ms = []
        for item in items[: len(items) // 2]:
            started = clock.perf_counter()
            tick(c.db, incident_id, item, "bench", sim.now())
            tick_ms.append((clock.perf_counter() - started) * 1000)
        read_ms = []
        for _ in track(range(args.reads), description="playbook reads", transient=True):
            started = clock.perf_counter()
            playbook(c.db, incident_id, sim.now())
            read_ms.append((clock.perf_counter() - started) * 1000)
        c.db.dispose()
    print(json.dumps({
        "database": "postgresql" if args.database_url else "sqlite", "items": len(items),
        "changes": args.changes, "requests": args.requests, "workarounds": args.workarounds,
        "read_ms": {"median": round(statistics.median(read_ms), 2), "p95": round(percentile(read_ms, 0.95), 2)},
        "tick_ms": {"median": round(statistics.median(tick_ms), 2), "p95": round(percentile(tick_ms, 0.95), 2)},
    }, indent=2))


if __name__ == "__main__":
    main()
