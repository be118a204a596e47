"""On-call load as tables: hours split by coverage, overlapping duties counted once, night pages, units."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from onduty.domain.load import Duty, comp_units, is_night, oncall_load, split_by_coverage
from onduty.domain.model import Compensation, Coverage

CHICAGO = ZoneInfo("America/Chicago")
LISBON = ZoneInfo("Europe/Lisbon")
DAY = Coverage("America/Chicago")  # 07:00-22:00 every day
WEEKDAYS_LISBON = Coverage("Europe/Lisbon", frozenset(range(5)), time(8), time(20))
ALWAYS = Coverage("UTC", always=True)
H = timedelta(hours=1)


def at(day: int, hour: int, minute: int = 0, tz: ZoneInfo = CHICAGO) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=tz)


def duty(start: datetime, end: datetime, *coverages: Coverage, schedule: str = "s", person: str = "ann") -> Duty:
    return Duty(person, schedule, start, end, coverages)


@pytest.mark.parametrize(("duties", "inside", "outside"), [
    # Friday 2026-11-20 in Chicago: 07:00-22:00 inside, the rest outside.
    ([duty(at(20, 0), at(21, 0), DAY)], 15 * H, 9 * H),
    ([duty(at(20, 6), at(20, 8), DAY)], 1 * H, 1 * H),
    ([duty(at(20, 21, 30), at(21, 7, 30), DAY)], 1 * H, 9 * H),
    # A schedule that answers for no client: every hour is outside coverage.
    ([duty(at(20, 0), at(21, 0))], timedelta(0), 24 * H),
    ([duty(at(20, 0), at(21, 0), ALWAYS)], 24 * H, timedelta(0)),
    # Two schedules at once count once; either one's coverage makes the hour "inside".
    ([duty(at(20, 0), at(21, 0), DAY, schedule="a"), duty(at(20, 0), at(21, 0), schedule="b")], 15 * H, 9 * H),
    ([duty(at(20, 0), at(20, 12), DAY, schedule="a"), duty(at(20, 10), at(20, 14), DAY, schedule="b")], 7 * H, 7 * H),
    # Union of two clients' windows: Chicago 07-22 (= Lisbon 13-04) and Lisbon 08-20 weekdays (= Chicago 02-14).
    ([duty(at(20, 0), at(21, 0), DAY, WEEKDAYS_LISBON)], 20 * H, 4 * H),
    # Weekend: the Lisbon window is closed, only Chicago's counts.
    ([duty(at(21, 0), at(22, 0), DAY, WEEKDAYS_LISBON)], 15 * H, 9 * H),
    ([], timedelta(0), timedelta(0)),
])
def test_hours_split_by_coverage(duties: list[Duty], inside: timedelta, outside: timedelta) -> None:
    assert split_by_coverage(duties) == (inside, outside)


def test_a_day_of_daylight_saving_change_has_its_real_length() -> None:
    # Sunday 2026-11-01 in Chicago has 25 hours; coverage hours are still 07:00-22:00 on the wall clock.
    assert split_by_coverage([duty(at(1, 0), at(2, 0), DAY)]) == (15 * H, 10 * H)


@pytest.mark.parametrize(("when", "zone", "night"), [
    (datetime(2026, 11, 20, 23, 40, tzinfo=UTC), "Europe/Lisbon", True),  # 23:40 in Lisbon
    (datetime(2026, 11, 20, 23, 40, tzinfo=UTC), "America/Chicago", False),  # 17:40 in Chicago
    (at(20, 22, 0), "America/Chicago", True),
    (at(20, 21, 59), "America/Chicago", False),
    (at(20, 7, 0), "America/Chicago", False),
    (at(20, 6, 59), "America/Chicago", True),
    (datetime(2026, 11, 20, 20, 30, tzinfo=UTC), "Australia/Sydney", False),  # 07:30 next morning in Sydney
])
def test_night_is_22_to_07_on_the_persons_own_clock(when: datetime, zone: str, night: bool) -> None:
    assert is_night(when, zone) is night


@pytest.mark.parametrize(("inside", "outside", "pages", "nights", "rates", "units"), [
    (10 * H, 20 * H, 0, 0, Compensation(), 2.0),
    (10 * H, 20 * H, 4, 0, Compensation(), 3.0),
    (10 * H, 20 * H, 4, 1, Compensation(), 3.75),  # the night page earns 1.0 instead of 0.25
    (10 * H, 0 * H, 2, 2, Compensation(per_hour_in_coverage=0.5, per_night_page=2.0), 9.0),
    (timedelta(minutes=30), timedelta(0), 0, 0, Compensation(per_hour_in_coverage=1.0), 0.5),
])
def test_comp_units_from_the_plans_rates(inside: timedelta, outside: timedelta, pages: int, nights: int,
                                         rates: Compensation, units: float) -> None:
    assert comp_units(inside, outside, pages, nights, rates) == pytest.approx(units)


def test_load_per_person_counts_pages_and_night_pages_in_each_persons_zone() -> None:
    duties = [duty(at(20, 0), at(21, 0), DAY, person="ann"), duty(at(21, 0), at(22, 0), DAY, person="bob")]
    pages = [("ann", at(20, 17, 40)), ("bob", at(20, 17, 40)), ("ann", at(20, 23, 0)), ("cy", at(20, 12))]
    zones = {"ann": "America/Chicago", "bob": "Europe/Lisbon"}
    rows = {r.person_id: r for r in oncall_load(duties, pages, zones, Compensation(), include=["dee"])}

    assert sorted(rows) == ["ann", "bob", "cy", "dee"]  # paged without a shift, or listed with none
    assert (rows["ann"].pages, rows["ann"].night_pages) == (2, 1)
    assert (rows["bob"].pages, rows["bob"].night_pages) == (1, 1)  # 17:40 Chicago is 23:40 in Lisbon
    assert (rows["cy"].pages, rows["cy"].night_pages, rows["cy"].on_call) == (1, 0, timedelta(0))
    assert rows["dee"].on_call == timedelta(0) and rows["dee"].units == 0
    assert rows["ann"].units == pytest.approx(9 * 0.1 + 0.25 + 1.0)


def test_hours_by_schedule_keep_each_schedule_while_the_total_counts_overlap_once() -> None:
    both = [duty(at(20, 0), at(21, 0), DAY, schedule="a"), duty(at(20, 12), at(21, 0), DAY, schedule="b")]
    (row,) = oncall_load(both, [], {}, Compensation())

    assert row.on_call == 24 * H
    assert row.by_schedule == {"a": 24 * H, "b": 12 * H}
