"""Benchmark: drafting a review at resolution, exporting it, and the summary report, printed as JSON.

`--incidents` Sev2 incidents on the sample plan, each with a page, an acknowledgement, a few notes and a
client notice, resolved (which drafts its review): median milliseconds per resolve-with-draft, per
Markdown and HTML export (chart included), and the summary report over all of them.

Run: .venv/bin/python bench/reviews.py [--incidents 300] [--database-url postgresql+psycopg://…]
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
from onduty.app.exports.review import export_review
from onduty.app.incidents import add_note, change_status, declare
from onduty.app.plans import apply_plan
from onduty.app.ports import ReportFilter
from onduty.app.reports import summary_report
from onduty.app.reviews import review_bundle
from onduty.bootstrap import build
from onduty.config import Settings
from onduty.domain.incidents import TimelineEntry
from onduty.domain.severity import Severity
from onduty.plan.load import load_plan

PLAN = Path(__file__).resolve().parents[1] / "examples" / "agency" / "onduty.yaml"
START = datetime(2026, 11, 2, 9, tzinfo=UTC)


def ms(seconds: list[float]) -> float:
    return round(statistics.median(seconds) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=300)
    parser.add_argument("--exports", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    c = build(Settings(database_url=url), clock=SimulatedClock(START), channels={})
    apply_plan(c.db, load_plan(PLAN), str(PLAN), START)
    resolves: list[float] = []
    ids: list[int] = []
    for n in track(range(args.incidents), description="incidents"):
        at = START + timedelta(hours=2 * n)
        with c.db.transaction() as store:
            directory = store.directory()
            incident = declare(store, directory, directory.services["recs-model"], f"drift {n}", Severity.SEV2,
                               at, "monitor", first_signal_at=at - timedelta(minutes=7))
            assert incident.id is not None
            store.append(incident.id, [TimelineEntry(at + timedelta(minutes=1), "page.delivered", "page"),
                                       TimelineEntry(at + timedelta(minutes=20), "comms.initial", "notice")])
        change_status(c.db, incident.id, "acknowledged", "aiko", at + timedelta(minutes=4))
        for k in range(3):
            add_note(c.db, incident.id, f"finding {k}", "aiko", at + timedelta(minutes=10 + k))
        began = clock.perf_counter()
        change_status(c.db, incident.id, "resolved", "aiko", at + timedelta(minutes=45))
        resolves.append(clock.perf_counter() - began)
        ids.append(incident.id)
    now = START + timedelta(hours=2 * args.incidents + 1)
    exports: dict[str, list[float]] = {"md": [], "html": []}
    for incident_id in ids[: args.exports]:
        bundle = review_bundle(c.db, incident_id, now)
        for fmt, times in exports.items():
            began = clock.perf_counter()
            export_review(bundle, fmt, "client")
            times.append(clock.perf_counter() - began)
    began = clock.perf_counter()
    with c.db.transaction() as store:
        report = summary_report(store, ReportFilter(START, now + timedelta(days=1)), now)
    report_s = clock.perf_counter() - began
    print(json.dumps({
        "database": c.db.engine.url.get_backend_name(), "incidents": args.incidents,
        "resolve_with_draft_ms_median": ms(resolves), "export_md_ms_median": ms(exports["md"]),
        "export_html_ms_median": ms(exports["html"]), "summary_report_ms": round(report_s * 1000, 1),
        "report_incidents": report.overall.incidents,
    }))
    c.db.dispose()


if __name__ == "__main__":
    main()
