"""Rich renderings of the playbook: steps with timeboxes and ticks, changes, requests, runbooks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from onduty.app.playbook import PlaybookReport
from onduty.app.ports import Transactions
from onduty.app.runbooks import RunbookView
from onduty.cli.common import fail, friendly_errors, out, print_json
from onduty.cli.render import local
from onduty.domain.client_requests import ClientRequest
from onduty.domain.playbook import StepView, Tick

STEP_STYLE = {"upcoming": "dim", "running": "yellow", "overrun": "bold red", "done": "green",
              "done_late": "red", "waiting": "dim"}
REQUEST_STYLE = {"running": "yellow", "met": "green", "met_late": "red", "missed": "bold red"}


def _minutes(delta: timedelta) -> int:
    return int(abs(delta.total_seconds()) // 60)


def _box(view: StepView, declared: datetime, tz: ZoneInfo) -> str:
    step = view.step
    if step.starts is None or step.ends is None:
        return "after resolution"
    if step.number <= 3:
        return f"{_minutes(step.starts - declared)}-{_minutes(step.ends - declared)} min"
    return f"{local(step.starts, tz, '%H:%M')}-{local(step.ends, tz, '%H:%M')}"


def _left(view: StepView, now: datetime) -> str:
    if view.left is None or view.state in ("done", "done_late"):
        return ""
    if view.state == "upcoming" and view.step.starts is not None:
        return f"starts in {_minutes(view.step.starts - now)} min"
    if view.left < timedelta(0):
        return f"overrun {_minutes(view.left)} min"
    return f"{_minutes(view.left)} min left"


def step_table(view: StepView, ticks: dict[str, Tick], declared: datetime, now: datetime, tz: ZoneInfo) -> Table:
    state = view.state.replace("_", " ")
    title = (f"Step {view.step.number} · {view.step.title} · {_box(view, declared, tz)} · "
             f"[{STEP_STYLE[view.state]}]{state}[/] {_left(view, now)} · {view.done}/{view.total} done")
    table = Table(title=title, title_justify="left", expand=True, show_header=False)
    table.add_column("", no_wrap=True, width=3)
    table.add_column("item", no_wrap=True)
    table.add_column("", ratio=1)
    table.add_column("ticked", no_wrap=True)
    for item in view.step.items:
        tick = ticks.get(item.id)
        who = ""
        if tick is not None and tick.done:
            who = f"{tick.by} {local(tick.at, tz, '%H:%M')}" + (f" · {tick.note}" if tick.note else "")
        table.add_row("[green]✓[/]" if who else "☐", item.id, Text(item.text), who)
    return table


def requests_table(requests: Sequence[ClientRequest], now: datetime, tz: ZoneInfo) -> Table:
    table = Table(title="Requests to the client's team", title_justify="left")
    for column in ("#", "request", "due", "left", "state", "done"):
        table.add_column(column)
    for r in requests:
        state = r.state(now)
        left = "" if r.done_at else (f"{_minutes(r.left(now))} min" if r.left(now) >= timedelta(0)
                                     else f"-{_minutes(r.left(now))} min")
        table.add_row(str(r.id), r.text, local(r.due_at, tz, "%H:%M"), left,
                      f"[{REQUEST_STYLE[state]}]{state.replace('_', ' ')}[/]",
                      f"{r.done_by} {local(r.done_at, tz, '%H:%M')}" if r.done_at else "")
    return table


def runbooks_table(runbooks: Sequence[RunbookView]) -> Table:
    table = Table(title="Runbooks", title_justify="left")
    for column in ("title", "file", "why linked"):
        table.add_column(column)
    for r in runbooks:
        table.add_row(r.title, r.file, "; ".join(r.reasons))
    return table


def runbook_text(runbook: RunbookView) -> RenderableType:
    if runbook.markdown is None:
        return Text(f"{runbook.file} was not stored: apply the plan again with its runbooks/ folder beside it")
    return Markdown(runbook.markdown)


def playbook_view(report: PlaybookReport, tz: ZoneInfo) -> Group:
    """The whole playbook: steps, candidate changes, blast radius, requests, workarounds and runbooks."""
    incident = report.incident
    declared = incident.created_at
    elapsed = _minutes(report.now - declared)
    parts: list[RenderableType] = [Text.from_markup(
        f"[bold]Incident {incident.id}[/] · {incident.title} · type [bold]{incident.incident_type}[/] · "
        f"{elapsed} min since declaration ({local(declared, tz, '%Y-%m-%d %H:%M')} {tz.key})"
        + (f" · assessment suggests [bold]{report.suggested_severity}[/]" if report.suggested_severity else "")
    )]
    parts += [step_table(view, report.ticks, declared, report.now, tz) for view in report.steps]
    if report.changes:
        changes = Table(title="Recent changes (candidate causes)", title_justify="left")
        for column in ("when", "service", "change", "source"):
            changes.add_column(column)
        for c in report.changes:
            changes.add_row(local(c.occurred_at, tz, "%a %H:%M"), c.service_id, c.summary, c.source)
        parts.append(changes)
    if report.blast_radius:
        parts.append(Text("Blast radius (services depending on this one): " + ", ".join(report.blast_radius)))
    if report.requests:
        parts.append(requests_table(report.requests, report.now, tz))
    if report.runbooks:
        parts.append(runbooks_table(report.runbooks))
    return Group(*parts)


def print_runbooks(txs: Transactions, incident_id: int, wanted: str | None, as_json: bool
                   ) -> list[RunbookView] | None:
    """For `incidents show`: print the one runbook asked for and return None, or return the linked ones."""
    from onduty.app.runbooks import incident_runbooks

    with friendly_errors():
        runbooks = incident_runbooks(txs, incident_id)
    if wanted is None:
        return runbooks
    found = next((r for r in runbooks if wanted in (r.file, r.title, r.file.rsplit("/", 1)[-1])), None)
    if found is None:
        fail(f"no runbook {wanted!r} is linked to incident {incident_id}",
             "linked: " + (", ".join(r.file for r in runbooks) or "none"))
    if as_json:
        print_json(runbook_dict(found, with_text=True))
    else:
        out.print(runbook_text(found))
    return None


def runbook_dict(r: RunbookView, with_text: bool = False) -> dict[str, Any]:
    found: dict[str, Any] = {"title": r.title, "file": r.file, "why": list(r.reasons)}
    return {**found, "markdown": r.markdown} if with_text else found
