"""`onduty report summary`: MTTD, MTTA, MTTR, deadlines, escalations, reviews and actions over a period."""

from __future__ import annotations

import csv
import io
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from onduty.app.exports.charts import trend_chart
from onduty.app.ports import ReportFilter
from onduty.app.reports import CSV_COLUMNS, SummaryReport
from onduty.app.reports import summary_report as build_summary
from onduty.cli.common import JsonOpt, container, err, fail, friendly_errors, out, print_json
from onduty.cli.report import _bound, report_app
from onduty.domain.mttx import Stat, Summary
from onduty.domain.review import humanize
from onduty.domain.severity import Severity

TYPES = ("model_degradation", "pipeline_failure", "api_availability", "security", "other")
EXAMPLE = "onduty report summary --from 2026-11-01 --to 2026-11-30"


def _t(seconds: float | None) -> str:
    return humanize(timedelta(seconds=seconds)) if seconds is not None else "—"


def _pct(value: float | None) -> str:
    return f"{value:.0f}%" if value is not None else "—"


def _stat(s: Stat) -> str:
    return f"{_t(s.mean)} / {_t(s.median)} / {_t(s.p90)}" if s.count else "—"


def _overall(report: SummaryReport) -> Table:
    s, q = report.overall, report.query
    table = Table("figure", "value", box=box.SIMPLE_HEAD,
                  title=f"Incidents declared {q.start:%Y-%m-%d %H:%M} to {q.end:%Y-%m-%d %H:%M} UTC",
                  caption="durations: mean / median / p90 over resolved incidents; exercises never count")
    rows = [
        ("incidents", f"{s.incidents} ({s.open} open, counted apart; {s.reopened} reopened)"),
        ("MTTD (first signal → declared)", _stat(s.mttd)), ("MTTA (declared → acknowledged)", _stat(s.mtta)),
        ("MTTR (declared → resolved)", _stat(s.mttr)),
        ("first notice on time", f"{_pct(s.first_notice_met_pct)} ({s.first_notice_met} of "
                                 f"{s.first_notice_met + s.first_notice_missed})"),
        ("updates on time", f"{_pct(s.updates_met_pct)} ({s.updates_met} of {s.updates_met + s.updates_missed})"),
        ("escalations", str(s.escalations)),
        ("reviews completed on time", f"{_pct(s.reviews_on_time_pct)} ({s.reviews_on_time} on time, {s.reviews_late} "
                                      f"late, {s.reviews_overdue} overdue, {s.reviews_pending} not yet due)"),
        ("actions", f"{s.actions_done} done, {s.actions_overdue} overdue, {s.actions_open} open"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def _breakdown(title: str, groups: dict[str, Summary]) -> Table:
    table = Table(title, "incidents", "open", "MTTA mean", "MTTR mean", "MTTR p90", "notice", "updates", "esc.",
                  "reviews", "actions done/overdue", box=box.SIMPLE_HEAD)
    for key, s in groups.items():
        table.add_row(key, str(s.incidents), str(s.open), _t(s.mtta.mean), _t(s.mttr.mean), _t(s.mttr.p90),
                      _pct(s.first_notice_met_pct), _pct(s.updates_met_pct), str(s.escalations),
                      _pct(s.reviews_on_time_pct), f"{s.actions_done}/{s.actions_overdue}")
    return table


@report_app.command("summary")
def summary_report(
    start: Annotated[str, typer.Option("--from", help="Start: ISO date or time (naive means UTC).")],
    end: Annotated[str, typer.Option("--to", help="End: a bare date includes that whole day.")],
    client: Annotated[str | None, typer.Option(help="Only this client's incidents.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service's incidents.")] = None,
    severity: Annotated[str | None, typer.Option(help="sev1 … sev4")] = None,
    incident_type: Annotated[str | None, typer.Option("--type", help=", ".join(TYPES))] = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (one row per group).")] = False,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write the monthly trend to a .png or .svg.")] = None,
) -> None:
    """MTTD, MTTA and MTTR (mean, median, p90), deadlines met, escalations, reviews and actions.

    Over the incidents declared in the period, overall and by client, service,
    severity, type and month. Open incidents are left out of the means and
    counted apart; exercises and test incidents never count.

    Example: [bold]onduty report summary --from 2026-11-01 --to 2026-11-30 --client northwind --chart trend.png[/]
    """
    if as_json and as_csv:
        fail("give at most one of --json or --csv", EXAMPLE + " --csv", 2)
    if chart is not None and chart.suffix.lower() not in (".png", ".svg"):
        fail(f"--chart {chart} must end in .png or .svg", EXAMPLE + " --chart trend.png", 2)
    if incident_type is not None and incident_type not in TYPES:
        fail(f"--type {incident_type!r} is not one of {', '.join(TYPES)}", EXAMPLE + " --type pipeline_failure", 2)
    with friendly_errors():
        sev = int(Severity.parse(severity)) if severity else None
    c = container()
    now = c.clock.now()
    lo, hi = _bound(start, "--from", now, end=False), _bound(end, "--to", now, end=True)
    if hi <= lo:
        fail(f"--to ({end}) must come after --from ({start})", EXAMPLE, 2)
    with friendly_errors(), c.db.transaction() as store:
        report = build_summary(store, ReportFilter(lo, hi, client, service, sev, incident_type), now)
    if chart is not None:
        chart.write_bytes(trend_chart(report.by_month, "svg" if chart.suffix.lower() == ".svg" else "png"))
        err.print(f"[green]✓[/] wrote the monthly trend to {chart}")
    if as_json:
        print_json(report.as_dict())
    elif as_csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(report.csv_rows())
        sys.stdout.write(buffer.getvalue())
    else:
        out.print(_overall(report))
        for name, groups in report.by.items():
            if groups:
                out.print(_breakdown(name, groups))
        if report.by_month:
            out.print(_breakdown("month", report.by_month))
