"""`onduty incidents list|show|ack|mitigate|resolve|note|severity|role`."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from onduty.app.incidents import add_note, change_status, clocks_for, record_security_notice
from onduty.app.lifecycle import change_severity
from onduty.app.ports import IncidentFilter
from onduty.app.roles import assign_role, roles_of
from onduty.cli.common import JsonOpt, container, current_user, fail, friendly_errors, out, print_json
from onduty.cli.feeds import evidence_table, feed_evidence
from onduty.cli.render import (
    clock_dict,
    clocks_table,
    entry_dict,
    incident_dict,
    incidents_table,
    role_dict,
    roles_table,
    timeline_table,
)
from onduty.domain.incidents import STATUSES, IllegalTransition, Status
from onduty.domain.roles import ROLE_LABELS
from onduty.domain.severity import Severity

incidents_app = typer.Typer(help="List, show and act on incidents.", no_args_is_help=True)

ByOpt = Annotated[str, typer.Option("--by", help="Who is acting (a person id or name).")]
NoteOpt = Annotated[str, typer.Option("--note", help="A line for the timeline.")]
IdArg = Annotated[int, typer.Argument(help="The incident number.")]
TzOpt = Annotated[str | None, typer.Option("--tz", help="Show times in this zone (default: the client's).")]


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (KeyError, ValueError):
        fail(f"--tz {name!r} is not a time zone", "use an IANA name such as Europe/Lisbon or UTC", 2)


@incidents_app.command("list")
def list_incidents(
    status: Annotated[str | None, typer.Option(
        help="triggered, acknowledged, mitigated, resolved, monitoring, closed or open")] = None,
    client: Annotated[str | None, typer.Option(help="Only this client's incidents.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service's incidents.")] = None,
    severity: Annotated[str | None, typer.Option(help="sev1 … sev4")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    tz: TzOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List incidents, newest first.

    Example: [bold]onduty incidents list --status open --client northwind[/]
    """
    if status is not None and status not in (*STATUSES, "open"):
        fail(f"--status {status!r} is not a status", f"use {', '.join(STATUSES)} or open", 2)
    with friendly_errors():
        sev = int(Severity.parse(severity)) if severity else None
    c = container()
    query = IncidentFilter(None if status == "open" else status, client, service, sev, status == "open", limit)
    with friendly_errors(), c.db.transaction() as store:
        found = store.incidents(query)
    if as_json:
        print_json([incident_dict(i) for i in found])
    elif not found:
        out.print("no incidents match")
    else:
        out.print(incidents_table(found, _zone(tz, "UTC")))


@incidents_app.command("show")
def show(
    incident_id: IdArg, tz: TzOpt = None, as_json: JsonOpt = False,
    runbook: Annotated[str | None, typer.Option("--runbook", help="Print this linked runbook (file or title).")] = None,
) -> None:
    """Show one incident, its clocks, runbooks and timeline.

    Example: [bold]onduty incidents show 12 --tz Europe/Lisbon[/]
    """
    from onduty.cli.playbook_render import print_runbooks, runbook_dict, runbooks_table

    c = container()
    with friendly_errors(), c.db.transaction() as store:
        incident = store.incident(incident_id)
        if incident is None:
            fail(f"incident {incident_id} not found", "list them with `onduty incidents list`")
        entries = store.timeline(incident_id)
        evidence = [e for a in store.alerts_of(incident_id) if (e := feed_evidence(a.details))]
        directory = store.directory()
        client = directory.clients.get(incident.client_id)
        roles = list(roles_of(store, directory, incident, entries).values())
    now = c.clock.now()
    clocks = clocks_for(directory, incident, entries, now)
    runbooks = print_runbooks(c.db, incident_id, runbook, as_json)
    if runbooks is None:
        return
    if as_json:
        print_json({**incident_dict(incident), "roles": [role_dict(r) for r in roles],
                    "clocks": [clock_dict(k, now) for k in clocks], "timeline": [entry_dict(e) for e in entries],
                    "runbooks": [runbook_dict(r) for r in runbooks], "evidence": evidence})
        return
    zone = _zone(tz, client.time_zone if client else "UTC")
    out.print(incidents_table([incident], zone))
    if incident.channel_link:
        out.print(f"incident channel: {incident.channel_link}")
    out.print(roles_table(roles, directory.people))
    if clocks:
        out.print(clocks_table(clocks, zone, now))
    if runbooks:
        out.print(runbooks_table(runbooks))
    out.print(timeline_table(entries, zone))
    for found in evidence:
        out.print(evidence_table(found))


def _act(incident_id: int, to: Status, by: str, note: str) -> None:
    c = container()
    with friendly_errors():
        try:
            incident = change_status(c.db, incident_id, to, by, c.clock.now(), note=note)
        except IllegalTransition as exc:
            fail(str(exc), f"see where it stands with `onduty incidents show {incident_id}`")
    out.print(f"[green]✓[/] incident {incident.id} is {incident.status}")


@incidents_app.command("ack")
def ack(incident_id: IdArg, by: ByOpt = "", note: NoteOpt = "") -> None:
    """Acknowledge: you are on it, escalation stops.

    Example: [bold]onduty incidents ack 12 --by aiko[/]
    """
    _act(incident_id, "acknowledged", by or current_user(), note)


@incidents_app.command("mitigate")
def mitigate(incident_id: IdArg, by: ByOpt = "", note: NoteOpt = "") -> None:
    """Mark service restored (fallback, rollback) while the cause is still being fixed.

    Example: [bold]onduty incidents mitigate 12 --note "switched to popularity fallback"[/]
    """
    _act(incident_id, "mitigated", by or current_user(), note)


@incidents_app.command("resolve")
def resolve(incident_id: IdArg, by: ByOpt = "", note: NoteOpt = "") -> None:
    """Resolve: the problem is fixed.

    Example: [bold]onduty incidents resolve 12 --note "bad batch replaced, model back on"[/]
    """
    _act(incident_id, "resolved", by or current_user(), note)


@incidents_app.command("note")
def note(incident_id: IdArg, text: Annotated[str, typer.Argument(help="The note.")], by: ByOpt = "") -> None:
    """Add a note to the timeline.

    Example: [bold]onduty incidents note 12 "catalog batch 2026-11-20T22 has 40% null categories"[/]
    """
    c = container()
    with friendly_errors():
        add_note(c.db, incident_id, text, by or current_user(), c.clock.now())
    out.print(f"[green]✓[/] noted on incident {incident_id}")


@incidents_app.command("security-notified")
def security_notified(
    incident_id: IdArg, whom: Annotated[str, typer.Argument(help="Who was notified, how, and any reference.")],
    by: ByOpt = "",
) -> None:
    """Record that a security incident's notification went out; this meets its notification deadline.

    Example: [bold]onduty incidents security-notified 31 "CNPD via the breach form, ref 2026-118"[/]
    """
    c = container()
    with friendly_errors():
        record_security_notice(c.db, incident_id, whom, by or current_user(), c.clock.now())
    out.print(f"[green]✓[/] security notification recorded on incident {incident_id}")


@incidents_app.command("severity")
def severity(
    incident_id: IdArg,
    to: Annotated[str, typer.Option("--to", help="The new severity: sev1 … sev4.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the severity changes (goes on the timeline).")],
    by: ByOpt = "",
) -> None:
    """Raise or lower the severity; paging and clocks follow at once (a raise to Sev1 pages all hands).

    Example: [bold]onduty incidents severity 12 --to sev1 --reason "conversions down 19% since 17:40"[/]
    """
    c = container()
    with friendly_errors():
        try:
            sev = Severity.parse(to)
            incident = change_severity(c.db, incident_id, sev, reason, by or current_user(), c.clock.now())
        except IllegalTransition as exc:
            fail(str(exc), f"see where it stands with `onduty incidents show {incident_id}`")
        except ValueError as exc:
            fail(str(exc), "give --to sev1|sev2|sev3|sev4 and a --reason", 2)
    out.print(f"[green]✓[/] incident {incident.id} is now {Severity(incident.severity).label}")


@incidents_app.command("role")
def role(
    incident_id: IdArg,
    role_name: Annotated[str, typer.Option("--role", help="responder, commander or communications_lead.")],
    person: Annotated[str, typer.Option("--person", help="Who takes the role (a person id of the plan).")],
    by: ByOpt = "",
) -> None:
    """Assign an incident role or hand it over; the change goes on the timeline.

    Example: [bold]onduty incidents role 12 --role commander --person tomas[/]
    """
    c = container()
    with friendly_errors():
        try:
            given = assign_role(c.db, incident_id, role_name, person, by or current_user(), c.clock.now())
        except ValueError as exc:
            fail(str(exc), "roles are responder, commander, communications_lead; people are the plan's ids", 2)
    out.print(f"[green]✓[/] {given.person_id} is the {ROLE_LABELS[given.role]} of incident {incident_id}")
