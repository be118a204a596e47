"""Who is on call when: rotation layers over wall-clock time, skipping people on time off.

Shifts are counted on the schedule's local wall clock, so a weekly handoff stays at 09:00 local
across daylight-saving changes. Later layers take precedence over earlier ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from onduty.domain.model import Layer, Person, Schedule


@dataclass(frozen=True)
class OnCall:
    """The person on call, and whom they cover for when the rotation's owner is away."""

    person_id: str
    layer: str
    covering_for: str | None = None
    cover_reason: str | None = None


def layer_anchor(layer: Layer) -> datetime:
    """The naive local start of the layer's first shift: the first handoff on or after `start`."""
    anchor = datetime.combine(layer.start, layer.handoff_time)
    if layer.handoff_day is not None:
        anchor += timedelta(days=(layer.handoff_day - anchor.weekday()) % 7)
    return anchor


def shift_start(layer: Layer, index: int, tz: ZoneInfo) -> datetime:
    """The instant shift `index` begins: its wall-clock handoff, taken at its first occurrence.

    A handoff inside the repeated fall-back hour happens once (at the first 01:30, not both);
    one inside the skipped spring-forward hour happens when the clock jumps past it.
    """
    return (layer_anchor(layer) + index * layer.shift_length).replace(tzinfo=tz, fold=0).astimezone(UTC)


def shift_index(layer: Layer, at: datetime, tz: ZoneInfo) -> int:
    """Which shift (counted from the anchor, may be negative) holds the instant `at`."""
    at = at.astimezone(UTC)
    local = at.astimezone(tz).replace(tzinfo=None)
    index = (local - layer_anchor(layer)) // layer.shift_length
    while shift_start(layer, index, tz) > at:
        index -= 1
    while shift_start(layer, index + 1, tz) <= at:
        index += 1
    return index


def rotation_owner(layer: Layer, at: datetime, tz: ZoneInfo) -> int:
    """Index into `layer.members` of the shift holding the aware instant `at`."""
    return shift_index(layer, at, tz) % len(layer.members)


def on_call_in_layer(
    layer: Layer, people: Mapping[str, Person], at: datetime, tz: ZoneInfo
) -> OnCall | None:
    """The layer's owner at `at`, or the next member in order who is not away."""
    if not layer.members:
        return None
    owner_index = rotation_owner(layer, at, tz)
    owner = layer.members[owner_index]
    for step in range(len(layer.members)):
        candidate = layer.members[(owner_index + step) % len(layer.members)]
        person = people.get(candidate)
        if person is None or person.away_at(at) is not None:
            continue
        if step == 0:
            return OnCall(candidate, layer.name)
        away = people[owner].away_at(at) if owner in people else None
        reason = away.reason if away else "not in the plan"
        return OnCall(candidate, layer.name, covering_for=owner, cover_reason=reason)
    return None


def on_call_at(schedule: Schedule, people: Mapping[str, Person], at: datetime) -> OnCall | None:
    """Who answers for `schedule` at the aware instant `at`; None when nobody is eligible."""
    if at.tzinfo is None:
        raise ValueError("on_call_at needs an aware datetime")
    tz = ZoneInfo(schedule.time_zone)
    for layer in reversed(schedule.layers):
        found = on_call_in_layer(layer, people, at, tz)
        if found is not None:
            return found
    return None
