"""`onduty silence create|list|expire` and `onduty heartbeat key|list`."""

from __future__ import annotations

import re
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.table import Table

from onduty.cli.common import JsonOpt, container, err, fail, friendly_errors, out, parse_at, print_json

silence_app = typer.Typer(help="Hold matching alerts back from paging for a while (they are still stored).",
                          no_args_is_help=True)
heartbeat_app = typer.Typer(help="Heartbeat checks: keys for jobs to ping, and the state of every check.",
                            no_args_is_help=True)
_SPAN = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$")


def _span(text: str) -> timedelta:
    match = _SPAN.match(text)
    if not match or int(match.group(1)) == 0:
        fail(f"--duration {text!r} is not a span like 30m, 2h, 1d or 1w", code=2)
    unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


@silence_app.command("create")
def silence_create(
    match: Annotated[list[str] | None, typer.Option(
        "--match", "-m", help='A label matcher: name="value", name!=value, name=~regex, name!~regex, '
        'name (exists), !name (absent).')] = None,
    service: Annotated[str | None, typer.Option(help="Only alerts of this service.")] = None,
    duration: Annotated[str | None, typer.Option(help="How long, e.g. 2h (default 1h).")] = None,
    until: Annotated[str | None, typer.Option(help="End time (ISO 8601) instead of --duration.")] = None,
    start: Annotated[str | None, typer.Option(help="Start time (ISO 8601); default now.")] = None,
    author: Annotated[str, typer.Option(help="Who silences (a person's id or name).")] = "",
    comment: Annotated[str, typer.Option(help="Why.")] = "",
) -> None:
    """Create a silence and print its id.

    Example: [bold]onduty silence create -m 'alertname="DiskFull"' --service recs-model --duration 2h
    --author aiko --comment "swapping the disk"[/]
    """
    from onduty.app.silences import create_silence
    from onduty.domain.matchers import BadMatcher

    if until is not None and duration is not None:
        fail("give --duration or --until, not both", code=2)
    c = container()
    now = c.clock.now()
    starts = parse_at(start) or now
    ends = parse_at(until) if until is not None else starts + _span(duration or "1h")
    assert ends is not None
    try:
        with friendly_errors():
            silence = create_silence(c.db, match or [], starts, ends, author, comment, now, service)
    except BadMatcher as exc:
        fail(str(exc), code=2)
    err.print(f"silence {silence.id} until {silence.end:%Y-%m-%d %H:%M %Z}: {', '.join(map(str, silence.matchers))}")
    sys.stdout.write(f"{silence.id}\n")


@silence_app.command("list")
def silence_list(
    all_: Annotated[bool, typer.Option("--all", help="Include expired silences.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List silences in force (active or pending); --all adds the expired ones.

    Example: [bold]onduty silence list --all --json[/]
    """
    from onduty.app.silences import list_silences

    c = container()
    now = c.clock.now()
    with friendly_errors():
        found = list_silences(c.db, now, all_)
    rows = [{"id": s.id, "state": s.state(now), "matchers": [str(m) for m in s.matchers], "service": s.service_id,
             "starts_at": s.start, "ends_at": s.end, "created_by": s.created_by, "comment": s.comment}
            for s in found]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "state", "matchers", "service", "until", "by", "comment")
    for r in rows:
        table.add_row(str(r["id"]), str(r["state"]), ", ".join(r["matchers"]) or "-",  # type: ignore[arg-type]
                      str(r["service"] or "any"), f"{r['ends_at']:%Y-%m-%d %H:%M}", str(r["created_by"]),
                      str(r["comment"]))
    out.print(table if rows else "no silences in force")


@silence_app.command("expire")
def silence_expire(
    silence_id: Annotated[int, typer.Argument(help="The silence's id (see onduty silence list).")],
    by: Annotated[str, typer.Option(help="Who ends it.")] = "cli",
) -> None:
    """End a silence now: matching alerts page again.

    Example: [bold]onduty silence expire 3 --by aiko[/]
    """
    from onduty.app.silences import expire_silence

    c = container()
    with friendly_errors():
        expire_silence(c.db, silence_id, by, c.clock.now())
    err.print(f"silence {silence_id} expired")


@heartbeat_app.command("key")
def heartbeat_key(check: Annotated[str, typer.Argument(help="The heartbeat's id in the plan.")]) -> None:
    """Print a new key for a heartbeat check, once: the job pings POST /api/v1/heartbeats/KEY.

    Example: [bold]KEY=$(onduty heartbeat key catalog-hourly)[/]
    """
    from onduty.app.heartbeats import create_heartbeat_key

    c = container()
    with friendly_errors():
        key = create_heartbeat_key(c.db, check, c.clock.now())
    err.print(f"heartbeat key for {check} (shown once; ping POST /api/v1/heartbeats/<key>):")
    sys.stdout.write(key + "\n")


@heartbeat_app.command("list")
def heartbeat_list(as_json: JsonOpt = False) -> None:
    """Every heartbeat check in the plan: never pinged, ok, or missed.

    Example: [bold]onduty heartbeat list --json[/]
    """
    from onduty.app.heartbeats import heartbeat_report

    c = container()
    with friendly_errors():
        rows = heartbeat_report(c.db, c.clock.now())
    if as_json:
        print_json(rows)
        return
    table = Table("check", "service", "status", "last ping", "due")
    for r in rows:
        table.add_row(str(r["id"]), str(r["service"]), str(r["status"]), str(r["last_beat_at"] or "-"),
                      str(r["due_at"] or "-"))
    out.print(table if rows else "no heartbeat checks in the plan")
