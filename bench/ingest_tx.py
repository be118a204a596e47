"""Benchmark: the ingest writer's CPU per transaction, by how many single events a group commit carries.

Under single events at concurrency 32 a group commit carries 10 to 30 events, so what a transaction
costs whatever it holds (begin, the silences read, the commit) weighs as much as each event's own
work. This times `ingest_events` in one thread, as the writer runs it (a kept connection, the batching
store), in CPU (time.thread_time) and wall time per transaction, for batches of new keys (each opens
an incident) and of repeats of open alerts, at --sizes.

Run: .venv/bin/python bench/ingest_tx.py                 (fresh SQLite file in a temp dir)
     .venv/bin/python bench/ingest_tx.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/onduty_bench
Figures are printed as one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onduty.adapters.clock import SimulatedClock
from onduty.adapters.db.batch_store import batch_transactions
from onduty.app.ingest import ingest_events
from onduty.app.plans import apply_plan
from onduty.app.ports import Transactions
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.domain.alerts import AlertEvent
from onduty.plan.load import load_plan

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "examples" / "agency" / "onduty.yaml"
SERVICE = "recs-model"
sys.path.insert(0, str(ROOT))
from tests.faults.harness import reset_database  # noqa: E402


def trigger(key: str) -> AlertEvent:
    return AlertEvent("trigger", key, f"bench: relevance fell on {key}", "bench", "warning")


@contextmanager
def planned_database(database_url: str | None, prefix: str) -> Iterator[tuple[Container, SimulatedClock, Transactions]]:
    """A fresh SQLite file in a temp folder (or the given database, emptied) with the sample plan applied:
    (container, clock, the ingest writer's transactions); closed and the folder removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    url = database_url or f"sqlite:///{folder}/onduty.db"
    if database_url:
        reset_database(url)
    clock = SimulatedClock(datetime(2026, 11, 20, 23, 40, tzinfo=UTC))
    c = build(Settings(database_url=url), clock=clock)
    try:
        apply_plan(c.db, load_plan(PLAN), str(PLAN), clock.now())
        yield c, clock, batch_transactions(c.db, keep=True)
    finally:
        c.db.release_kept()
        c.db.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a database to use instead of a fresh SQLite file (emptied first)")
    parser.add_argument("--sizes", default="1,4,16,32", help="events per transaction (default 1,4,16,32)")
    parser.add_argument("--events", type=int, default=1600, help="events per size and kind (default 1600)")
    args = parser.parse_args()
    with planned_database(args.database_url, "onduty-ingest-tx-") as (c, clock, txs):
        hot = [f"hot-{n}" for n in range(20)]
        ingest_events(txs, [(SERVICE, trigger(key)) for key in hot], clock.now())
        figures: dict[str, Any] = {"bench": "ingest_tx", "database": c.db.engine.dialect.name}
        for kind in ("new", "repeat"):
            for size in (int(s) for s in args.sizes.split(",")):
                rounds = max(20, args.events // size)
                cpu = wall = 0.0
                for r in range(rounds):
                    keys = [uuid.uuid4().hex if kind == "new" else hot[(r * size + i) % len(hot)] for i in range(size)]
                    items = [(SERVICE, trigger(key)) for key in keys]
                    started_cpu, started = time.thread_time(), time.perf_counter()
                    ingest_events(txs, items, clock.now())
                    cpu += time.thread_time() - started_cpu
                    wall += time.perf_counter() - started
                figures[f"{kind}_{size}"] = {"cpu_us_per_tx": round(cpu / rounds * 1e6),
                                             "cpu_us_per_event": round(cpu / rounds / size * 1e6, 1),
                                             "wall_us_per_tx": round(wall / rounds * 1e6)}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
