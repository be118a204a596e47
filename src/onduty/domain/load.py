"""On-call load and comp time: hours inside and outside coverage, pages, night pages, units.

Pure: the caller brings the shifts (as duties), the coverage windows of the clients each schedule
answers for, and the delivered pages. A person holding two schedules at once is on call once for
that time, so hours are the union of their duties, not the sum.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from onduty.domain.coverage import coverage_edges, in_coverage
from onduty.domain.model import Compensation, Coverage

NIGHT_STARTS = time(22, 0)
NIGHT_ENDS = time(7, 0)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Duty:
    """A span in which one person holds a schedule; `coverages` are those of the clients it answers for."""

    person_id: str
    schedule_id: str
    start: datetime
    end: datetime
    coverages: tuple[Coverage, ...] = ()


@dataclass(frozen=True)
class PersonLoad:
    """One person's on-call burden over a period, and the comp-time units it earns."""

    person_id: str
    in_coverage: timedelta
    outside_coverage: timedelta
    pages: int
    night_pages: int
    units: float
    by_schedule: Mapping[str, timedelta] = field(default_factory=dict)

    @property
    def on_call(self) -> timedelta:
        return self.in_coverage + self.outside_coverage


def is_night(at: datetime, time_zone: str) -> bool:
    """Whether the aware instant `at` falls between 22:00 and 07:00 on the wall clock of `time_zone`."""
    local = at.astimezone(ZoneInfo(time_zone)).time()
    return local >= NIGHT_STARTS or local < NIGHT_ENDS


def split_by_coverage(duties: Sequence[Duty]) -> tuple[timedelta, timedelta]:
    """One person's time on call as (inside coverage, outside coverage), overlapping duties counted once.

    An instant is inside coverage when any duty holding it answers for a client in coverage hours then;
    a duty with no coverages (its schedule serves no client) counts as outside.
    """
    points: set[datetime] = set()
    for duty in duties:
        lo, hi = duty.start.astimezone(UTC), duty.end.astimezone(UTC)
        if hi <= lo:
            continue
        points.update((lo, hi))
        for coverage in duty.coverages:
            points.update(e.astimezone(UTC) for e in coverage_edges(coverage, lo, hi) if lo < e < hi)
    bounds = sorted(points)
    held = [False] * max(len(bounds) - 1, 0)
    inside = [False] * len(held)
    for duty in duties:
        lo, hi = duty.start.astimezone(UTC), duty.end.astimezone(UTC)
        if hi <= lo:
            continue
        for k in range(bisect_left(bounds, lo), bisect_left(bounds, hi)):
            held[k] = True
            if not inside[k]:
                inside[k] = any(in_coverage(c, bounds[k]) for c in duty.coverages)
    total_in = total_out = timedelta(0)
    for k, (seg_start, seg_end) in enumerate(pairwise(bounds)):
        if held[k]:
            if inside[k]:
                total_in += seg_end - seg_start
            else:
                total_out += seg_end - seg_start
    return total_in, total_out


def comp_units(in_coverage: timedelta, outside_coverage: timedelta, pages: int, night_pages: int,
               rates: Compensation) -> float:
    """Units earned: hours at their rates, day pages at `per_page`, night pages at `per_night_page`."""
    day_pages = pages - night_pages
    return (in_coverage / HOUR * rates.per_hour_in_coverage
            + outside_coverage / HOUR * rates.per_hour_outside_coverage
            + day_pages * rates.per_page + night_pages * rates.per_night_page)


def oncall_load(
    duties: Iterable[Duty], pages: Iterable[tuple[str, datetime]], zones: Mapping[str, str],
    rates: Compensation, include: Iterable[str] = (),
) -> list[PersonLoad]:
    """Per person (everyone with a duty or a page, plus `include`), sorted by id.

    `pages` are (person, delivered at); `zones` maps people to their time zone (UTC when unknown),
    which decides what counts as a night page.
    """
    by_person: dict[str, list[Duty]] = {person: [] for person in include}
    for duty in duties:
        by_person.setdefault(duty.person_id, []).append(duty)
    paged: dict[str, list[datetime]] = {}
    for person, at in pages:
        paged.setdefault(person, []).append(at)
        by_person.setdefault(person, [])
    result = []
    for person, held in sorted(by_person.items()):
        inside, outside = split_by_coverage(held)
        times = paged.get(person, [])
        nights = sum(is_night(at, zones.get(person, "UTC")) for at in times)
        per_schedule: dict[str, timedelta] = {}
        for duty in held:
            per_schedule[duty.schedule_id] = per_schedule.get(duty.schedule_id, timedelta(0)) + (duty.end - duty.start)
        result.append(PersonLoad(person, inside, outside, len(times), nights,
                                 comp_units(inside, outside, len(times), nights, rates), per_schedule))
    return result
