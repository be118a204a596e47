"""Severity clocks: the deadlines an incident carries, each with its due time and whether it was met.

Clocks run from the declaration (SPEC §2): acknowledge, first client notice, the repeating status
update, resolve-or-escalate (from the acknowledgement) and the review (from the resolution); a security
incident also carries the notification deadline. A clock is met by the first matching event at or before
its due time; once missed it stays missed. `clock_actions` and `next_wake` plan the reminders and misses
the engine turns into durable work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.severity import Severity, SeverityPolicy

ClockName = Literal["acknowledge", "first_notice", "next_update", "resolve", "review", "security_notice"]
ClockState = Literal["running", "met", "missed", "met_late"]

ACK_EXPECTED = timedelta(minutes=15)
NOTICE_KINDS = ("comms.initial", "comms.update", "comms.resolution")
REVIEW_KINDS = ("review.completed",)
SECURITY_NOTICE_KINDS = ("security.notified",)  # the authorities (or data subjects) were notified
PAGING_START_KINDS = ("paging.deferred", "paging.armed")  # data["page_at"]: when paging (re)starts
GRACE = timedelta(seconds=1)  # a clock is missed strictly after its due time

# Who answers for each clock: the first role that has a holder is reminded.
RESPONSIBLE: dict[str, tuple[str, ...]] = {
    "acknowledge": ("on_call", "responder"),
    "first_notice": ("communications_lead",),
    "next_update": ("communications_lead",),
    "resolve": ("commander", "responder"),
    "review": ("commander", "responder"),
    "security_notice": ("commander", "responder"),
}


@dataclass(frozen=True)
class Clock:
    name: ClockName
    due: datetime
    state: ClockState
    met_at: datetime | None = None
    every: timedelta | None = None  # a repeating clock: once missed, the next occurrence is due `every` later

    def left(self, now: datetime) -> timedelta:
        """Time left until due (negative once overdue)."""
        return self.due - now


def _state(due: datetime, met_at: datetime | None, now: datetime) -> ClockState:
    if met_at is not None:
        return "met" if met_at <= due else "met_late"
    return "missed" if now > due else "running"


def _first(entries: Sequence[TimelineEntry], kinds: Sequence[str], after: datetime) -> datetime | None:
    return next((e.at for e in entries if e.kind in kinds and e.at >= after), None)


def paging_start(incident: Incident, timeline: Sequence[TimelineEntry]) -> datetime:
    """When paging began: the declaration, unless it waited for coverage hours or started on a raise."""
    start = incident.created_at
    for entry in timeline:
        if entry.kind in PAGING_START_KINDS and isinstance(entry.data.get("page_at"), str):
            start = datetime.fromisoformat(entry.data["page_at"])
    return start


def incident_clocks(incident: Incident, timeline: Sequence[TimelineEntry], policy: SeverityPolicy,
                    resolve_timeout: timedelta, now: datetime) -> list[Clock]:
    """Every clock that applies to the incident at `now`, in the order a responder meets them."""
    level = policy.level(Severity(incident.severity))
    declared = incident.created_at
    clocks: list[Clock] = []
    if level.pages:
        due = paging_start(incident, timeline) + ACK_EXPECTED
        clocks.append(Clock("acknowledge", due, _state(due, incident.acknowledged_at, now), incident.acknowledged_at))
    notices = sorted(e.at for e in timeline if e.kind in NOTICE_KINDS)
    if level.first_notice is not None:
        due = declared + level.first_notice
        first = notices[0] if notices else None
        clocks.append(Clock("first_notice", due, _state(due, first, now), first))
    if level.update_every is not None and incident.resolved_at is None:
        last = notices[-1] if notices else declared
        due = last + level.update_every
        clocks.append(Clock("next_update", due, _state(due, None, now), every=level.update_every))
    if incident.acknowledged_at is not None:
        due = incident.acknowledged_at + resolve_timeout
        clocks.append(Clock("resolve", due, _state(due, incident.resolved_at, now), incident.resolved_at))
    if incident.resolved_at is not None and level.review_due is not None and level.review != "none":
        due = incident.resolved_at + level.review_due
        reviewed = _first(timeline, REVIEW_KINDS, incident.resolved_at)
        clocks.append(Clock("review", due, _state(due, reviewed, now), reviewed))
    if incident.incident_type == "security":
        due = declared + policy.security_notification_deadline
        notified = _first(timeline, SECURITY_NOTICE_KINDS, declared)
        clocks.append(Clock("security_notice", due, _state(due, notified, now), notified))
    return clocks


@dataclass(frozen=True)
class ClockAction:
    """Work a clock asks for at `now`: remind its owner before `due`, or flag the miss of `due`."""

    action: Literal["remind", "miss"]
    clock: ClockName
    due: datetime


def _occurrences(clock: Clock, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(the latest due time already missed, the next due time still ahead) of an unmet clock."""
    if now <= clock.due:
        return None, clock.due
    if clock.every is None:
        return clock.due, None
    passed = clock.due + ((now - clock.due) // clock.every) * clock.every
    if passed == now:  # exactly at an occurrence: that one is still ahead, not yet missed
        passed -= clock.every
    return passed, passed + clock.every


def clock_actions(clocks: Sequence[Clock], now: datetime, lead: timedelta) -> list[ClockAction]:
    """Misses to flag and reminders to send at `now`; the caller makes each idempotent by (clock, due)."""
    actions: list[ClockAction] = []
    for clock in clocks:
        if clock.met_at is not None:
            continue
        passed, ahead = _occurrences(clock, now)
        if passed is not None:
            actions.append(ClockAction("miss", clock.name, passed))
        if ahead is not None and now >= ahead - lead:
            actions.append(ClockAction("remind", clock.name, ahead))
    return actions


def next_wake(clocks: Sequence[Clock], now: datetime, lead: timedelta) -> datetime | None:
    """The next instant a clock needs the engine: a reminder time, or just past a due time."""
    wakes: list[datetime] = []
    for clock in clocks:
        if clock.met_at is not None:
            continue
        _, ahead = _occurrences(clock, now)
        if ahead is not None:
            remind = ahead - lead
            wakes.append(remind if remind > now else ahead + GRACE)
    return min(wakes, default=None)
