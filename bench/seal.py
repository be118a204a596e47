"""Benchmark: how long one audit-seal transaction holds the database, by rows per transaction and by
how much history is already sealed.

On SQLite the worker's seal transaction holds the one write lock, and ingest requests that arrive
meanwhile wait behind it: its length is what a single event's worst latency is made of. This fills a
fresh database with incidents (each writes timeline rows), seals everything, then for each history
size adds `--fresh` more incidents and seals them at each `--batches` size, timing every transaction.

Run: .venv/bin/python bench/seal.py                 (fresh SQLite file in a temp dir)
     .venv/bin/python bench/seal.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/onduty_bench
Figures are printed as one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

from ingest_tx import SERVICE, planned_database, trigger

from onduty.app.audit import seal_audit
from onduty.app.ingest import ingest_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a database to use instead of a fresh SQLite file (emptied first)")
    parser.add_argument("--history", default="2000,20000",
                        help="incidents sealed before each round (default 2000,20000)")
    parser.add_argument("--fresh", type=int, default=800, help="incidents to seal per batch size (default 800)")
    parser.add_argument("--batches", default="500,100", help="rows per source per transaction (default 500,100)")
    args = parser.parse_args()
    with planned_database(args.database_url, "onduty-seal-") as (c, clock, txs):

        def open_incidents(count: int) -> None:
            for _ in range(0, count, 16):
                ingest_events(txs, [(SERVICE, trigger(uuid.uuid4().hex)) for _ in range(16)], clock.now())

        figures: dict[str, Any] = {"bench": "seal", "database": c.db.engine.dialect.name}
        opened = 0
        for history in (int(h) for h in args.history.split(",")):
            open_incidents(history - opened)
            opened = history
            seal_audit(c.db.relaxed, clock.now())
            for batch in (int(b) for b in args.batches.split(",")):
                open_incidents(args.fresh)
                opened += args.fresh
                held: list[float] = []
                rows = 0
                while True:
                    started = time.perf_counter()
                    sealed = seal_audit(c.db.relaxed, clock.now(), batch=batch, max_batches=1)
                    if not sealed:
                        break
                    held.append((time.perf_counter() - started) * 1000)
                    rows += sealed
                held.sort()
                figures[f"history_{history}_batch_{batch}"] = {
                    "transactions": len(held), "rows": rows,
                    "ms_per_transaction_median": round(held[len(held) // 2], 2),
                    "ms_per_transaction_max": round(held[-1], 2), "us_per_row": round(sum(held) * 1000 / rows, 1)}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
