"""Coverage hours: when a client expects non-critical pages, and when the next window opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from onduty.domain.model import Coverage, Restriction
from onduty.domain.schedules import daily_window_edges, wall_instant
from onduty.domain.severity import Severity

DEFAULT_COVERAGE_DAYS = frozenset(range(7))


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
