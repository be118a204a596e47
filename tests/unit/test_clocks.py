"""Severity clocks as a table over severities and what happened, in simulated time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onduty.domain.clocks import incident_clocks
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.severity import SeverityPolicy

T0 = datetime(2026, 11, 20, 23, 46, tzinfo=UTC)
MIN = timedelta(minutes=1)
RESOLVE_TIMEOUT = 30 * MIN


def incident(severity: int, acked: int | None = None, resolved: int | None = None) -> Incident:
    i = Incident("recs-model", "northwind", "relevance 0.08", severity, T0)
    i.acknowledged_at = T0 + acked * MIN if acked is not None else None
    i.resolved_at = T0 + resolved * MIN if resolved is not None else None
    return i


def notices(*minutes: int) -> list[TimelineEntry]:
    return [TimelineEntry(T0 + m * MIN, "comms.initial" if n == 0 else "comms.update", "sent")
            for n, m in enumerate(minutes)]


def states(i: Incident, timeline: list[TimelineEntry], at_minute: int) -> dict[str, str]:
    found = incident_clocks(i, timeline, SeverityPolicy(), RESOLVE_TIMEOUT, T0 + at_minute * MIN)
    return {c.name: c.state for c in found}


@pytest.mark.parametrize(("severity", "acked", "resolved", "sent", "now", "expected"), [
    # Sev1: ack in 15 min, first notice in 30, updates hourly, resolve 30 min after ack, review 48 h after.
    (1, None, None, (), 10, {"acknowledge": "running", "first_notice": "running", "next_update": "running"}),
    (1, None, None, (), 16, {"acknowledge": "missed", "first_notice": "running", "next_update": "running"}),
    (1, 12, None, (25,), 40, {"acknowledge": "met", "first_notice": "met", "next_update": "running",
                              "resolve": "running"}),
    (1, 12, None, (35,), 50, {"acknowledge": "met", "first_notice": "met_late", "next_update": "running",
                              "resolve": "missed"}),
    (1, 20, 45, (25,), 60, {"acknowledge": "met_late", "first_notice": "met", "resolve": "met",
                            "review": "running"}),
    (1, 5, 30, (20,), 30 + 48 * 60 + 1, {"acknowledge": "met", "first_notice": "met", "resolve": "met",
                                         "review": "missed"}),
    # Sev2: first notice in 2 h, updates every 4 h.
    (2, 3, None, (), 121, {"acknowledge": "met", "first_notice": "missed", "next_update": "running",
                           "resolve": "missed"}),
    # Sev3: no client clocks, no review due.
    (3, 3, 20, (), 60, {"acknowledge": "met", "resolve": "met"}),
    # Sev4: tracked only, no clock at all.
    (4, None, None, (), 600, {}),
])
def test_clock_states(severity: int, acked: int | None, resolved: int | None, sent: tuple[int, ...], now: int,
                      expected: dict[str, str]) -> None:
    assert states(incident(severity, acked, resolved), notices(*sent), now) == expected


def test_next_update_runs_from_the_last_message() -> None:
    found = incident_clocks(incident(1, 5), notices(20, 80), SeverityPolicy(), RESOLVE_TIMEOUT, T0 + 90 * MIN)
    update = next(c for c in found if c.name == "next_update")
    assert update.due == T0 + 140 * MIN and update.left(T0 + 90 * MIN) == 50 * MIN


def test_due_times_follow_the_policy() -> None:
    found = {c.name: c.due for c in incident_clocks(incident(1, 10, 50), [], SeverityPolicy(), RESOLVE_TIMEOUT, T0)}
    assert found["acknowledge"] == T0 + 15 * MIN
    assert found["first_notice"] == T0 + 30 * MIN
    assert found["resolve"] == T0 + 40 * MIN
    assert found["review"] == T0 + 50 * MIN + timedelta(hours=48)
