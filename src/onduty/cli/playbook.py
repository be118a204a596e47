"""`onduty incidents playbook|tick|type|fallback|request|request-done|workaround`: the response checklist."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from onduty.app.client_requests import complete_request, create_request
from onduty.app.fallback import run_fallback
from onduty.app.playbook import add_workaround, change_type, playbook, tick
from onduty.cli.common import JsonOpt, container, current_user, fail, friendly_errors, out, print_json

ByOpt = Annotated[str, typer.Option("--by", help="Who is acting (a person id or name).")]
IdArg = Annotated[int, typer.Argument(help="The incident number.")]
TzOpt = Annotated[str | None, typer.Option("--tz", help="Show times in this zone (default: the client's).")]
TYPES = ("model_degradation", "pipeline_failure", "api_availability", "security", "other")


def _zone(name: str | None, fallback: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or fallback)
    except (KeyError, ValueError):
        fail(f"--tz {name!r} is not a time zone", "use an IANA name such as Europe/Lisbon or UTC", 2)


def show_playbook(incident_id: IdArg, tz: TzOpt = None, as_json: JsonOpt = False) -> None:
    """Show the five-step playbook: items with ticks, timeboxes, candidate changes, blast radius, requests.

    Example: [bold]onduty incidents playbook 12[/]
    """
    from onduty.cli.playbook_render import playbook_view
    from onduty.web.playbook_schemas import PlaybookOut

    c = container()
    with friendly_errors():
        report = playbook(c.db, incident_id, c.clock.now())
    if as_json:
        print_json(PlaybookOut.of(report).model_dump(mode="json"))
        return
    with friendly_errors(), c.db.transaction() as store:
        client = store.directory().clients.get(report.incident.client_id)
    out.print(playbook_view(report, _zone(tz, client.time_zone if client else "UTC")))
    out.print(f"[dim]tick an item with `onduty incidents tick {incident_id} ITEM_ID`[/]")


def tick_item(
    incident_id: IdArg, item_id: Annotated[str, typer.Argument(help="The item id, as the playbook lists it.")],
    undo: Annotated[bool, typer.Option("--undo", help="Un-tick the item.")] = False,
    note: Annotated[str, typer.Option("--note", help="A line kept with the tick.")] = "",
    by: ByOpt = "",
) -> None:
    """Tick (or, with --undo, un-tick) a playbook item; it goes on the timeline with who and when.

    Example: [bold]onduty incidents tick 12 assess.system --note "recs-api only, storefront widget"[/]
    """
    c = container()
    with friendly_errors():
        done = tick(c.db, incident_id, item_id, by or current_user(), c.clock.now(), done=not undo, note=note)
    out.print(f"[green]✓[/] {item_id} {'ticked' if done.done else 'un-ticked'} on incident {incident_id}")


def set_type(
    incident_id: IdArg,
    to: Annotated[str, typer.Option("--to", help="model_degradation, pipeline_failure, api_availability, "
                                                 "security or other")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the timeline.")],
    by: ByOpt = "",
) -> None:
    """Change the incident's type; its playbook steps change with it.

    Example: [bold]onduty incidents type 12 --to security --reason "model API key found in a public gist"[/]
    """
    if to not in TYPES:
        fail(f"--to {to!r} is not an incident type", f"use one of {', '.join(TYPES)}", 2)
    c = container()
    with friendly_errors():
        incident = change_type(c.db, incident_id, to, reason, by or current_user(), c.clock.now())
    out.print(f"[green]✓[/] incident {incident_id} is now of type {incident.incident_type}")


def fallback(incident_id: IdArg, by: ByOpt = "") -> None:
    """Switch the service to its fallback by calling the webhook the plan defines (signed, no redirects).

    Example: [bold]onduty incidents fallback 12[/]
    """
    from onduty.adapters.notify.fallback import HttpFallbackCaller

    c = container()
    with friendly_errors():
        outcome = run_fallback(c.db, HttpFallbackCaller(c.settings.webhook_secret, txs=c.db), incident_id,
                               by or current_user(), c.clock.now())
    if not outcome.ok:
        fail(f"the fallback webhook {outcome.url} failed: {outcome.detail} (recorded on the timeline)",
             "switch the fallback by hand (see the runbook), then tick resolve.fallback")
    out.print(f"[green]✓[/] fallback switched on for incident {incident_id} ({outcome.detail})")


def request(
    incident_id: IdArg,
    text: Annotated[str, typer.Option("--text", help="What the client's team must do.")],
    due: Annotated[str, typer.Option("--due", help="Due in, e.g. 30m or 2h.")],
    by: ByOpt = "", as_json: JsonOpt = False,
) -> None:
    """Ask the client's own team to do something by a due time; tracked like a clock.

    Example: [bold]onduty incidents request 12 --text "re-export the catalog from the PIM" --due 30m[/]
    """
    from onduty.plan.schema import parse_duration

    try:
        delta = parse_duration(due)
    except ValueError as exc:
        fail(f"--due: {exc}", "write it like 30m, 2h or 1d", 2)
    c = container()
    now = c.clock.now()
    with friendly_errors():
        created = create_request(c.db, incident_id, text, now + delta, by or current_user(), now)
    if as_json:
        print_json({"id": created.id, "text": created.text, "due_at": created.due_at, "state": created.state(now)})
        return
    out.print(f"[green]✓[/] request #{created.id} on incident {incident_id}, due {created.due_at:%H:%M} UTC")


def request_done(
    incident_id: IdArg, request_id: Annotated[int, typer.Argument(help="The request number.")], by: ByOpt = "",
) -> None:
    """Mark a client request done (met, or met late after its due time).

    Example: [bold]onduty incidents request-done 12 1[/]
    """
    c = container()
    now = c.clock.now()
    with friendly_errors():
        done = complete_request(c.db, incident_id, request_id, by or current_user(), now)
    out.print(f"[green]✓[/] request #{request_id} {done.state(now).replace('_', ' ')}")


def workaround(
    incident_id: IdArg, text: Annotated[str, typer.Argument(help="The temporary measure now in place.")],
    by: ByOpt = "",
) -> None:
    """Record a temporary workaround; step 4 lists it for removal.

    Example: [bold]onduty incidents workaround 12 "feature store pinned to batch 2211"[/]
    """
    c = container()
    with friendly_errors():
        workaround_id = add_workaround(c.db, incident_id, text, by or current_user(), c.clock.now())
    out.print(f"[green]✓[/] workaround recorded; tick verify.workaround.{workaround_id} once it is removed")


def register(app: typer.Typer) -> None:
    """Add the playbook commands to `onduty incidents`."""
    app.command("playbook")(show_playbook)
    app.command("tick")(tick_item)
    app.command("type")(set_type)
    app.command("fallback")(fallback)
    app.command("request")(request)
    app.command("request-done")(request_done)
    app.command("workaround")(workaround)
