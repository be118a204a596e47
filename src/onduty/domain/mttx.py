"""MTTx and deadline figures over a set of incidents: per-incident figures, then means, medians and p90.

Open incidents are left out of every mean and counted apart; a reopened incident counts once, resolved
at its last resolution. Percentiles are nearest-rank (p90 of 10 values is the 9th smallest).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from onduty.domain.clocks import NOTICE_KINDS
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.review import ActionItem, Review
from onduty.domain.review_draft import escalations
from onduty.domain.severity import SeverityLevel

RESOLVED_STATUSES = ("resolved", "monitoring", "closed")


@dataclass(frozen=True)
class IncidentFigures:
    incident_id: int
    client_id: str
    service_id: str
    severity: int
    incident_type: str
    month: str
    open: bool
    reopened: bool
    time_to_detect: timedelta | None
    time_to_acknowledge: timedelta | None
    time_to_resolve: timedelta | None
    first_notice: str | None  # met | missed | None (not due, or not required)
    updates_met: int
    updates_missed: int
    escalations: int
    review: str | None  # on_time | late | overdue | pending | None (no review due)
    actions_done: int
    actions_overdue: int
    actions_open: int


def resolved_at(incident: Incident, timeline: Sequence[TimelineEntry]) -> datetime | None:
    """When the incident was last resolved; None while it is open (a reopen clears the earlier one)."""
    if incident.status not in RESOLVED_STATUSES:
        return None
    resolutions = [e.at for e in timeline if e.kind == "status.resolved"]
    return max(resolutions) if resolutions else incident.resolved_at


def update_deadlines(notices: Sequence[datetime], every: timedelta | None, end: datetime) -> tuple[int, int]:
    """(met, missed) of the status-update cadence: after each notice the next is due within `every`,
    until `end` (the resolution, or now for an open incident)."""
    if every is None:
        return 0, 0
    met = missed = 0
    ordered = sorted(n for n in notices if n < end)
    for index, sent in enumerate(ordered):
        due = sent + every
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        if following is not None and following <= due:
            met += 1
        elif following is not None or due < end:
            missed += 1
    return met, missed


def _review_state(review: Review | None, now: datetime) -> str | None:
    if review is None or review.due_at is None:
        return None
    if review.status == "completed" and review.completed_at is not None:
        return "on_time" if review.completed_at <= review.due_at else "late"
    return "overdue" if now > review.due_at else "pending"


def incident_figures(incident: Incident, timeline: Sequence[TimelineEntry], first_signal: datetime | None,
                     level: SeverityLevel, review: Review | None, actions: Sequence[ActionItem],
                     now: datetime) -> IncidentFigures:
    assert incident.id is not None
    declared = incident.created_at
    resolved = resolved_at(incident, timeline)
    notices = sorted(e.at for e in timeline if e.kind in NOTICE_KINDS)
    first_notice = None
    if level.first_notice is not None:
        due = declared + level.first_notice
        if notices:
            first_notice = "met" if notices[0] <= due else "missed"
        elif (resolved or now) > due:
            first_notice = "missed"
    met, missed = update_deadlines(notices, level.update_every, resolved or now)
    signal = first_signal if first_signal is not None and first_signal <= declared else None
    return IncidentFigures(
        incident.id, incident.client_id, incident.service_id, incident.severity, incident.incident_type,
        f"{declared:%Y-%m}", resolved is None, any(e.kind == "incident.reopened" for e in timeline),
        declared - signal if signal else None,
        incident.acknowledged_at - declared if incident.acknowledged_at else None,
        resolved - declared if resolved else None,
        first_notice, met, missed, escalations(timeline), _review_state(review, now),
        sum(a.status == "done" for a in actions), sum(a.overdue(now) for a in actions),
        sum(a.status in ("open", "in_progress") and not a.overdue(now) for a in actions),
    )


@dataclass(frozen=True)
class Stat:
    """Mean, median and p90 of a duration over the incidents that have it (seconds); None for none."""

    count: int
    mean: float | None
    median: float | None
    p90: float | None


def stat(values: Iterable[timedelta | None]) -> Stat:
    seconds = sorted(v.total_seconds() for v in values if v is not None)
    if not seconds:
        return Stat(0, None, None, None)
    return Stat(len(seconds), statistics.fmean(seconds), statistics.median(seconds),
                seconds[max(math.ceil(0.9 * len(seconds)) - 1, 0)])


def percent(good: int, total: int) -> float | None:
    return round(100.0 * good / total, 1) if total else None


@dataclass(frozen=True)
class Summary:
    incidents: int
    open: int
    reopened: int
    mttd: Stat
    mtta: Stat
    mttr: Stat
    first_notice_met: int
    first_notice_missed: int
    first_notice_met_pct: float | None
    updates_met: int
    updates_missed: int
    updates_met_pct: float | None
    escalations: int
    reviews_on_time: int
    reviews_late: int
    reviews_overdue: int
    reviews_pending: int
    reviews_on_time_pct: float | None
    actions_done: int
    actions_overdue: int
    actions_open: int


def summarize(rows: Sequence[IncidentFigures]) -> Summary:
    """Figures over `rows`; means over resolved incidents only, open ones counted apart."""
    closed = [r for r in rows if not r.open]
    fn_met = sum(r.first_notice == "met" for r in rows)
    fn_missed = sum(r.first_notice == "missed" for r in rows)
    up_met, up_missed = sum(r.updates_met for r in rows), sum(r.updates_missed for r in rows)
    reviews = {s: sum(r.review == s for r in rows) for s in ("on_time", "late", "overdue", "pending")}
    return Summary(
        len(rows), len(rows) - len(closed), sum(r.reopened for r in rows),
        stat(r.time_to_detect for r in closed), stat(r.time_to_acknowledge for r in closed),
        stat(r.time_to_resolve for r in closed),
        fn_met, fn_missed, percent(fn_met, fn_met + fn_missed),
        up_met, up_missed, percent(up_met, up_met + up_missed),
        sum(r.escalations for r in rows),
        reviews["on_time"], reviews["late"], reviews["overdue"], reviews["pending"],
        percent(reviews["on_time"], reviews["on_time"] + reviews["late"] + reviews["overdue"]),
        sum(r.actions_done for r in rows), sum(r.actions_overdue for r in rows), sum(r.actions_open for r in rows),
    )
