"""Coverage hours: when a client expects non-critical pages, and when the next window opens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from onduty.domain.model import Coverage, Override, Person, Restriction, Schedule
from onduty.domain.schedules import daily_window_edges, shifts, wall_instant
from onduty.domain.severity import Severity


def window(coverage: Coverage) -> Restriction:
    return Restriction(coverage.days, coverage.start, coverage.end)


def in_coverage(coverage: Coverage, at: datetime) -> bool:
    if coverage.always:
        return True
    local = at.astimezone(ZoneInfo(coverage.time_zone)).replace(tzinfo=None)
    return window(coverage).active(local)


def next_coverage_start(coverage: Coverage, at: datetime) -> datetime:
    """`at` itself inside coverage; otherwise the instant the next window opens (UTC)."""
    if in_coverage(coverage, at):
        return at.astimezone(UTC)
    tz = ZoneInfo(coverage.time_zone)
    day = at.astimezone(tz).date()
    for offset in range(8):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() in coverage.days:
            opens = wall_instant(datetime.combine(candidate_day, coverage.start), tz)
            if opens > at:
                return opens
    raise ValueError("coverage has no days; use `24x7` or list at least one day")


def coverage_edges(coverage: Coverage, start: datetime, end: datetime) -> set[datetime]:
    if coverage.always:
        return set()
    return daily_window_edges([window(coverage)], ZoneInfo(coverage.time_zone), start, end)


def page_at(severity: Severity, coverage: Coverage, now: datetime) -> datetime:
    """When a new incident's first page goes out: Sev1 at once; others wait for coverage hours."""
    if severity == Severity.SEV1:
        return now
    return next_coverage_start(coverage, now)


@dataclass(frozen=True)
class Gap:
    """A span inside coverage hours in which nobody can be paged from a schedule, and why."""

    schedule_id: str
    start: datetime
    end: datetime
    reason: str


def gaps(
    schedule: Schedule, people: Mapping[str, Person], start: datetime, end: datetime,
    coverage: Coverage | None = None, overrides: Sequence[Override] = (), qualified: Sequence[str] = (),
) -> list[Gap]:
    """Every span of [start, end) inside `coverage` (all of it when None) with nobody eligible."""
    edges = sorted(coverage_edges(coverage, start, end)) if coverage else []
    found: list[Gap] = []
    for shift in shifts(schedule, people, start, end, overrides, qualified):
        if shift.person_id is not None:
            continue
        cuts = [shift.start, *(e for e in edges if shift.start < e < shift.end), shift.end]
        for piece_start, piece_end in pairwise(cuts):
            if coverage is not None and not in_coverage(coverage, piece_start):
                continue
            reason = shift.gap_reason or "nobody on call"
            if found and found[-1].end == piece_start and found[-1].reason == reason:
                found[-1] = Gap(schedule.id, found[-1].start, piece_end, reason)
            else:
                found.append(Gap(schedule.id, piece_start, piece_end, reason))
    return found
