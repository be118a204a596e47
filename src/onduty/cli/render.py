"""Rich renderings shared by the CLI and the demo: incident tables and timelines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.table import Table

from onduty.domain.clocks import Clock
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.model import Person
from onduty.domain.roles import ROLE_LABELS, Assignment
from onduty.domain.severity import Severity

SEVERITY_STYLE = {1: "bold white on red", 2: "bold red", 3: "yellow", 4: "dim"}
STATUS_STYLE = {"triggered": "bold red", "acknowledged": "yellow", "mitigated": "cyan", "resolved": "green",
                "monitoring": "blue", "closed": "dim green"}
KIND_STYLE = {"page": "magenta", "escalation": "bold yellow", "status": "bold green", "alert": "red",
              "incident": "bold", "note": "cyan"}


def local(at: datetime | None, tz: ZoneInfo, fmt: str = "%a %H:%M:%S") -> str:
    return at.astimezone(tz).strftime(fmt) if at else "—"


def incidents_table(incidents: Sequence[Incident], tz: ZoneInfo) -> Table:
    table = Table(title=f"Incidents (times {tz.key})", expand=False)
    for column in ("#", "sev", "status", "client", "service", "title", "declared", "acked by"):
        table.add_column(column)
    for i in incidents:
        table.add_row(
            str(i.id), f"[{SEVERITY_STYLE[i.severity]}]{Severity(i.severity).label}[/]",
            f"[{STATUS_STYLE.get(i.status, '')}]{i.status}[/]", i.client_id, i.service_id, i.title,
            local(i.created_at, tz, "%Y-%m-%d %H:%M"), i.acknowledged_by or "—",
        )
    return table


def timeline_table(entries: Sequence[TimelineEntry], tz: ZoneInfo, title: str = "Timeline") -> Table:
    table = Table(title=f"{title} (times {tz.key})", expand=True, show_lines=False)
    table.add_column("time", no_wrap=True)
    table.add_column("what", no_wrap=True)
    table.add_column("", ratio=1)
    for e in entries:
        style = KIND_STYLE.get(e.kind.split(".")[0], "")
        table.add_row(local(e.at, tz), f"[{style}]{e.kind}[/]" if style else e.kind, e.message)
    return table


def incident_dict(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id, "title": i.title, "severity": Severity(i.severity).label, "status": i.status,
        "client": i.client_id, "service": i.service_id, "created_at": i.created_at,
        "first_signal_at": i.first_signal_at, "acknowledged_at": i.acknowledged_at,
        "acknowledged_by": i.acknowledged_by, "mitigated_at": i.mitigated_at, "resolved_at": i.resolved_at,
        "resolved_by": i.resolved_by, "escalation_level": i.escalation_level + 1,
        "type": i.incident_type, "channel_link": i.channel_link, "closed_at": i.closed_at,
    }


def entry_dict(e: TimelineEntry) -> dict[str, Any]:
    return {"at": e.at, "kind": e.kind, "actor": e.actor, "message": e.message, "data": e.data}


CLOCK_STYLE = {"running": "yellow", "met": "green", "met_late": "red", "missed": "bold red"}
CLOCK_LABEL = {"acknowledge": "acknowledge", "first_notice": "first client notice", "next_update": "next client update",
               "resolve": "resolve or escalate", "review": "review", "security_notice": "security notification"}


def clocks_table(clocks: Sequence[Clock], tz: ZoneInfo, now: datetime) -> Table:
    """Each deadline with its due time, time left (negative when overdue) and state."""
    table = Table(title="Clocks")
    for column in ("clock", "due", "left", "state"):
        table.add_column(column)
    for clock in clocks:
        minutes = int(clock.left(now).total_seconds() // 60)
        shown = "—" if clock.state in ("met", "met_late") else f"{minutes} min"
        table.add_row(CLOCK_LABEL[clock.name], local(clock.due, tz), shown,
                      f"[{CLOCK_STYLE[clock.state]}]{clock.state.replace('_', ' ')}[/]")
    return table


def clock_dict(clock: Clock, now: datetime) -> dict[str, Any]:
    return {"clock": clock.name, "due": clock.due, "state": clock.state, "met_at": clock.met_at,
            "seconds_left": clock.left(now).total_seconds()}


def roles_table(roles: Sequence[Assignment], people: Mapping[str, Person]) -> Table:
    """Each incident role with its holder, and whether someone assigned it or it is the default."""
    table = Table(title="Roles")
    for column in ("role", "who", "how"):
        table.add_column(column)
    for a in roles:
        person = people.get(a.person_id or "")
        who = person.name if person else (a.person_id or "—")
        how = f"assigned by {a.assigned_by}" if a.source == "assigned" else "default"
        table.add_row(ROLE_LABELS[a.role], who, how)
    return table


def role_dict(a: Assignment) -> dict[str, Any]:
    return {"role": a.role, "person": a.person_id, "source": a.source, "assigned_by": a.assigned_by,
            "assigned_at": a.assigned_at}
