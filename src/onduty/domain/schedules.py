"""Who is on call when: rotation layers, restrictions, overrides, time off and qualification.

Shifts are counted on the schedule's wall clock, so a weekly 09:00 handoff stays at 09:00 local
across daylight-saving changes; every handoff happens at exactly one instant. Precedence, highest
first: an override, then later layers over earlier ones. A person on time off or not qualified for
the service is never returned: the next member of the layer covers.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from onduty.domain.model import Layer, Override, Person, Restriction, Schedule


@dataclass(frozen=True)
class OnCall:
    """The person on call, how they got there, and whom they cover for."""

    person_id: str
    layer: str
    covering_for: str | None = None
    cover_reason: str | None = None
    override_id: int | None = None


@dataclass(frozen=True)
class Uncovered:
    """Nobody is eligible; `reason` says why (time off, unqualified, empty layer, restrictions)."""

    reason: str


def layer_anchor(layer: Layer) -> datetime:
    """The naive local start of the layer's first shift: the first handoff on or after `start`."""
    return layer.anchor


def wall_instant(local: datetime, tz: ZoneInfo) -> datetime:
    """A naive wall-clock time in `tz` as a UTC instant, taking its first occurrence.

    A time inside the repeated fall-back hour happens once (at the first 01:30, not both); one inside
    the skipped spring-forward hour happens when the clock jumps past it.
    """
    return local.replace(tzinfo=tz, fold=0).astimezone(UTC)


def shift_start(layer: Layer, index: int, tz: ZoneInfo) -> datetime:
    """The instant shift `index` (counted from the anchor, may be negative) begins."""
    return _shift_start(layer.anchor, layer.shift_length, index, tz)


@lru_cache(maxsize=65536)
def _shift_start(anchor: datetime, length: timedelta, index: int, tz: ZoneInfo) -> datetime:
    # Cached: resolving a year of shifts asks for the same few boundaries thousands of times.
    return wall_instant(anchor + index * length, tz)


def shift_index(layer: Layer, at: datetime, tz: ZoneInfo) -> int:
    """Which shift holds the instant `at`."""
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


def unavailable(person: Person | None, at: datetime, qualified: Sequence[str]) -> str | None:
    """Why a person cannot be paged at `at`, or None when they can."""
    if person is None:
        return "not in the plan"
    away = person.away_at(at)
    if away is not None:
        return away.reason
    if qualified and person.id not in qualified:
        return "not qualified for the service"
    return None


def layer_active(layer: Layer, local: datetime) -> bool:
    return not layer.restrictions or any(r.active(local) for r in layer.restrictions)


def on_call_in_layer(
    layer: Layer, people: Mapping[str, Person], at: datetime, tz: ZoneInfo, qualified: Sequence[str] = ()
) -> OnCall | Uncovered:
    """The layer's owner at `at`, or the next member in order who can be paged."""
    if not layer.members:
        return Uncovered(f"layer {layer.name!r} has no members")
    owner_index = rotation_owner(layer, at, tz)
    owner = layer.members[owner_index]
    why_not: dict[str, str] = {}
    for step in range(len(layer.members)):
        candidate = layer.members[(owner_index + step) % len(layer.members)]
        reason = why_not.get(candidate) or unavailable(people.get(candidate), at, qualified)
        if reason is None:
            if step == 0:
                return OnCall(candidate, layer.name)
            return OnCall(candidate, layer.name, covering_for=owner, cover_reason=why_not[owner])
        why_not[candidate] = reason
    detail = "; ".join(f"{who}: {reason}" for who, reason in sorted(why_not.items()))
    return Uncovered(f"nobody in layer {layer.name!r} can be paged ({detail})")


def resolve_on_call(
    schedule: Schedule, people: Mapping[str, Person], at: datetime,
    overrides: Iterable[Override] = (), qualified: Sequence[str] = (),
) -> OnCall | Uncovered:
    """Who answers for `schedule` at the aware instant `at`, or why nobody does."""
    if at.tzinfo is None:
        raise ValueError("on_call_at needs an aware datetime")
    tz = ZoneInfo(schedule.time_zone)
    local = at.astimezone(tz).replace(tzinfo=None)
    found: OnCall | Uncovered = Uncovered("no layer covers this time (restrictions)")
    for layer in reversed(schedule.layers):
        if not layer_active(layer, local):
            continue
        found = on_call_in_layer(layer, people, at, tz, qualified)
        if isinstance(found, OnCall):
            break
    winner: Override | None = None
    for override in overrides:
        # Inline comparisons: this loop runs for every override on every lookup.
        if not override.start <= at < override.end or override.schedule_id != schedule.id:
            continue
        if override.replaces is not None and (not isinstance(found, OnCall) or override.replaces not in (
            found.person_id, found.covering_for)):
            continue
        if unavailable(people.get(override.person_id), at, qualified) is None:
            winner = override  # the last matching override (the newest) wins
    if winner is None:
        return found
    replaced = found.person_id if isinstance(found, OnCall) else None
    return OnCall(winner.person_id, "override", covering_for=replaced if replaced != winner.person_id else None,
                  cover_reason=winner.reason, override_id=winner.id)


def on_call_at(
    schedule: Schedule, people: Mapping[str, Person], at: datetime,
    overrides: Iterable[Override] = (), qualified: Sequence[str] = (),
) -> OnCall | None:
    """Who answers for `schedule` at `at`; None when nobody is eligible."""
    found = resolve_on_call(schedule, people, at, overrides, qualified)
    return found if isinstance(found, OnCall) else None


@dataclass(frozen=True)
class Shift:
    """A span with one owner (or none: `person_id` is None and `gap_reason` says why)."""

    start: datetime
    end: datetime
    person_id: str | None
    layer: str | None = None
    covering_for: str | None = None
    cover_reason: str | None = None
    override_id: int | None = None
    gap_reason: str | None = None


def daily_window_edges(windows: Iterable[Restriction], tz: ZoneInfo, start: datetime, end: datetime) -> set[datetime]:
    """The instants daily windows open and close between `start` and `end`."""
    edges: set[datetime] = set()
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    windows = list(windows)
    day = first
    while day <= last:
        for window in windows:
            if day.weekday() in window.days:
                edges.add(wall_instant(datetime.combine(day, window.start), tz))
                close_day = day if window.start < window.end else day + timedelta(days=1)
                edges.add(wall_instant(datetime.combine(close_day, window.end), tz))
        day += timedelta(days=1)
    return edges


def _global_points(schedule: Schedule, people: Mapping[str, Person], overrides: Sequence[Override],
                   lo: datetime, hi: datetime) -> list[datetime]:
    """Instants that may change the answer whichever layer holds: time off and override edges."""
    points: set[datetime] = set()
    involved = {m for layer in schedule.layers for m in layer.members} | {o.person_id for o in overrides}
    for person_id in involved:
        person = people.get(person_id)
        for span in person.time_off if person else ():
            points.update((span.start.astimezone(UTC), span.end.astimezone(UTC)))
    for override in overrides:
        points.update((override.start.astimezone(UTC), override.end.astimezone(UTC)))
    return sorted(p for p in points if lo < p < hi)


def _next_after(ordered: list[datetime], moment: datetime) -> datetime | None:
    index = bisect_right(ordered, moment)
    return ordered[index] if index < len(ordered) else None


def _rank_of(schedule: Schedule, found: OnCall | Uncovered) -> int:
    """How high the current answer comes from: changes in lower layers cannot alter it."""
    if isinstance(found, Uncovered):
        return -1
    return min((i for i, layer in enumerate(schedule.layers) if layer.name == found.layer), default=-1)


def shifts(
    schedule: Schedule, people: Mapping[str, Person], start: datetime, end: datetime,
    overrides: Iterable[Override] = (), qualified: Sequence[str] = (),
) -> list[Shift]:
    """The spans of [start, end) with their owners; together they tile the range with no overlap.

    A sweep from change to change: the next instant to look at is the earliest time off or override
    edge, or handoff or window edge of a layer at or above the one that holds the schedule now;
    while a layer holds it, the handoffs of the layers beneath cannot change who is on call.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("shifts needs aware datetimes")
    if end <= start:
        return []
    tz = ZoneInfo(schedule.time_zone)
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    mine = [o for o in overrides if o.schedule_id == schedule.id and o.end > lo and o.start < hi]
    everywhere = _global_points(schedule, people, mine, lo, hi)
    windows = [sorted(e for e in daily_window_edges(layer.restrictions, tz, lo, hi) if lo < e < hi)
               for layer in schedule.layers]
    pending = sorted(mine, key=lambda o: o.start)
    live: list[Override] = []
    result: list[Shift] = []
    moment: datetime | None = lo
    while moment is not None:
        # Sweep the overrides so each evaluation checks only those covering it (newest last).
        while pending and pending[0].start <= moment:
            live.append(pending.pop(0))
        live = sorted((o for o in live if o.end > moment), key=lambda o: (o.id is None, o.id or 0))
        found = resolve_on_call(schedule, people, moment, live, qualified)
        # An override sits on top of the layers: whom it replaces still follows their handoffs.
        beneath = resolve_on_call(schedule, people, moment, (), qualified) if live else found
        shift = (
            Shift(moment, hi, found.person_id, found.layer, found.covering_for, found.cover_reason,
                  found.override_id)
            if isinstance(found, OnCall) else Shift(moment, hi, None, gap_reason=found.reason)
        )
        if not result or not _same_owner(result[-1], shift):
            if result:
                result[-1] = Shift(result[-1].start, moment, *_owner_fields(result[-1]))
            result.append(shift)
        candidates = [_next_after(everywhere, moment)]
        for rank in range(max(_rank_of(schedule, beneath), 0), len(schedule.layers)):
            layer = schedule.layers[rank]
            if layer.members:
                candidates.append(shift_start(layer, shift_index(layer, moment, tz) + 1, tz))
            candidates.append(_next_after(windows[rank], moment))
        upcoming = [c for c in candidates if c is not None and c < hi]
        moment = min(upcoming) if upcoming else None
    return result


def _owner_fields(s: Shift) -> tuple[str | None, str | None, str | None, str | None, int | None, str | None]:
    return s.person_id, s.layer, s.covering_for, s.cover_reason, s.override_id, s.gap_reason


def _same_owner(a: Shift, b: Shift) -> bool:
    return _owner_fields(a) == _owner_fields(b)

