"""Response figures read from an incident and its timeline, and how durations read to people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.review import ResponseFigures, humanize, response_figures

DECLARED = datetime(2026, 11, 20, 17, 40, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def at(offset_minutes: float) -> datetime:
    return DECLARED + minutes(offset_minutes)


def incident(
    first_signal: float | None = None, acknowledged: float | None = None, resolved: float | None = None
) -> Incident:
    return Incident(
        "recs-model", "northwind", "Recommendations are nonsense", 1, DECLARED,
        status="resolved" if resolved is not None else "triggered",
        first_signal_at=at(first_signal) if first_signal is not None else None,
        acknowledged_at=at(acknowledged) if acknowledged is not None else None,
        resolved_at=at(resolved) if resolved is not None else None,
    )


def entry(offset_minutes: float, kind: str) -> TimelineEntry:
    return TimelineEntry(at(offset_minutes), kind, kind)


FULL_TIMELINE = [
    entry(0, "status.triggered"),
    entry(0.5, "page.queued"),  # queued is not delivered: not engagement
    entry(2, "page.delivered"),
    entry(1, "page.delivered"),  # out of order on purpose: the earliest delivery counts
    entry(5, "status.acknowledged"),
]


@pytest.mark.parametrize(
    ("case", "timeline", "expected"),
    [
        pytest.param(
            incident(first_signal=-20, acknowledged=5, resolved=120),
            FULL_TIMELINE,
            ResponseFigures(minutes(20), minutes(1), minutes(5), minutes(120), minutes(140)),
            id="resolved-with-known-first-signal",
        ),
        pytest.param(
            incident(acknowledged=5, resolved=120),
            FULL_TIMELINE,
            ResponseFigures(None, minutes(1), minutes(5), minutes(120), minutes(120)),
            id="unknown-signal-duration-from-declaration",
        ),
        pytest.param(
            incident(first_signal=10, acknowledged=5, resolved=120),
            FULL_TIMELINE,
            ResponseFigures(None, minutes(1), minutes(5), minutes(120), minutes(120)),
            id="signal-after-declaration-is-ignored",
        ),
        pytest.param(
            incident(first_signal=0, resolved=30),
            [],
            ResponseFigures(timedelta(0), None, None, minutes(30), minutes(30)),
            id="signal-at-declaration-is-zero-detect-time",
        ),
        pytest.param(
            incident(first_signal=-240),
            [entry(0.25, "page.delivered")],
            ResponseFigures(minutes(240), timedelta(seconds=15), None, None, None),
            id="open-unacknowledged",
        ),
        pytest.param(
            incident(),
            [entry(0, "page.failed"), entry(3, "note")],
            ResponseFigures(None, None, None, None, None),
            id="nothing-reached-yet",
        ),
    ],
)
def test_response_figures_from_incident_and_timeline(
    case: Incident, timeline: list[TimelineEntry], expected: ResponseFigures
) -> None:
    assert response_figures(case, timeline) == expected


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (None, "—"),
        (timedelta(0), "< 1 s"),
        (timedelta(milliseconds=999), "< 1 s"),
        (timedelta(seconds=1), "1 s"),
        (timedelta(seconds=59.9), "59 s"),
        (timedelta(seconds=60), "1 min 00 s"),
        (timedelta(minutes=12, seconds=40), "12 min 40 s"),
        (timedelta(minutes=59, seconds=59), "59 min 59 s"),
        (timedelta(hours=1), "1 h 00 min"),
        (timedelta(hours=4), "4 h 00 min"),
        (timedelta(hours=4, minutes=5, seconds=59), "4 h 05 min"),
        (timedelta(days=2, hours=3), "51 h 00 min"),
    ],
)
def test_humanize_reads_like_a_person_would_write_it(delta: timedelta | None, text: str) -> None:
    assert humanize(delta) == text
