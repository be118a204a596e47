"""What the clocks ask of the engine (reminders, misses, the next wake-up), as tables over severities,
transitions and simulated time; and the incident roles' defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onduty.domain.clocks import clock_actions, incident_clocks, next_wake
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.model import Client, Person
from onduty.domain.roles import Assignment, current_roles, parse_role
from onduty.domain.severity import SeverityPolicy

T0 = datetime(2026, 11, 20, 23, 46, tzinfo=UTC)
MIN = timedelta(minutes=1)
LEAD = 5 * MIN


def incident(severity: int, acked: int | None = None, resolved: int | None = None, kind: str = "other") -> Incident:
    i = Incident("recs-model", "northwind", "relevance 0.08", severity, T0, incident_type=kind)
    i.acknowledged_at = T0 + acked * MIN if acked is not None else None
    i.resolved_at = T0 + resolved * MIN if resolved is not None else None
    return i


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


def work(i: Incident, minute: float, timeline: list[TimelineEntry] | None = None) -> list[tuple[str, str, float]]:
    """(action, clock, due minute) the clocks ask for at `minute`."""
    now = at(minute)
    clocks = incident_clocks(i, timeline or [], SeverityPolicy(), 30 * MIN, now)
    return [(a.action, a.clock, (a.due - T0) / MIN) for a in clock_actions(clocks, now, LEAD)]


@pytest.mark.parametrize(("severity", "acked", "resolved", "minute", "expected"), [
    # Sev1: acknowledge due at 15, first notice at 30, an update every 60 until resolved.
    (1, None, None, 9, []),
    (1, None, None, 10, [("remind", "acknowledge", 15)]),
    (1, None, None, 15, [("remind", "acknowledge", 15)]),  # due now: still a reminder, not yet missed
    (1, None, None, 15.02, [("miss", "acknowledge", 15)]),
    (1, 12, None, 26, [("remind", "first_notice", 30)]),
    (1, 12, None, 31, [("miss", "first_notice", 30)]),
    (1, 12, None, 38, [("miss", "first_notice", 30), ("remind", "resolve", 42)]),
    (1, 12, None, 56, [("miss", "first_notice", 30), ("remind", "next_update", 60), ("miss", "resolve", 42)]),
    # A repeating clock: each hour without an update is its own miss.
    (1, 12, 40, 61, [("miss", "first_notice", 30)]),  # resolved: no more updates due
    (1, 5, None, 125, [("miss", "first_notice", 30), ("miss", "next_update", 120), ("miss", "resolve", 35)]),
    (1, 5, None, 116, [("miss", "first_notice", 30), ("miss", "next_update", 60), ("remind", "next_update", 120),
                       ("miss", "resolve", 35)]),
    # The review is due 48 h after the resolution.
    (1, 5, 30, 30 + 48 * 60 - 5, [("miss", "first_notice", 30), ("remind", "review", 30 + 48 * 60)]),
    # Sev2: notice at 2 h, updates every 4 h; Sev3: acknowledge and resolve only; Sev4: nothing.
    (2, 3, None, 115, [("remind", "first_notice", 120), ("miss", "resolve", 33)]),
    (3, None, None, 10, [("remind", "acknowledge", 15)]),
    (3, 3, None, 28, [("remind", "resolve", 33)]),
    (4, None, None, 600, []),
])
def test_clocks_remind_before_and_flag_after_their_due_time(
    severity: int, acked: int | None, resolved: int | None, minute: float, expected: list[tuple[str, str, float]]
) -> None:
    assert work(incident(severity, acked, resolved), minute) == expected


def test_a_client_notice_meets_the_first_notice_and_restarts_the_update_clock() -> None:
    sent = [TimelineEntry(at(20), "comms.initial", "sent")]
    assert work(incident(1, 5), 26, sent) == []  # notice sent at 20: met; resolve is due at 35
    assert work(incident(1, 5), 76, sent) == [("remind", "next_update", 80), ("miss", "resolve", 35)]


def test_acknowledge_runs_from_when_paging_starts_after_a_wait_for_coverage() -> None:
    waited = [TimelineEntry(T0, "paging.deferred", "waits", data={"page_at": at(480).isoformat()})]
    assert work(incident(3), 20, waited) == []
    assert work(incident(3), 490, waited) == [("remind", "acknowledge", 495)]


def test_a_security_incident_carries_its_notification_deadline() -> None:
    hours = 72 * 60
    assert work(incident(2, 3, 20, "security"), hours - 4)[-1] == ("remind", "security_notice", hours)
    assert work(incident(2, 3, 20, "security"), hours + 1)[-1] == ("miss", "security_notice", hours)
    notified = [TimelineEntry(at(600), "security.notified", "authority told")]
    assert ("miss", "security_notice", hours) not in work(incident(2, 3, 20, "security"), hours + 1, notified)


@pytest.mark.parametrize(("severity", "acked", "minute", "wake"), [
    (1, None, 0, 10),  # the acknowledge reminder
    (1, None, 10, 15 + 1 / 60),  # just after the acknowledge deadline
    (1, 12, 12, 25),  # the first-notice reminder
    (1, 12, 31, 37),  # the resolve reminder (acknowledged at 12, 30 min to resolve)
    (1, 12, 42.5, 55),  # the next update's reminder
    (1, 12, 61, 115),  # the next occurrence of the update clock
    (4, None, 0, None),
])
def test_next_wake_is_the_earliest_reminder_or_deadline(severity: int, acked: int | None, minute: float,
                                                        wake: float | None) -> None:
    now = at(minute)
    clocks = incident_clocks(incident(severity, acked), [], SeverityPolicy(), 30 * MIN, now)
    found = next_wake(clocks, now, LEAD)
    assert (None if found is None else round((found - T0) / MIN, 4)) == (None if wake is None else round(wake, 4))


PEOPLE = {p.id: p for p in (Person("aiko", "Aiko Tanaka", "UTC"), Person("tomas", "Tomás Ferreira", "UTC"),
                            Person("maria", "Maria Costa", "UTC"))}
CLIENT = Client("northwind", "Northwind", "UTC", "maria", "dev")
PAGED = [TimelineEntry(T0, "page.queued", "Paging Aiko", data={"person": "aiko"}),
         TimelineEntry(T0, "page.queued", "Paging Dev (all hands)", data={"person": "dev", "cause": "page"})]


@pytest.mark.parametrize(("acked_by", "timeline", "assigned", "expected"), [
    (None, [], {}, {"responder": None, "commander": None, "communications_lead": "maria"}),
    (None, PAGED, {}, {"responder": "aiko", "commander": None, "communications_lead": "maria"}),
    ("Tomás Ferreira", PAGED, {}, {"responder": "tomas", "commander": None, "communications_lead": "maria"}),
    ("aiko", PAGED, {"commander": Assignment("commander", "tomas"), "communications_lead":
                     Assignment("communications_lead", "aiko")},
     {"responder": "aiko", "commander": "tomas", "communications_lead": "aiko"}),
])
def test_roles_fall_back_to_their_defaults(acked_by: str | None, timeline: list[TimelineEntry],
                                           assigned: dict[str, Assignment], expected: dict[str, str | None]) -> None:
    i = incident(1)
    i.acknowledged_by = acked_by
    found = current_roles(i, assigned, CLIENT, PEOPLE, timeline)
    assert {role: a.person_id for role, a in found.items()} == expected


@pytest.mark.parametrize(("text", "role"), [("commander", "commander"), ("IC", "commander"),
                                            ("comms", "communications_lead"), ("Responder", "responder"),
                                            ("communications-lead", "communications_lead")])
def test_role_names_and_aliases(text: str, role: str) -> None:
    assert parse_role(text) == role


def test_an_unknown_role_names_the_choices() -> None:
    with pytest.raises(ValueError, match="responder, commander, communications_lead"):
        parse_role("scribe")
