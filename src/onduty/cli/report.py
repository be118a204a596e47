"""`onduty report oncall`: on-call load and comp time per person, as a table with bars, JSON or CSV."""

from __future__ import annotations

import csv
import io
import sys
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from onduty.app.exports.load import REPORT_COLUMNS, LoadReport, oncall_load_report
from onduty.cli.common import JsonOpt, container, fail, friendly_errors, out, parse_at, print_json

report_app = typer.Typer(help="Reports: on-call load and compensation.", no_args_is_help=True,
                         rich_markup_mode="rich")

BAR_WIDTH = 24
EIGHTHS = " ▏▎▍▌▋▊▉"


def _bound(text: str, option: str, now: datetime, *, end: bool) -> datetime:
    """An ISO time (naive means UTC) or "now"; a bare date is the start of that day, or its end for --to."""
    when = parse_at(text.strip(), "UTC", option)
    if when is None:
        return now
    return when + timedelta(days=1) if end and len(text.strip()) == 10 else when


def bar(value: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A unicode bar of `value` against `largest`, to an eighth of a character."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(value / largest * width * 8)
    return "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")


def _table(report: LoadReport, rows: list[dict[str, Any]]) -> Table:
    rates = report.rates
    width = max(6, min(BAR_WIDTH, out.width - 72))  # the bar takes what the numbers leave
    table = Table(
        box=box.SIMPLE_HEAD, pad_edge=False,
        title=f"On-call load, {report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC",
        caption=(f"units: {rates.per_hour_in_coverage:g}/h in coverage, {rates.per_hour_outside_coverage:g}/h "
                 f"outside, {rates.per_page:g}/page, {rates.per_night_page:g}/night page (22:00-07:00 "
                 f"in the person's zone, instead of the page rate); bar: [cyan]in[/] + [magenta]outside[/] coverage"),
    )
    table.add_column("person", no_wrap=True)
    for column in ("hours", "inside", "outside", "pages", "night", "units"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("load", no_wrap=True, min_width=width)
    largest = max((r["hours_on_call"] for r in rows), default=0.0)
    for r in rows:
        whole = bar(r["hours_on_call"], largest, width)
        split = round(r["hours_in_coverage"] / largest * width) if largest else 0
        inside, outside = whole[:split], whole[split:]
        table.add_row(
            r["name"], f"{r['hours_on_call']:.1f}", f"{r['hours_in_coverage']:.1f}",
            f"{r['hours_outside_coverage']:.1f}", str(r["pages"]),
            f"[bold red]{r['night_pages']}[/]" if r["night_pages"] else "0", f"{r['units']:.2f}",
            f"[cyan]{inside}[/][magenta]{outside}[/]",
        )
    if rows:
        table.add_section()
        table.add_row("[bold]total[/]", *(f"{sum(r[k] for r in rows):.1f}" for k in
                                          ("hours_on_call", "hours_in_coverage", "hours_outside_coverage")),
                      str(sum(r["pages"] for r in rows)), str(sum(r["night_pages"] for r in rows)),
                      f"{sum(r['units'] for r in rows):.2f}", "")
    return table


@report_app.command("oncall")
def oncall_report(
    start: Annotated[str, typer.Option("--from", help="Start: ISO date or time (naive means UTC), or now.")],
    end: Annotated[str, typer.Option("--to", help="End: a bare date includes that whole day.")],
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (one row per person).")] = False,
) -> None:
    """On-call load and comp time per person: a table with bars, JSON or CSV.

    Hours on call inside and outside the coverage hours of the clients
    each schedule answers for (overrides included; two schedules at once
    count once), pages delivered, night pages (22:00-07:00 in the
    person's zone), and comp-time units at the plan's `compensation`
    rates (a night page earns per_night_page instead of per_page).

    CSV columns: person, name, time_zone, hours_on_call,
    hours_in_coverage, hours_outside_coverage, pages, night_pages, units.

    Example: [bold]onduty report oncall --from 2026-11-01 --to 2026-11-30[/]
    """
    if as_json and as_csv:
        fail("give at most one of --json or --csv", "onduty report oncall --from 2026-11-01 --to 2026-11-30 --csv", 2)
    c = container()
    now = c.clock.now()
    lo, hi = _bound(start, "--from", now, end=False), _bound(end, "--to", now, end=True)
    if hi <= lo:
        fail(f"--to ({end}) must come after --from ({start})", "onduty report oncall --from 2026-11-01 --to 2026-11-30",
             2)
    with friendly_errors(), c.db.transaction() as store:
        report = oncall_load_report(store, lo, hi)
    rows = report.as_dicts()
    if as_json:
        rates = report.rates
        print_json({"from": report.start.isoformat(), "to": report.end.isoformat(), "rates": {
            "per_hour_in_coverage": rates.per_hour_in_coverage,
            "per_hour_outside_coverage": rates.per_hour_outside_coverage,
            "per_page": rates.per_page, "per_night_page": rates.per_night_page}, "people": rows})
    elif as_csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, REPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    else:
        out.print(_table(report, rows) if rows else "nobody was on call or paged in that range")
