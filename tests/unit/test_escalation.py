"""Escalation: which level pages when nobody acknowledges, and whom a level's targets reach."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from onduty.domain.escalation import (
    Position,
    Recipient,
    Unreachable,
    after_resolve_timeout,
    recipients_for,
    step_at,
)
from onduty.domain.model import EscalationLevel, EscalationPolicy, Layer, Person, Schedule, Target, TimeOff

NOW = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)  # a Tuesday: week 0 of the rotation, ann's shift

PRIMARY = Target("schedule", "primary")
BOB = Target("person", "bob")
CID = Target("person", "cid")

POLICY = EscalationPolicy(
    "standard",
    levels=(
        EscalationLevel((PRIMARY,), timedelta(minutes=5)),
        EscalationLevel((BOB,), timedelta(minutes=10)),
        EscalationLevel((BOB, CID), timedelta(minutes=15)),
    ),
    resolve_timeout=timedelta(minutes=30),
    repeats=1,
)


@pytest.mark.parametrize(
    ("position", "next_position", "wait"),
    [
        (Position(0, 0), Position(1, 0), timedelta(minutes=5)),  # no ack on level 1 → level 2
        (Position(1, 0), Position(2, 0), timedelta(minutes=10)),
        (Position(2, 0), Position(0, 1), timedelta(minutes=15)),  # last level, a repeat left: wrap
        (Position(0, 1), Position(1, 1), timedelta(minutes=5)),  # the second loop keeps its number
        (Position(1, 1), Position(2, 1), timedelta(minutes=10)),
    ],
)
def test_no_ack_within_timeout_moves_to_next_level(
    position: Position, next_position: Position, wait: timedelta
) -> None:
    step = step_at(POLICY, position, NOW)
    assert step.position == position
    assert step.targets == POLICY.levels[position.level].targets
    assert step.next_position == next_position
    assert step.next_due == NOW + wait


def test_nothing_follows_the_last_level_of_the_last_loop() -> None:
    step = step_at(POLICY, Position(2, 1), NOW)
    assert step.targets == (BOB, CID)  # the last level is still paged
    assert step.next_position is None
    assert step.next_due is None


def test_policy_without_repeats_stops_after_its_last_level() -> None:
    once = EscalationPolicy("once", POLICY.levels, repeats=0)
    step = step_at(once, Position(2, 0), NOW)
    assert (step.next_position, step.next_due) == (None, None)


def test_policy_with_two_repeats_wraps_twice() -> None:
    twice = EscalationPolicy("twice", POLICY.levels, repeats=2)
    assert step_at(twice, Position(2, 1), NOW).next_position == Position(0, 2)
    assert step_at(twice, Position(2, 2), NOW).next_position is None


@pytest.mark.parametrize("level", [-1, 3, 10])
def test_level_outside_the_policy_is_refused(level: int) -> None:
    with pytest.raises(ValueError, match=r"does not exist in policy 'standard'"):
        step_at(POLICY, Position(level, 0), NOW)


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (Position(0, 0), Position(1, 0)),  # acknowledged on level 1, not resolved → level 2
        (Position(1, 0), Position(2, 0)),
        (Position(1, 1), Position(2, 1)),  # the loop is kept
        (Position(2, 0), None),  # the last level has nobody higher
        (Position(2, 1), None),
    ],
)
def test_resolve_timeout_escalates_one_level_up(position: Position, expected: Position | None) -> None:
    assert after_resolve_timeout(POLICY, position) == expected


# -- recipients --------------------------------------------------------------------------------

VACATION = TimeOff(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC), "vacation")


def person(ident: str, *time_off: TimeOff) -> Person:
    return Person(ident, ident.capitalize(), "UTC", time_off=time_off)


def rotation(ident: str, *members: str) -> Schedule:
    layer = Layer("weekly", members, start=date(2026, 1, 5), handoff_time=time(9, 0))
    return Schedule(ident, ident, "UTC", (layer,))


SCHEDULES = {
    "primary": rotation("primary", "ann", "bob"),  # ann's week at NOW
    "vacationers": rotation("vacationers", "dan", "eve"),  # dan's week, and dan is away
    "empty-handed": rotation("empty-handed", "dan"),  # its only member is away
}
PEOPLE = {
    "ann": person("ann"),
    "bob": person("bob"),
    "cid": person("cid"),
    "dan": person("dan", VACATION),
    "eve": person("eve"),
}


@pytest.mark.parametrize(
    ("targets", "expected_recipients", "expected_unreachable"),
    [
        pytest.param((PRIMARY,), [Recipient("ann", PRIMARY)], [], id="schedule-gives-its-on-call"),
        pytest.param((CID,), [Recipient("cid", CID)], [], id="person-target"),
        pytest.param(
            (BOB, CID), [Recipient("bob", BOB), Recipient("cid", CID)], [], id="two-people-in-order"
        ),
        pytest.param(
            (Target("person", "dan"),),
            [],
            [Unreachable(Target("person", "dan"), "Dan is away (vacation)")],
            id="person-on-time-off",
        ),
        pytest.param(
            (Target("person", "dan"), CID),
            [Recipient("cid", CID)],
            [Unreachable(Target("person", "dan"), "Dan is away (vacation)")],
            id="away-person-skipped-others-paged",
        ),
        pytest.param(
            (Target("schedule", "vacationers"),),
            [Recipient("eve", Target("schedule", "vacationers"), "dan", "vacation")],
            [],
            id="schedule-cover-for-away-owner",
        ),
        pytest.param(
            (Target("schedule", "empty-handed"),),
            [],
            [Unreachable(Target("schedule", "empty-handed"), "nobody in layer 'weekly' can be paged (dan: vacation)")],
            id="schedule-with-everyone-away",
        ),
        pytest.param(
            (PRIMARY, Target("person", "ann")),
            [Recipient("ann", PRIMARY)],
            [],
            id="same-person-via-schedule-and-person-paged-once",
        ),
        pytest.param(
            (Target("person", "ann"), PRIMARY),
            [Recipient("ann", Target("person", "ann"))],
            [],
            id="same-person-via-person-and-schedule-paged-once",
        ),
        pytest.param((BOB, BOB), [Recipient("bob", BOB)], [], id="same-person-twice-paged-once"),
        pytest.param(
            (Target("person", "ghost"),),
            [],
            [Unreachable(Target("person", "ghost"), "person is not in the plan")],
            id="unknown-person",
        ),
    ],
)
def test_level_targets_resolve_to_people(
    targets: tuple[Target, ...],
    expected_recipients: list[Recipient],
    expected_unreachable: list[Unreachable],
) -> None:
    recipients, unreachable = recipients_for(targets, SCHEDULES, PEOPLE, NOW)
    assert recipients == expected_recipients
    assert unreachable == expected_unreachable


def test_unknown_schedule_is_reported_unreachable() -> None:
    target = Target("schedule", "nonexistent")
    recipients, unreachable = recipients_for((target, CID), SCHEDULES, PEOPLE, NOW)
    assert recipients == [Recipient("cid", CID)]
    assert [u.target for u in unreachable] == [target]
    assert unreachable[0].reason


def test_person_back_from_time_off_is_paged_again() -> None:
    after = VACATION.end
    recipients, unreachable = recipients_for((Target("person", "dan"),), SCHEDULES, PEOPLE, after)
    assert recipients == [Recipient("dan", Target("person", "dan"))]
    assert unreachable == []
