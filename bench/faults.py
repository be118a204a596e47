"""Fault harness, full run: `onduty serve` and several `onduty worker` processes under an alert storm,
SIGKILLed at random moments (≥ 20 kills) and restarted; then every 2xx-acknowledged alert must be stored,
every incident must have its first page and its due escalation, and duplicate pages are counted.

Run: .venv/bin/python bench/faults.py                       (fresh SQLite file in a temp dir)
     .venv/bin/python bench/faults.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/onduty_faults
Figures are printed as one JSON object on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.faults.harness import Config, run

STARTED = time.monotonic()


def note(message: str) -> None:
    print(f"[faults {time.monotonic() - STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file (the database is emptied first)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default 2, or 3 on PostgreSQL)")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--keys", type=int, default=600, help="distinct dedup keys, hence incidents")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-journal", action="store_true",
                        help="workers without the delivery journal, to compare duplicate pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onduty-faults-") as folder:
        url = args.database_url or f"sqlite:///{folder}/faults.db"
        workers = args.workers or (3 if url.startswith("postgresql") else 2)
        figures = run(Config(url, workers=workers, events=args.events, keys=args.keys, senders=args.senders,
                             kills=args.kills, seed=args.seed, journal=not args.no_journal, log=note), Path(folder))
    print(json.dumps(figures, indent=2))
    ok = not (figures["lost_alerts"] or figures["missed_first_pages"] or figures["missed_escalations"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
