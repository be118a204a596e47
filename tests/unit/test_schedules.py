"""Who is on call when: weekly rotations on the schedule's wall clock, time off, layers, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onduty.domain.model import Layer, Person, Schedule, TimeOff
from onduty.domain.schedules import OnCall, on_call_at

LISBON = ZoneInfo("Europe/Lisbon")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
MEMBERS = ("ann", "bob", "cid")


def person(ident: str, *time_off: TimeOff) -> Person:
    return Person(ident, ident.capitalize(), "UTC", time_off=time_off)


def weekly(*members: str, name: str = "primary", start: date = date(2026, 1, 5)) -> Layer:
    """A weekly layer handing off on Mondays at 09:00; 2026-01-05 is a Monday."""
    return Layer(name, members, start=start, handoff_time=time(9, 0))


def schedule(zone: str = "Europe/Lisbon", *layers: Layer) -> Schedule:
    return Schedule("primary", "Primary", zone, layers or (weekly(*MEMBERS),))


PEOPLE = {ident: person(ident) for ident in MEMBERS}


def local(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)


# Week n of the rotation starts on Monday 2026-01-05 + 7n at 09:00 local; its owner is MEMBERS[n % 3].
@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(LISBON, 2026, 1, 5, 9, 0), "ann"),  # week 0 begins exactly at the first handoff
        (local(LISBON, 2026, 1, 11, 23, 59), "ann"),  # Sunday night: still week 0
        (local(LISBON, 2026, 1, 12, 8, 59, 59), "ann"),  # one second before the handoff
        (local(LISBON, 2026, 1, 12, 9, 0), "bob"),  # the handoff instant itself
        (local(LISBON, 2026, 1, 19, 9, 0), "cid"),
        (local(LISBON, 2026, 1, 26, 9, 0), "ann"),  # the rotation wraps around
        (datetime(2026, 1, 12, 8, 59, 59, 999999, tzinfo=UTC), "ann"),  # Lisbon is UTC in winter
        (datetime(2026, 1, 12, 9, 0, tzinfo=UTC), "bob"),
    ],
)
def test_weekly_rotation_hands_off_on_monday_at_nine_local(at: datetime, expected: str) -> None:
    found = on_call_at(schedule(), PEOPLE, at)
    assert found == OnCall(expected, "primary")


def test_handoff_instant_is_read_in_the_schedules_zone_not_utc() -> None:
    tokyo = schedule("Asia/Tokyo")
    # 09:00 in Tokyo is 00:00 UTC on the same Monday.
    assert on_call_at(tokyo, PEOPLE, datetime(2026, 1, 11, 23, 59, 59, tzinfo=UTC)).person_id == "ann"
    assert on_call_at(tokyo, PEOPLE, datetime(2026, 1, 12, 0, 0, tzinfo=UTC)).person_id == "bob"


def test_start_date_before_handoff_day_begins_at_the_next_handoff_day() -> None:
    # The layer starts on a Wednesday: the first shift begins on the following Monday 09:00.
    layer = weekly(*MEMBERS, start=date(2026, 1, 7))
    sched = schedule("Europe/Lisbon", layer)
    assert on_call_at(sched, PEOPLE, local(LISBON, 2026, 1, 12, 9, 0)).person_id == "ann"
    assert on_call_at(sched, PEOPLE, local(LISBON, 2026, 1, 19, 9, 0)).person_id == "bob"


@pytest.mark.parametrize(
    ("zone", "before_handoff_utc", "at_handoff_utc", "outgoing", "incoming"),
    [
        # Lisbon springs forward on Sunday 2026-03-29: Monday 03-30 09:00 WEST is 08:00 UTC.
        ("Europe/Lisbon", datetime(2026, 3, 30, 7, 59, 59, tzinfo=UTC),
         datetime(2026, 3, 30, 8, 0, tzinfo=UTC), "cid", "ann"),
        # Lisbon falls back on Sunday 2026-10-25: Monday 10-26 09:00 WET is 09:00 UTC.
        ("Europe/Lisbon", datetime(2026, 10, 26, 8, 59, 59, tzinfo=UTC),
         datetime(2026, 10, 26, 9, 0, tzinfo=UTC), "cid", "ann"),
        # Los Angeles springs forward on Sunday 2026-03-08: Monday 03-09 09:00 PDT is 16:00 UTC.
        ("America/Los_Angeles", datetime(2026, 3, 9, 15, 59, 59, tzinfo=UTC),
         datetime(2026, 3, 9, 16, 0, tzinfo=UTC), "cid", "ann"),
        # Los Angeles falls back on Sunday 2026-11-01: Monday 11-02 09:00 PST is 17:00 UTC.
        ("America/Los_Angeles", datetime(2026, 11, 2, 16, 59, 59, tzinfo=UTC),
         datetime(2026, 11, 2, 17, 0, tzinfo=UTC), "ann", "bob"),
    ],
)
def test_handoff_stays_at_nine_local_across_a_dst_change(
    zone: str, before_handoff_utc: datetime, at_handoff_utc: datetime, outgoing: str, incoming: str
) -> None:
    sched = schedule(zone)
    assert at_handoff_utc.astimezone(ZoneInfo(zone)).time() == time(9, 0)
    assert on_call_at(sched, PEOPLE, before_handoff_utc).person_id == outgoing
    assert on_call_at(sched, PEOPLE, at_handoff_utc).person_id == incoming


@pytest.mark.parametrize(
    ("zone", "shift_start", "real_hours"),
    [
        ("Europe/Lisbon", datetime(2026, 3, 23, 9, 0), 167),  # the week the clocks go forward
        ("Europe/Lisbon", datetime(2026, 10, 19, 9, 0), 169),  # the week the clocks go back
        ("America/Los_Angeles", datetime(2026, 3, 2, 9, 0), 167),
        ("America/Los_Angeles", datetime(2026, 10, 26, 9, 0), 169),
    ],
)
def test_shift_across_dst_keeps_one_owner_from_handoff_to_handoff(
    zone: str, shift_start: datetime, real_hours: int
) -> None:
    tz = ZoneInfo(zone)
    sched = schedule(zone)
    start = shift_start.replace(tzinfo=tz).astimezone(UTC)
    owner = on_call_at(sched, PEOPLE, start).person_id
    # Every hour of the shift (167 or 169 real hours) has that same owner; the next instant does not.
    for hour in range(real_hours):
        assert on_call_at(sched, PEOPLE, start + timedelta(hours=hour, minutes=59)).person_id == owner
    assert on_call_at(sched, PEOPLE, start + timedelta(hours=real_hours)).person_id != owner


def test_member_on_time_off_is_skipped_and_the_next_member_covers() -> None:
    vacation = TimeOff(local(LISBON, 2026, 1, 10), local(LISBON, 2026, 1, 20), "vacation")
    people = {**PEOPLE, "ann": person("ann", vacation)}
    found = on_call_at(schedule(), people, local(LISBON, 2026, 1, 10, 12, 0))  # ann's week
    assert found == OnCall("bob", "primary", covering_for="ann", cover_reason="vacation")


def test_cover_skips_every_away_member_in_rotation_order() -> None:
    away = TimeOff(local(LISBON, 2026, 1, 1), local(LISBON, 2026, 2, 1), "conference")
    people = {"ann": person("ann", away), "bob": person("bob", away), "cid": person("cid")}
    found = on_call_at(schedule(), people, local(LISBON, 2026, 1, 6, 12, 0))
    assert found == OnCall("cid", "primary", covering_for="ann", cover_reason="conference")


def test_owner_is_on_call_again_once_time_off_ends() -> None:
    vacation = TimeOff(local(LISBON, 2026, 1, 5), local(LISBON, 2026, 1, 7), "vacation")
    people = {**PEOPLE, "ann": person("ann", vacation)}
    assert on_call_at(schedule(), people, local(LISBON, 2026, 1, 6, 23, 59)).person_id == "bob"
    assert on_call_at(schedule(), people, local(LISBON, 2026, 1, 7, 0, 0)) == OnCall("ann", "primary")


def test_member_missing_from_the_plan_is_covered_with_that_reason() -> None:
    people = {"bob": person("bob"), "cid": person("cid")}
    found = on_call_at(schedule(), people, local(LISBON, 2026, 1, 6, 12, 0))
    assert found == OnCall("bob", "primary", covering_for="ann", cover_reason="not in the plan")


def test_nobody_on_call_when_every_member_is_away() -> None:
    away = TimeOff(local(LISBON, 2026, 1, 1), local(LISBON, 2026, 2, 1))
    people = {ident: person(ident, away) for ident in MEMBERS}
    assert on_call_at(schedule(), people, local(LISBON, 2026, 1, 6, 12, 0)) is None


def test_later_layer_wins_over_earlier_layer() -> None:
    sched = schedule("Europe/Lisbon", weekly(*MEMBERS, name="base"), weekly("zoe", name="override"))
    people = {**PEOPLE, "zoe": person("zoe")}
    assert on_call_at(sched, people, local(LISBON, 2026, 1, 6, 12, 0)) == OnCall("zoe", "override")


def test_earlier_layer_answers_when_everyone_in_the_later_layer_is_away() -> None:
    away = TimeOff(local(LISBON, 2026, 1, 1), local(LISBON, 2026, 2, 1))
    sched = schedule("Europe/Lisbon", weekly(*MEMBERS, name="base"), weekly("zoe", name="override"))
    people = {**PEOPLE, "zoe": person("zoe", away)}
    assert on_call_at(sched, people, local(LISBON, 2026, 1, 6, 12, 0)) == OnCall("ann", "base")


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        on_call_at(schedule(), PEOPLE, datetime(2026, 1, 6, 12, 0))


YEAR_START = datetime(2026, 1, 1)
YEAR_END = datetime(2027, 1, 1)

time_off_spans = st.lists(
    st.tuples(st.integers(0, 365 * 24), st.integers(1, 21 * 24)), max_size=4
).map(
    lambda spans: tuple(
        TimeOff(
            YEAR_START.replace(tzinfo=UTC) + timedelta(hours=start),
            YEAR_START.replace(tzinfo=UTC) + timedelta(hours=start + length),
        )
        for start, length in spans
    )
)


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(["Europe/Lisbon", "America/Los_Angeles", "Australia/Sydney", "UTC"]),
    time_off=st.lists(time_off_spans, min_size=2, max_size=4),
    at=st.datetimes(min_value=YEAR_START, max_value=YEAR_END, timezones=st.just(UTC)),
)
def test_on_call_is_never_away_and_someone_answers_while_anyone_is_available(
    zone: str, time_off: list[tuple[TimeOff, ...]], at: datetime
) -> None:
    members = tuple(f"p{index}" for index in range(len(time_off)))
    people = {ident: person(ident, *spans) for ident, spans in zip(members, time_off, strict=True)}
    sched = schedule(zone, weekly(*members, start=date(2026, 1, 1)))

    found = on_call_at(sched, people, at)

    available = [ident for ident in members if people[ident].away_at(at) is None]
    if available:
        assert found is not None
        assert found.person_id in available
    else:
        assert found is None


def test_handoff_inside_the_repeated_fall_back_hour_happens_once() -> None:
    daily = Layer("daily", ("ann", "bob"), start=date(2026, 10, 1), handoff_time=time(1, 30),
                  shift_length=timedelta(days=1), handoff_day=None)
    sched = schedule("America/Los_Angeles", daily)
    # Los Angeles lives 01:00 to 02:00 twice on 2026-11-01 (08:00 to 10:00 UTC); ann holds the shift before 01:30.
    owners = [
        on_call_at(sched, PEOPLE, datetime(2026, 11, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=m)).person_id
        for m in range(0, 120, 10)
    ]
    changes = sum(1 for before, after in pairwise(owners) if before != after)
    assert changes == 1, owners
