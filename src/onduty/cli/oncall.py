"""`onduty oncall` (who now, shifts of a schedule, coverage gaps) and `onduty page`."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from onduty.app.ingest import ingest_event
from onduty.app.oncall import LevelOnCall, oncall_for_service
from onduty.app.schedules import coverage_gaps, schedule_shifts
from onduty.cli.common import JsonOpt, container, fail, friendly_errors, out, parse_at, print_json
from onduty.domain.alerts import AlertEvent
from onduty.domain.model import Directory
from onduty.domain.schedules import Shift

SEVERITY_WORDS = {"sev1": "critical", "sev2": "error", "sev3": "warning", "sev4": "info",
                  "critical": "critical", "error": "error", "warning": "warning", "info": "info"}


def oncall(
    service: Annotated[str | None, typer.Option(help="Who is paged for this service, level by level.")] = None,
    schedule: Annotated[str | None, typer.Option(help="Shifts of this schedule (with --from/--to).")] = None,
    gaps: Annotated[bool, typer.Option("--gaps", help="Coverage gaps of every schedule ahead.")] = False,
    at: Annotated[str | None, typer.Option(help="With --service: ISO time; naive means the client's zone.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Start of the range (default: now).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="End of the range (default: --days after the start).")] = None,
    days: Annotated[int, typer.Option(help="Length of the range in days.", min=1, max=366)] = 7,
    as_json: JsonOpt = False,
) -> None:
    """Who is on call: for a service now (or --at), a schedule's shifts, or the gaps ahead.

    Examples:
      [bold]onduty oncall --service recs-model --at 2026-11-20T17:40[/]
      [bold]onduty oncall --schedule ml-primary --from 2026-11-16 --to 2026-11-30[/]
      [bold]onduty oncall --gaps --days 30[/]
    """
    if [service is not None, schedule is not None, gaps].count(True) != 1:
        fail("give exactly one of --service, --schedule or --gaps",
             "onduty oncall --service recs-model   or   onduty oncall --gaps --days 30", 2)
    c = container()
    with friendly_errors(), c.db.transaction() as store:
        directory = store.directory()
        if service is not None:
            svc = directory.services.get(service)
            zone = directory.clients[svc.client_id].time_zone if svc else "UTC"
            when = parse_at(at, zone) or c.clock.now()
            levels = oncall_for_service(directory, service, when, None,
                                        store.overrides(None, when, when + timedelta(seconds=1)))
            return _print_levels(directory, service, when, levels, as_json)
        zone = directory.schedules[schedule].time_zone if schedule in directory.schedules else "UTC"
        lo = parse_at(start, zone, "--from") or c.clock.now()
        hi = parse_at(end, zone, "--to") or lo + timedelta(days=days)
        if schedule is not None:
            return _print_shifts(directory, schedule, schedule_shifts(store, schedule, lo, hi), as_json)
        found = coverage_gaps(store, lo, hi)
    if as_json:
        print_json([{"schedule": g.schedule_id, "start": g.start, "end": g.end, "reason": g.reason} for g in found])
    elif not found:
        out.print(f"[green]✓[/] no coverage gaps from {lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M} UTC")
    else:
        table = Table(title=f"Coverage gaps, {lo:%Y-%m-%d} to {hi:%Y-%m-%d} (UTC)")
        for column in ("schedule", "from", "to", "hours", "why"):
            table.add_column(column)
        for g in found:
            hours = (g.end - g.start).total_seconds() / 3600
            table.add_row(g.schedule_id, f"{g.start:%a %d %b %H:%M}", f"{g.end:%a %d %b %H:%M}", f"{hours:.1f}",
                          f"[red]{g.reason}[/]")
        out.print(table)


def _print_levels(directory: Directory, service: str, when: object, levels: list[LevelOnCall],
                  as_json: bool) -> None:
    if as_json:
        print_json({"service": service, "at": when, "levels": [
            {"level": lv.level, "ack_timeout_minutes": lv.ack_timeout.total_seconds() / 60,
             "on_call": [{"person": r.person_id, "via": f"{r.target.kind}:{r.target.id}",
                          "covering_for": r.covering_for, "cover_reason": r.cover_reason} for r in lv.recipients],
             "unreachable": [f"{u.target.kind}:{u.target.id}: {u.reason}" for u in lv.unreachable]}
            for lv in levels]})
        return
    svc = directory.services[service]
    tz = ZoneInfo(directory.clients[svc.client_id].time_zone)
    table = Table(title=f"On call for {svc.name} at {when.astimezone(tz):%a %Y-%m-%d %H:%M %Z}")  # type: ignore[attr-defined]
    for column in ("level", "who", "via", "after"):
        table.add_column(column)
    for lv in levels:
        names = [
            directory.people[r.person_id].name
            + (f" [dim](covering for {directory.people[r.covering_for].name}: {r.cover_reason})[/]"
               if r.covering_for is not None and r.covering_for in directory.people else "")
            for r in lv.recipients
        ] + [f"[red]nobody: {u.reason}[/]" for u in lv.unreachable]
        via = ", ".join(f"{r.target.kind} {r.target.id}" for r in lv.recipients)
        table.add_row(str(lv.level), "\n".join(names), via, f"{lv.ack_timeout.total_seconds() / 60:.0f} min unacked")
    out.print(table)


def _print_shifts(directory: Directory, schedule: str, found: list[Shift], as_json: bool) -> None:
    if as_json:
        print_json([{"start": s.start, "end": s.end, "person": s.person_id, "layer": s.layer,
                     "covering_for": s.covering_for, "cover_reason": s.cover_reason,
                     "override_id": s.override_id, "gap_reason": s.gap_reason} for s in found])
        return
    tz = ZoneInfo(directory.schedules[schedule].time_zone)
    table = Table(title=f"Shifts of {schedule} (times {tz.key})")
    for column in ("from", "to", "who", "how"):
        table.add_column(column)
    for s in found:
        person = directory.people.get(s.person_id) if s.person_id else None
        who = person.name if person else "[red]nobody[/]"
        how = s.gap_reason or (f"{s.layer}" + (f", covering for {s.covering_for} ({s.cover_reason})"
                                               if s.covering_for else ""))
        table.add_row(f"{s.start.astimezone(tz):%a %d %b %H:%M}", f"{s.end.astimezone(tz):%a %d %b %H:%M}", who, how)
    out.print(table)


def page(
    service: Annotated[str, typer.Option(help="The service to page for.")],
    summary: Annotated[str, typer.Option(help="What is wrong, in one line.")],
    severity: Annotated[str, typer.Option(help="sev1…sev4 or critical/error/warning/info.")] = "sev2",
    key: Annotated[str | None, typer.Option(help="Dedup key; a second page with it joins the first.")] = None,
) -> None:
    """Page the on-call engineer for a service by hand (opens an incident).

    Example: [bold]onduty page --service recs-model --summary "recommendations look random" --severity sev1[/]
    """
    word = SEVERITY_WORDS.get(severity.lower())
    if word is None:
        fail(f"--severity {severity!r} is not a severity",
             "use sev1, sev2, sev3, sev4 (or critical/error/warning/info)", 2)
    if not summary.strip():
        fail("--summary is empty", "say what is wrong in one line", 2)
    c = container()
    event = AlertEvent("trigger", key or uuid.uuid4().hex, summary.strip(), "onduty page (cli)", word)
    with friendly_errors():
        result = ingest_event(c.db, service, event, c.clock.now())
    if result.incident_id is None:
        fail("the page was not accepted")
    verb = "joined" if result.decision.value == "deduplicate" else "opened"
    out.print(f"[green]✓[/] {verb} incident {result.incident_id}; the worker (`onduty serve` or "
              f"`onduty worker`) sends the page")
