"""From the validated plan to the engine's Directory: aware time off, layers, policies, severity."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from onduty.domain.model import Target
from onduty.domain.severity import Severity
from onduty.plan.convert import to_directory
from onduty.plan.load import load_plan
from onduty.plan.schema import Plan

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "agency" / "onduty.yaml"
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LISBON = ZoneInfo("Europe/Lisbon")


def plan_with(person: dict[str, object], **extra: object) -> Plan:
    return Plan.model_validate({"organization": {"name": "Acme"}, "people": [person], **extra})


def ann(time_zone: str, *time_off: dict[str, object]) -> dict[str, object]:
    return {"id": "ann", "name": "Ann", "time_zone": time_zone, "time_off": list(time_off)}


def test_date_time_off_covers_whole_days_in_the_persons_zone() -> None:
    trip = {"start": "2026-07-01", "end": "2026-07-10", "reason": "trip"}
    plan = plan_with(ann("America/Los_Angeles", trip))
    span = to_directory(plan).people["ann"].time_off[0]

    assert span.start == datetime(2026, 7, 1, 0, 0, tzinfo=LOS_ANGELES)
    assert span.end == datetime(2026, 7, 11, 0, 0, tzinfo=LOS_ANGELES)  # the last day is included
    assert span.start.utcoffset() is not None and span.end.utcoffset() is not None
    assert span.reason == "trip"


@pytest.mark.parametrize(
    ("instant", "away"),
    [
        (datetime(2026, 7, 1, 6, 59, 59, tzinfo=UTC), False),  # 23:59:59 on 30 June in Los Angeles
        (datetime(2026, 7, 1, 7, 0, tzinfo=UTC), True),  # midnight starting 1 July there
        (datetime(2026, 7, 11, 6, 59, 59, tzinfo=UTC), True),  # the last second of 10 July there
        (datetime(2026, 7, 11, 7, 0, tzinfo=UTC), False),  # 11 July has begun there
    ],
)
def test_date_time_off_boundaries_are_local_midnights(instant: datetime, away: bool) -> None:
    plan = plan_with(ann("America/Los_Angeles", {"start": "2026-07-01", "end": "2026-07-10"}))
    person = to_directory(plan).people["ann"]
    assert (person.away_at(instant) is not None) is away


def test_date_time_off_ending_on_a_dst_change_ends_at_the_next_local_midnight() -> None:
    # Lisbon goes back to WET on 2026-10-25: the following midnight is 00:00 UTC.
    plan = plan_with(ann("Europe/Lisbon", {"start": "2026-10-20", "end": "2026-10-25"}))
    span = to_directory(plan).people["ann"].time_off[0]
    assert span.start.astimezone(UTC) == datetime(2026, 10, 19, 23, 0, tzinfo=UTC)  # WEST, UTC+1
    assert span.end.astimezone(UTC) == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)  # WET, UTC+0


def test_time_off_with_clock_times_is_read_in_the_persons_zone_and_end_is_exclusive() -> None:
    plan = plan_with(ann("Europe/Lisbon", {"start": "2026-07-01T13:00:00", "end": "2026-07-01T18:00:00"}))
    span = to_directory(plan).people["ann"].time_off[0]
    assert span.start == datetime(2026, 7, 1, 13, 0, tzinfo=LISBON)
    assert span.end == datetime(2026, 7, 1, 18, 0, tzinfo=LISBON)


def test_time_off_with_an_explicit_offset_keeps_it() -> None:
    plan = plan_with(ann("Europe/Lisbon", {"start": "2026-07-01T13:00:00+00:00", "end": "2026-07-02"}))
    span = to_directory(plan).people["ann"].time_off[0]
    assert span.start == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


def test_sample_vacation_is_aware_and_ends_after_the_last_day_in_lisbon() -> None:
    priya = to_directory(load_plan(SAMPLE)).people["priya"]
    (vacation,) = priya.time_off
    assert vacation.reason == "vacation"
    assert priya.away_at(datetime(2026, 11, 29, 23, 59, tzinfo=LISBON)) is vacation
    assert priya.away_at(datetime(2026, 11, 30, 0, 0, tzinfo=LISBON)) is None
    assert priya.away_at(datetime(2026, 11, 13, 23, 59, tzinfo=LISBON)) is None


def test_sample_plan_becomes_a_directory_keyed_by_id() -> None:
    directory = to_directory(load_plan(SAMPLE))
    layer = directory.schedules["data-primary"].layers[0]
    assert (layer.members, layer.start) == (("lucia", "kwame", "tomas"), date(2026, 1, 5))
    assert (layer.handoff_day, layer.handoff_time) == (2, time(10, 0))  # wednesday
    assert layer.shift_length == timedelta(weeks=1)

    policy = directory.policies["ml-standard"]
    assert policy.repeats == 1
    assert policy.levels[0].targets == (Target("schedule", "ml-primary"),)
    assert policy.levels[2].targets == (Target("person", "hannah"), Target("person", "dev"))
    assert policy.levels[0].ack_timeout == timedelta(minutes=10)
    assert directory.services["recs-model"].depends_on == ("catalog-feed",)
    assert directory.services["recs-model"].escalation_policy_id == "ml-standard"


@pytest.mark.parametrize(("shift_length", "handoff_day"), [("1w", 3), ("2w", 3), ("1d", None), ("12h", None)])
def test_handoff_day_is_kept_only_for_whole_week_shifts(shift_length: str, handoff_day: int | None) -> None:
    layer = {
        "members": ["ann"], "start": "2026-01-05", "handoff_day": "thursday", "shift_length": shift_length,
    }
    plan = plan_with(ann("UTC"), schedules=[{"id": "s", "time_zone": "UTC", "layers": [layer]}])
    assert to_directory(plan).schedules["s"].layers[0].handoff_day == handoff_day


def test_severity_overrides_keep_every_default_not_written() -> None:
    severity = to_directory(load_plan(SAMPLE)).severity
    sev2 = severity.level(Severity.SEV2)
    assert sev2.review == "mandatory"  # the sample's override
    assert (sev2.first_notice, sev2.update_every) == (timedelta(hours=2), timedelta(hours=4))
    assert severity.level(Severity.SEV1).first_notice == timedelta(minutes=30)


def test_event_severity_words_from_the_plan_are_case_insensitive() -> None:
    plan = plan_with(ann("UTC"), severity_policy={"event_severity": {"PAGE": "sev1"}})
    severity = to_directory(plan).severity
    assert severity.from_event("page") is Severity.SEV1
    assert severity.from_event("Page") is Severity.SEV1
    assert severity.from_event("warning") is Severity.SEV3  # defaults stay


def test_severity_duration_override_becomes_a_timedelta() -> None:
    plan = plan_with(ann("UTC"), severity_policy={"levels": {"sev1": {"first_notice": "10m"}}})
    assert to_directory(plan).severity.level(Severity.SEV1).first_notice == timedelta(minutes=10)

