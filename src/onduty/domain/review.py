"""Response figures of one incident, read from its record: detect, engage, acknowledge, resolve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from onduty.domain.incidents import Incident, TimelineEntry


@dataclass(frozen=True)
class ResponseFigures:
    """None where the incident has not reached that point (or the signal time is unknown)."""

    time_to_detect: timedelta | None  # first abnormal signal → incident declared
    time_to_engage: timedelta | None  # declared → first page delivered to a person
    time_to_acknowledge: timedelta | None  # declared → acknowledged
    time_to_resolve: timedelta | None  # declared → resolved
    duration: timedelta | None  # first abnormal signal → resolved


def response_figures(incident: Incident, timeline: Sequence[TimelineEntry]) -> ResponseFigures:
    declared = incident.created_at
    start = incident.first_signal_at if incident.first_signal_at and incident.first_signal_at <= declared else None
    delivered = [e.at for e in timeline if e.kind == "page.delivered"]
    return ResponseFigures(
        time_to_detect=declared - start if start else None,
        time_to_engage=min(delivered) - declared if delivered else None,
        time_to_acknowledge=incident.acknowledged_at - declared if incident.acknowledged_at else None,
        time_to_resolve=incident.resolved_at - declared if incident.resolved_at else None,
        duration=incident.resolved_at - (start or declared) if incident.resolved_at else None,
    )


def humanize(delta: timedelta | None) -> str:
    """'4 h 00 min', '12 min 40 s', '1 s'; '—' when unknown."""
    if delta is None:
        return "—"
    if delta < timedelta(seconds=1):
        return "< 1 s"
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
