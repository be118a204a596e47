"""Severity clocks: the deadlines an incident carries, each with its due time and whether it was met.

Clocks run from the declaration (SPEC §2): acknowledge, first client notice, the repeating status
update, resolve-or-escalate (from the acknowledgement) and the review (from the resolution). A clock
is met by the first matching event at or before its due time; once missed it stays missed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.severity import Severity, SeverityPolicy

ClockName = Literal["acknowledge", "first_notice", "next_update", "resolve", "review"]
ClockState = Literal["running", "met", "missed", "met_late"]

ACK_EXPECTED = timedelta(minutes=15)
NOTICE_KINDS = ("comms.initial", "comms.update", "comms.resolution")


@dataclass(frozen=True)
class Clock:
    name: ClockName
    due: datetime
    state: ClockState
    met_at: datetime | None = None

    def left(self, now: datetime) -> timedelta:
        """Time left until due (negative once overdue)."""
        return self.due - now


def _state(due: datetime, met_at: datetime | None, now: datetime) -> ClockState:
    if met_at is not None:
        return "met" if met_at <= due else "met_late"
    return "missed" if now > due else "running"


def _first(entries: Sequence[TimelineEntry], kinds: Sequence[str], after: datetime) -> datetime | None:
    return next((e.at for e in entries if e.kind in kinds and e.at >= after), None)


def incident_clocks(incident: Incident, timeline: Sequence[TimelineEntry], policy: SeverityPolicy,
                    resolve_timeout: timedelta, now: datetime) -> list[Clock]:
    """Every clock that applies to the incident at `now`, in the order a responder meets them."""
    level = policy.level(Severity(incident.severity))
    declared = incident.created_at
    clocks: list[Clock] = []
    if level.pages:
        due = declared + ACK_EXPECTED
        clocks.append(Clock("acknowledge", due, _state(due, incident.acknowledged_at, now), incident.acknowledged_at))
    notices = sorted(e.at for e in timeline if e.kind in NOTICE_KINDS)
    if level.first_notice is not None:
        due = declared + level.first_notice
        first = notices[0] if notices else None
        clocks.append(Clock("first_notice", due, _state(due, first, now), first))
    if level.update_every is not None and incident.resolved_at is None:
        last = notices[-1] if notices else declared
        due = last + level.update_every
        clocks.append(Clock("next_update", due, _state(due, None, now)))
    if incident.acknowledged_at is not None:
        due = incident.acknowledged_at + resolve_timeout
        clocks.append(Clock("resolve", due, _state(due, incident.resolved_at, now), incident.resolved_at))
    if incident.resolved_at is not None and level.review_due is not None and level.review != "none":
        due = incident.resolved_at + level.review_due
        reviewed = _first(timeline, ("review.completed",), incident.resolved_at)
        clocks.append(Clock("review", due, _state(due, reviewed, now), reviewed))
    return clocks
