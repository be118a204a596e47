"""`onduty override create|list|delete` and `onduty swap`: changes to who is on call, with who made them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from onduty.app.schedules import OverrideRequest, create_override, delete_override, swap_shifts
from onduty.cli.common import JsonOpt, container, current_user, fail, friendly_errors, out, parse_at, print_json
from onduty.domain.model import Override

override_app = typer.Typer(help="Cover someone's on-call time, list and remove overrides.", no_args_is_help=True)

ScheduleOpt = Annotated[str, typer.Option(help="The schedule (an id from the plan).")]
ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change (kept on record).")]


def _zone(schedule: str) -> str:
    c = container()
    with friendly_errors(), c.db.transaction() as store:
        found = store.directory().schedules.get(schedule)
    if found is None:
        fail(f"schedule {schedule!r} is not in the applied plan", "see the schedules in your onduty.yaml")
    return str(found.time_zone)


def _describe(o: Override, zone: str) -> str:
    tz = ZoneInfo(zone)
    who = f"{o.person_id} covers {o.replaces or 'whoever is on call'}"
    return f"#{o.id} {who} from {o.start.astimezone(tz):%a %d %b %H:%M} to {o.end.astimezone(tz):%a %d %b %H:%M %Z}"


@override_app.command("create")
def create(
    schedule: ScheduleOpt,
    person: Annotated[str, typer.Option(help="Who takes the on-call time.")],
    start: Annotated[str, typer.Option("--from", help="ISO time; naive means the schedule's zone.")],
    end: Annotated[str, typer.Option("--to", help="ISO time; naive means the schedule's zone.")],
    replaces: Annotated[str | None, typer.Option(help="Only cover this person's time.")] = None,
    reason: Annotated[str, typer.Option(help="Why, for the record.")] = "override",
    by: ByOpt = "",
) -> None:
    """Put someone on call for a span of a schedule.

    Example:
      [bold]onduty override create --schedule ml-primary --person tomas \\
        --from 2026-11-21T18:00 --to 2026-11-22T09:00 --replaces aiko[/]
    """
    zone = _zone(schedule)
    lo, hi = parse_at(start, zone, "--from"), parse_at(end, zone, "--to")
    assert lo is not None and hi is not None
    c = container()
    with friendly_errors():
        made = create_override(c.db, OverrideRequest(schedule, person, lo, hi, replaces, reason), by or current_user(),
                               c.clock.now())
    out.print(f"[green]✓[/] {_describe(made, zone)}")


@override_app.command("list")
def list_overrides(
    schedule: Annotated[str | None, typer.Option(help="Only this schedule.")] = None,
    days: Annotated[int, typer.Option(help="How far ahead to look.", min=1, max=366)] = 30,
    as_json: JsonOpt = False,
) -> None:
    """List live overrides from now until --days ahead.

    Example: [bold]onduty override list --schedule ml-primary[/]
    """
    c = container()
    now = c.clock.now()
    with friendly_errors(), c.db.transaction() as store:
        found = store.overrides(schedule, now, now + timedelta(days=days))
        zones = {s.id: s.time_zone for s in store.directory().schedules.values()}
    if as_json:
        print_json([o.__dict__ for o in found])
        return
    table = Table(title="Overrides")
    for column in ("#", "schedule", "who", "covers", "from", "to", "by", "why"):
        table.add_column(column)
    for o in found:
        tz = ZoneInfo(zones.get(o.schedule_id, "UTC"))
        table.add_row(str(o.id), o.schedule_id, o.person_id, o.replaces or "anyone",
                      f"{o.start.astimezone(tz):%a %d %b %H:%M}", f"{o.end.astimezone(tz):%a %d %b %H:%M %Z}",
                      o.created_by, o.reason)
    out.print(table if found else "no overrides ahead")


@override_app.command("delete")
def delete(
    schedule: ScheduleOpt,
    override_id: Annotated[int, typer.Argument(help="The override's number (see `onduty override list`).")],
    by: ByOpt = "",
) -> None:
    """Remove an override (it stays on record as deleted, with who deleted it).

    Example: [bold]onduty override delete --schedule ml-primary 7[/]
    """
    c = container()
    with friendly_errors():
        delete_override(c.db, schedule, override_id, by or current_user(), c.clock.now())
    out.print(f"[green]✓[/] override {override_id} removed from {schedule}")


def swap(
    schedule: ScheduleOpt,
    shift_at: Annotated[str, typer.Option(help="A time inside the first shift.")],
    with_shift_at: Annotated[str, typer.Option(help="A time inside the other person's shift.")],
    by: ByOpt = "",
) -> None:
    """Two people trade shifts: each covers the other's.

    Example: [bold]onduty swap --schedule ml-primary --shift-at 2026-11-24T12:00 --with-shift-at 2026-12-01T12:00[/]
    """
    zone = _zone(schedule)
    first, second = parse_at(shift_at, zone, "--shift-at"), parse_at(with_shift_at, zone, "--with-shift-at")
    assert first is not None and second is not None
    c = container()
    with friendly_errors():
        made = swap_shifts(c.db, schedule, first, second, by or current_user(), c.clock.now())
    for o in made:
        out.print(f"[green]✓[/] {_describe(o, zone)}")
