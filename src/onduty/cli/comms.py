"""`onduty incidents comms draft|check|send`: client messages from the templates, checked before they go."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from onduty.app.comms import Draft, MessageRefused, draft, send
from onduty.cli.common import JsonOpt, container, current_user, fail, friendly_errors, out, print_json
from onduty.domain.comms import KINDS, Finding, Kind, parse_kind

comms_app = typer.Typer(help="Draft, check and send client messages (initial notice, update, resolution).",
                        no_args_is_help=True)

IdArg = Annotated[int, typer.Argument(help="The incident number.")]
KindOpt = Annotated[str, typer.Option("--kind", help="initial, update or resolution.")]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", help="A field as name=value, e.g. what_is_known=\"…\" (repeat it for each field).")]


def _kind(text: str) -> Kind:
    try:
        return parse_kind(text)
    except ValueError:
        fail(f"--kind {text!r} is not a message kind", f"use one of: {', '.join(KINDS)}", 2)


def _fields(pairs: list[str] | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--set {pair!r} is not name=value", 'write it like --set what_is_known="feed rows 12% of usual"', 2)
        fields[name.strip()] = value
    return fields


def _finding_dict(f: Finding) -> dict[str, str]:
    return {"code": f.code, "field": f.field, "message": f.message}


def _draft_dict(d: Draft) -> dict[str, Any]:
    return {"incident": d.incident_id, "kind": d.kind, "subject": d.subject, "body": d.body, "fields": d.fields,
            "findings": [_finding_dict(f) for f in d.findings],
            "recipients": [r.as_dict() for r in d.recipients], "unreachable": d.unreachable}


def _print_findings(findings: list[Finding]) -> None:
    if not findings:
        out.print("[green]✓[/] the check found nothing to change")
        return
    table = Table("field", "problem", "code", title=f"{len(findings)} finding(s)", title_justify="left")
    for f in findings:
        table.add_row(escape(f.field), escape(f.message), f.code)
    out.print(table)


def _run_draft(incident_id: int, kind: str, pairs: list[str] | None) -> Draft:
    c = container()
    with friendly_errors():
        return draft(c.db, incident_id, _kind(kind), _fields(pairs), c.clock.now(), link_base=c.settings.public_url)


@comms_app.command("draft")
def draft_command(incident_id: IdArg, kind: KindOpt = "initial", set_: SetOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Render a message from its template and show what the check says; nothing is sent.

    Example: [bold]onduty incidents comms draft 12 --kind initial --set what_is_known="recommendations are off"[/]
    """
    made = _run_draft(incident_id, kind, set_)
    if as_json:
        print_json(_draft_dict(made))
        return
    out.print(Panel(Text(made.body), title=Text(f"Subject: {made.subject}"), title_align="left"))
    out.print(Text("to: " + (", ".join(f"{r.name} <{r.address}> ({r.channel})" for r in made.recipients)
                             or "nobody")))
    for missing in made.unreachable:
        out.print(Text(f"not reachable: {missing}"), style="yellow")
    _print_findings(made.findings)


@comms_app.command("check")
def check_command(incident_id: IdArg, kind: KindOpt = "initial", set_: SetOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Check a message without sending it; exits 1 when the check finds anything.

    Example: [bold]onduty incidents comms check 12 --kind update --set next_update_at=19:30[/]
    """
    made = _run_draft(incident_id, kind, set_)
    if as_json:
        print_json([_finding_dict(f) for f in made.findings])
    else:
        _print_findings(made.findings)
    if made.findings:
        raise typer.Exit(1)


@comms_app.command("send")
def send_command(
    incident_id: IdArg, kind: KindOpt = "initial", set_: SetOpt = None,
    override_reason: Annotated[str | None, typer.Option(
        "--override-reason", help="Send a Sev1/Sev2 message the check objects to; the reason is recorded.")] = None,
    by: Annotated[str, typer.Option("--by", help="Who sends it (a person id or name).")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Send a message to the client's contacts and the internal roles for the incident's severity.

    Example: [bold]onduty incidents comms send 12 --kind initial --set what_is_known="…" --set what_is_being_done="…"[/]
    """
    c = container()
    with friendly_errors():
        try:
            made, record = send(c.db, incident_id, _kind(kind), _fields(set_), c.clock.now(),
                                actor=by or current_user(), override_reason=override_reason,
                                link_base=c.settings.public_url)
        except MessageRefused as exc:
            fail(str(exc), f"see the message with `onduty incidents comms draft {incident_id} --kind {kind}`")
    if as_json:
        print_json({**_draft_dict(made), "id": record.id, "sent_at": record.sent_at.isoformat(),
                    "override_reason": record.override_reason})
        return
    names = escape(", ".join(f"{r.name} ({r.channel})" for r in made.recipients))
    out.print(f"[green]✓[/] {made.kind} message {record.id} queued for {names}")
    if record.override_reason:
        out.print(f"[yellow]sent despite {len(made.findings)} finding(s); reason recorded:[/] "
                  f"{escape(record.override_reason)}")
