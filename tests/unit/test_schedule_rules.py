"""Restrictions, overrides, qualification, coverage hours and gaps, as tables and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onduty.domain.coverage import gaps, in_coverage, next_coverage_start, page_at
from onduty.domain.model import Coverage, Layer, Override, Person, Restriction, Schedule, TimeOff
from onduty.domain.schedules import OnCall, Uncovered, on_call_at, resolve_on_call, shifts
from onduty.domain.severity import Severity

WEEKDAYS = frozenset(range(5))
PEOPLE = {p: Person(p, p.title(), "UTC") for p in ("ann", "bob", "cy", "dee", "eve")}


def weekly(*members: str, zone: str = "UTC", name: str = "weekly", restrictions: tuple[Restriction, ...] = ()
           ) -> Layer:
    return Layer(name, members, start=date(2026, 1, 5), handoff_time=time(9, 0), restrictions=restrictions)


def schedule(*layers: Layer, zone: str = "UTC") -> Schedule:
    return Schedule("s", "s", zone, layers)


def at(text: str, zone: str = "UTC") -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


# -- restrictions ---------------------------------------------------------------------------------
NIGHTS = Restriction(frozenset(range(7)), time(22, 0), time(7, 0))
OFFICE = Restriction(WEEKDAYS, time(9, 0), time(17, 0))


@pytest.mark.parametrize(("window", "when", "active"), [
    (OFFICE, "2026-11-23T09:00", True),  # Monday, opening minute
    (OFFICE, "2026-11-23T16:59", True),
    (OFFICE, "2026-11-23T17:00", False),
    (OFFICE, "2026-11-28T12:00", False),  # Saturday
    (NIGHTS, "2026-11-23T23:30", True),
    (NIGHTS, "2026-11-24T06:59", True),  # the window runs past midnight
    (NIGHTS, "2026-11-24T07:00", False),
    (Restriction(frozenset({4}), time(22, 0), time(7, 0)), "2026-11-28T03:00", True),  # Friday night's tail
    (Restriction(frozenset({4}), time(22, 0), time(7, 0)), "2026-11-29T03:00", False),
])
def test_restriction_window(window: Restriction, when: str, active: bool) -> None:
    assert window.active(datetime.fromisoformat(when)) is active


def test_restricted_top_layer_wins_only_inside_its_window() -> None:
    s = schedule(weekly("ann"), weekly("bob", name="office", restrictions=(OFFICE,)))
    assert on_call_at(s, PEOPLE, at("2026-11-23T10:00")).person_id == "bob"  # type: ignore[union-attr]
    assert on_call_at(s, PEOPLE, at("2026-11-23T18:00")).person_id == "ann"  # type: ignore[union-attr]


def test_no_active_layer_is_a_gap_with_its_reason() -> None:
    s = schedule(weekly("bob", restrictions=(OFFICE,)))
    found = resolve_on_call(s, PEOPLE, at("2026-11-28T12:00"))
    assert isinstance(found, Uncovered) and "restrictions" in found.reason


# -- overrides --------------------------------------------------------------------------------------
def cover(person: str, start: str, end: str, replaces: str | None = None, ident: int = 1) -> Override:
    return Override("s", person, at(start), at(end), replaces, "lead", "swap", ident)


def test_override_beats_the_rotation_and_says_whom_it_replaces() -> None:
    s = schedule(weekly("ann", "bob"))
    found = on_call_at(s, PEOPLE, at("2026-11-23T12:00"), [cover("cy", "2026-11-23T10:00", "2026-11-23T14:00")])
    assert found == OnCall("cy", "override", covering_for="ann", cover_reason="swap", override_id=1)


def test_override_for_someone_else_does_not_apply() -> None:
    s = schedule(weekly("ann", "bob"))  # the week of 2026-11-23 is ann's
    only_bob = cover("cy", "2026-11-23T10:00", "2026-11-23T14:00", replaces="bob")
    assert on_call_at(s, PEOPLE, at("2026-11-23T12:00"), [only_bob]).person_id == "ann"  # type: ignore[union-attr]


def test_newest_override_wins_and_one_for_a_person_away_is_ignored() -> None:
    away = {**PEOPLE, "dee": Person("dee", "Dee", "UTC", time_off=(TimeOff(at("2026-11-01T00:00"),
                                                                             at("2026-12-01T00:00")),))}
    s = schedule(weekly("ann", "bob"))
    overrides = [cover("cy", "2026-11-23T10:00", "2026-11-23T14:00", ident=1),
                 cover("eve", "2026-11-23T11:00", "2026-11-23T13:00", ident=2),
                 cover("dee", "2026-11-23T11:30", "2026-11-23T12:30", ident=3)]
    assert on_call_at(s, away, at("2026-11-23T12:00"), overrides).person_id == "eve"  # type: ignore[union-attr]
    assert on_call_at(s, away, at("2026-11-23T13:30"), overrides).person_id == "cy"  # type: ignore[union-attr]


# -- qualification ----------------------------------------------------------------------------------
def test_unqualified_owner_is_skipped_for_the_next_qualified_member() -> None:
    s = schedule(weekly("ann", "bob", "cy"))  # week of 2026-11-23 is bob's
    found = on_call_at(s, PEOPLE, at("2026-11-23T12:00"), qualified=["cy", "ann"])
    assert found == OnCall("cy", "weekly", covering_for="bob", cover_reason="not qualified for the service")


def test_nobody_qualified_is_a_gap_naming_each_reason() -> None:
    found = resolve_on_call(schedule(weekly("ann", "bob")), PEOPLE, at("2026-11-23T12:00"), qualified=["eve"])
    assert isinstance(found, Uncovered)
    assert "ann: not qualified" in found.reason and "bob: not qualified" in found.reason


# -- coverage hours ---------------------------------------------------------------------------------
CHICAGO = Coverage("America/Chicago")  # 07:00-22:00 every day


@pytest.mark.parametrize(("when", "inside", "opens"), [
    ("2026-11-20T17:40", True, "2026-11-20T17:40"),
    ("2026-11-20T22:00", False, "2026-11-21T07:00"),
    ("2026-11-21T03:15", False, "2026-11-21T07:00"),
    ("2026-11-21T06:59", False, "2026-11-21T07:00"),
])
def test_coverage_window_and_next_opening(when: str, inside: bool, opens: str) -> None:
    moment = at(when, "America/Chicago")
    assert in_coverage(CHICAGO, moment) is inside
    assert next_coverage_start(CHICAGO, moment) == at(opens, "America/Chicago")


def test_weekday_coverage_waits_over_the_weekend() -> None:
    office = Coverage("Europe/Lisbon", WEEKDAYS, time(8, 0), time(20, 0))
    assert next_coverage_start(office, at("2026-11-27T21:00", "Europe/Lisbon")) == at("2026-11-30T08:00",
                                                                                       "Europe/Lisbon")


@pytest.mark.parametrize(("severity", "waits"), [(Severity.SEV1, False), (Severity.SEV2, True),
                                                  (Severity.SEV3, True), (Severity.SEV4, True)])
def test_only_sev1_pages_outside_coverage(severity: Severity, waits: bool) -> None:
    night = at("2026-11-21T02:00", "America/Chicago")
    assert (page_at(severity, CHICAGO, night) > night) is waits


def test_24x7_coverage_never_waits() -> None:
    night = at("2026-11-21T02:00", "America/Chicago")
    assert page_at(Severity.SEV3, Coverage("America/Chicago", always=True), night) == night


# -- gaps -------------------------------------------------------------------------------------------
def test_gaps_cover_only_coverage_hours_and_give_the_reason() -> None:
    away = {**PEOPLE, "ann": Person("ann", "Ann", "UTC", time_off=(TimeOff(at("2026-11-23T00:00"),
                                                                             at("2026-11-24T00:00"), "vacation"),))}
    office = Coverage("UTC", frozenset(range(7)), time(9, 0), time(17, 0))
    found = gaps(schedule(weekly("ann")), away, at("2026-11-22T00:00"), at("2026-11-25T00:00"), office)
    assert [(g.start, g.end) for g in found] == [(at("2026-11-23T09:00"), at("2026-11-23T17:00"))]
    assert "ann: vacation" in found[0].reason


def test_empty_layer_is_reported_as_a_gap() -> None:
    found = gaps(schedule(Layer("empty", (), date(2026, 1, 5), time(9, 0))), PEOPLE,
                 at("2026-11-23T00:00"), at("2026-11-23T06:00"))
    assert found[0].reason == "layer 'empty' has no members"


# -- daylight saving --------------------------------------------------------------------------------
@pytest.mark.parametrize(("zone", "before", "after"), [
    ("Australia/Sydney", "2026-04-03", "2026-04-06"),  # DST ends Sun 5 Apr 2026
    ("Australia/Sydney", "2026-10-02", "2026-10-05"),  # DST starts Sun 4 Oct 2026
    ("America/Los_Angeles", "2026-03-06", "2026-03-09"),
    ("Europe/Lisbon", "2026-10-23", "2026-10-26"),
    ("UTC", "2026-03-27", "2026-03-30"),
])
def test_daily_handoff_keeps_its_wall_clock_time_across_dst(zone: str, before: str, after: str) -> None:
    layer = Layer("daily", ("ann", "bob"), date(2026, 1, 1), time(9, 0), timedelta(days=1), handoff_day=None)
    s = Schedule("s", "s", zone, (layer,))
    found = shifts(s, PEOPLE, at(f"{before}T00:00", zone), at(f"{after}T23:00", zone))
    tz = ZoneInfo(zone)
    assert all(sh.start.astimezone(tz).time() == time(9, 0) for sh in found[1:])
    assert all(a.person_id != b.person_id for a, b in pairwise(found))  # one owner at a time, alternating
    hours = [round((sh.end - sh.start).total_seconds() / 3600) for sh in found[1:-1]]
    assert len(hours) == 3 and set(hours) <= {23, 24, 25}
    if zone != "UTC":  # the range really crosses a change: one shift is an hour short or long
        assert hours.count(24) == 2


# -- properties -------------------------------------------------------------------------------------
ZONES = st.sampled_from(["UTC", "America/Los_Angeles", "Europe/Lisbon", "Australia/Sydney"])
YEAR = 365 * 24 * 3600


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Schedule, dict[str, Person], list[Override]]:
    zone = draw(ZONES)
    names = ["ann", "bob", "cy", "dee"]
    layers = []
    for index in range(draw(st.integers(1, 3))):
        members = tuple(draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True)))
        hours = draw(st.sampled_from([8, 12, 24, 168]))
        restrictions = (OFFICE,) if index and draw(st.booleans()) else ()
        layers.append(Layer(f"l{index}", members, date(2026, 1, 5), time(draw(st.integers(0, 23)), 30),
                            timedelta(hours=hours), 0 if hours == 168 else None, restrictions))
    base = datetime(2026, 1, 1, tzinfo=UTC)
    people = {}
    for name in names:
        spans = []
        for _ in range(draw(st.integers(0, 2))):
            start = base + timedelta(seconds=draw(st.integers(0, YEAR)))
            spans.append(TimeOff(start, start + timedelta(hours=draw(st.integers(1, 400))), "vacation"))
        people[name] = Person(name, name, zone, time_off=tuple(spans))
    overrides = []
    for ident in range(draw(st.integers(0, 3))):
        start = base + timedelta(seconds=draw(st.integers(0, YEAR)))
        overrides.append(Override("s", draw(st.sampled_from(names)), start,
                                  start + timedelta(hours=draw(st.integers(1, 72))), id=ident))
    return Schedule("s", "s", zone, tuple(layers)), people, overrides


@settings(max_examples=60, deadline=None)
@given(world=worlds(), offset=st.integers(0, YEAR - 7 * 24 * 3600),
       probes=st.lists(st.integers(0, 7 * 24 * 3600 - 1), min_size=20, max_size=20))
def test_shifts_tile_the_range_and_agree_with_on_call_at(world, offset: int, probes: list[int]) -> None:  # type: ignore[no-untyped-def]
    s, people, overrides = world
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)
    end = start + timedelta(days=7)
    found = shifts(s, people, start, end, overrides)
    assert found[0].start == start and found[-1].end == end
    assert all(a.end == b.start for a, b in pairwise(found))  # no overlap, no hole
    moments = [sh.start for sh in found] + [start + timedelta(seconds=p) for p in probes]
    for moment in moments:
        shift = next(sh for sh in found if sh.start <= moment < sh.end)  # exactly one owner per instant
        who = on_call_at(s, people, moment, overrides)
        assert (who.person_id if who else None) == shift.person_id
        assert (who.covering_for if who else None) == shift.covering_for
        if who is not None:
            assert people[who.person_id].away_at(moment) is None  # time off is never returned


@settings(max_examples=60, deadline=None)
@given(world=worlds(), offset=st.integers(0, YEAR))
def test_an_eligible_override_always_wins(world, offset: int) -> None:  # type: ignore[no-untyped-def]
    s, people, overrides = world
    moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=offset)
    live = [o for o in overrides if o.covers(moment) and people[o.person_id].away_at(moment) is None]
    who = on_call_at(s, people, moment, overrides)
    if live:
        assert who is not None and who.person_id == live[-1].person_id
