"""`onduty oncall` and `onduty page`."""

from __future__ import annotations

import uuid
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from onduty.app.ingest import ingest_event
from onduty.app.oncall import oncall_for_service
from onduty.cli.common import JsonOpt, container, fail, friendly_errors, out, parse_at, print_json
from onduty.domain.alerts import AlertEvent

SEVERITY_WORDS = {"sev1": "critical", "sev2": "error", "sev3": "warning", "sev4": "info",
                  "critical": "critical", "error": "error", "warning": "warning", "info": "info"}


def oncall(
    service: Annotated[str, typer.Option(help="The service whose escalation policy to resolve.")],
    at: Annotated[str | None, typer.Option(help="ISO 8601 time (naive means UTC); default now.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who would be paged for a service, level by level, now or at a given time.

    Example: [bold]onduty oncall --service recs-model --at 2026-11-20T17:40-06:00[/]
    """
    c = container()
    when = parse_at(at) or c.clock.now()
    with friendly_errors(), c.db.transaction() as store:
        directory = store.directory()
    with friendly_errors():
        levels = oncall_for_service(directory, service, when)
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
    table = Table(title=f"On call for {svc.name} at {when.astimezone(tz):%a %Y-%m-%d %H:%M %Z}")
    for column in ("level", "who", "via", "after"):
        table.add_column(column)
    for lv in levels:
        names = [
            directory.people[r.person_id].name
            + (f" [dim](covering for {directory.people[r.covering_for].name}: {r.cover_reason})[/]"
               if r.covering_for in directory.people else "")
            for r in lv.recipients
        ] + [f"[red]nobody: {u.reason}[/]" for u in lv.unreachable]
        via = ", ".join(f"{r.target.kind} {r.target.id}" for r in lv.recipients)
        table.add_row(str(lv.level), "\n".join(names), via, f"{lv.ack_timeout.total_seconds() / 60:.0f} min unacked")
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
