"""Benchmark: CPU of the inhibition lookup ("for each service, the oldest open incident that lists it as
affected") on a database where the upstream service has a long history of incidents.

The sample plan is applied, then catalog-feed (upstream of recs-model and recs-api) gets --resolved
closed incidents, --open open ones and, newest, the incident an alert opens; each lists catalog-feed as
affected. The lookup for recs-api's upstream chain (recs-model, catalog-feed) is then timed as ingest
runs it (IngestSql, the batch path) and as the ORM store runs it (AlertStore), in CPU per call
(time.thread_time over --calls calls).

Run: .venv/bin/python bench/affecting.py                 (fresh SQLite file in a temp dir)
     .venv/bin/python bench/affecting.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/onduty_bench
Figures are printed as one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from onduty.adapters.clock import SimulatedClock
from onduty.adapters.db import tables as t
from onduty.adapters.db.batch_store import batch_transactions
from onduty.adapters.db.ingest_sql import IngestSql
from onduty.app.ingest import ingest_events
from onduty.app.plans import apply_plan
from onduty.bootstrap import build
from onduty.config import Settings
from onduty.domain.alerts import AlertEvent
from onduty.plan.load import load_plan

ROOT = Path(__file__).resolve().parents[1]
PLAN = ROOT / "examples" / "agency" / "onduty.yaml"
SERVICES = ["catalog-feed", "recs-model"]  # recs-api's upstream chain


def fill(db: Any, resolved: int, opened: int, now: Any) -> int:
    """The history, and the id of the incident the lookup must find."""
    txs = batch_transactions(db)
    first = ingest_events(txs, [("catalog-feed", AlertEvent("trigger", "seed", "rows fell", "bench", "error"))], now)[0]
    assert first.incident_id is not None
    with db.engine.begin() as conn:
        row = dict(conn.execute(select(t.incidents).where(t.incidents.c.id == first.incident_id)).mappings().one())
        service = dict(conn.execute(select(t.incident_services).where(
            t.incident_services.c.incident_id == first.incident_id)).mappings().one())
        del row["id"]
        rows = [{**row, "status": "closed" if n < resolved else "triggered"} for n in range(resolved + opened)]
        for start in range(0, len(rows), 2000):
            ids = conn.execute(insert(t.incidents).returning(t.incidents.c.id), rows[start:start + 2000],
                               ).scalars().all() if db.is_postgres else _insert_each(conn, rows[start:start + 2000])
            conn.execute(insert(t.incident_services), [{**service, "incident_id": i} for i in ids])
        found = first.incident_id
        if opened:  # the oldest open one is the first of the open history
            found = conn.execute(select(t.incidents.c.id).where(t.incidents.c.status == "triggered")
                                 .order_by(t.incidents.c.id).limit(1)).scalar_one()
    return int(found)


def _insert_each(conn: Any, rows: list[dict[str, Any]]) -> list[int]:
    return [conn.execute(insert(t.incidents).values(**r)).inserted_primary_key[0] for r in rows]


def per_call(fn: Any, calls: int) -> tuple[float, float]:
    """CPU of this thread and wall time per call, in µs (on PostgreSQL the server's work shows in the wall time)."""
    for _ in range(20):
        fn()
    cpu, wall = time.thread_time(), time.perf_counter()
    for _ in range(calls):
        fn()
    return (round((time.thread_time() - cpu) / calls * 1e6, 1), round((time.perf_counter() - wall) / calls * 1e6, 1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--resolved", type=int, default=15_000)
    parser.add_argument("--open", type=int, default=0)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="onduty-affecting-"))
    url = args.database_url or f"sqlite:///{folder}/onduty.db"
    clock = SimulatedClock(datetime(2026, 11, 20, 23, 40, tzinfo=UTC))
    c = build(Settings(database_url=url), clock=clock)
    apply_plan(c.db, load_plan(PLAN), str(PLAN), clock.now())
    expected = fill(c.db, args.resolved, args.open, clock.now())
    figures: dict[str, Any] = {"database": c.db.engine.dialect.name, "resolved": args.resolved, "open": args.open}
    with c.db.transaction() as store:
        conn = store.session.connection()
        sql = IngestSql(conn, c.db.is_postgres)
        assert sql.incidents_affecting(SERVICES) == {"catalog-feed": expected}
        assert store.open_incidents_affecting(SERVICES) == {"catalog-feed": expected}
        figures["ingest_sql_cpu_wall_us"] = per_call(lambda: sql.incidents_affecting(SERVICES), args.calls)
        figures["orm_cpu_wall_us"] = per_call(lambda: store.open_incidents_affecting(SERVICES), args.calls)
    c.db.dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
