"""The check a client message gets before it is sent, as a table: each case names the finding it expects."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from onduty.domain.comms import (
    DEFAULT_BANNED,
    BannedPhrase,
    Kind,
    check_message,
    default_fields,
    parse_time,
)

NOW = datetime(2026, 11, 20, 17, 40, tzinfo=ZoneInfo("America/Chicago"))
ZONE = "America/Chicago"
GOOD_NOTICE = {
    "affected_system": "Northwind recommendation engine",
    "what_is_known": "Since 17:10 the storefront shows recommendations from the wrong categories.",
    "what_is_being_done": "We switched to the popularity fallback and are checking the 17:00 catalog batch.",
    "next_update_at": "18:30",
    "contact_person": "Maria Costa (maria@halyard.example)",
}
GOOD_RESOLUTION = {
    "resolved_at": "19:05",
    "root_cause": "A truncated catalog batch left most products without a category.",
    "fix": "We reloaded the last complete batch and retrained the category index.",
    "monitoring": "We watch relevance and conversion for the next 60 minutes.",
    "review": "You will receive the written review by Tuesday.",
}


def _with(base: dict[str, str], **changes: str) -> dict[str, str]:
    return {**base, **changes}


CASES: list[tuple[str, Kind, dict[str, str], set[tuple[str, str]]]] = [
    ("a complete initial notice passes", "initial", GOOD_NOTICE, set()),
    ("a complete update passes", "update", GOOD_NOTICE, set()),
    ("a complete resolution passes", "resolution", GOOD_RESOLUTION, set()),
    ("an empty field is reported", "initial", _with(GOOD_NOTICE, what_is_known="  "),
     {("missing_field", "what_is_known")}),
    ("a missing contact person is reported", "update",
     {k: v for k, v in GOOD_NOTICE.items() if k != "contact_person"}, {("missing_field", "contact_person")}),
    ("resolution fields are required", "resolution", _with(GOOD_RESOLUTION, root_cause="", review=""),
     {("missing_field", "root_cause"), ("missing_field", "review")}),
    ("'should not have happened' is banned", "initial",
     _with(GOOD_NOTICE, what_is_known="This should not have happened."), {("banned_phrase", "what_is_known")}),
    ("'probably minor' is banned in any case", "update",
     _with(GOOD_NOTICE, what_is_being_done="It is Probably Minor, we are checking."),
     {("banned_phrase", "what_is_being_done")}),
    ("'not sure what happened' alone is banned", "initial",
     _with(GOOD_NOTICE, what_is_known="We are not sure what happened."), {("banned_phrase", "what_is_known")}),
    ("'not sure what happened' with a next step is allowed", "initial",
     _with(GOOD_NOTICE, what_is_known="We are not sure what happened yet; next we compare the last two batches."),
     set()),
    ("'soon' is not a time", "initial", _with(GOOD_NOTICE, next_update_at="soon"),
     {("next_update_not_specific", "next_update_at")}),
    ("'later' is not a time", "update", _with(GOOD_NOTICE, next_update_at="later"),
     {("next_update_not_specific", "next_update_at")}),
    ("'in an hour' is not a clock time", "update", _with(GOOD_NOTICE, next_update_at="in an hour"),
     {("next_update_not_specific", "next_update_at")}),
    ("gibberish is not a time", "update", _with(GOOD_NOTICE, next_update_at="after lunch"),
     {("next_update_not_specific", "next_update_at")}),
    ("a time already passed is refused", "initial", _with(GOOD_NOTICE, next_update_at="17:00"),
     {("next_update_in_past", "next_update_at")}),
    ("now itself is not in the future", "initial", _with(GOOD_NOTICE, next_update_at="17:40"),
     {("next_update_in_past", "next_update_at")}),
    ("an ISO time with an offset ahead is fine", "initial",
     _with(GOOD_NOTICE, next_update_at="2026-11-21T00:30+00:00"), set()),
    ("an ISO time behind, in another zone, is in the past", "initial",
     _with(GOOD_NOTICE, next_update_at="2026-11-20T23:00+00:00"), {("next_update_in_past", "next_update_at")}),
    ("a placeholder left in is reported", "initial", _with(GOOD_NOTICE, what_is_being_done="TBD"),
     {("placeholder", "what_is_being_done")}),
    ("a resolution time must be a time", "resolution", _with(GOOD_RESOLUTION, resolved_at="a while ago"),
     {("resolved_at_not_a_time", "resolved_at")}),
    ("resolution notices carry no next update", "resolution", _with(GOOD_RESOLUTION, next_update_at="soon"), set()),
]


@pytest.mark.parametrize(("name", "kind", "fields", "expected"), CASES, ids=[c[0] for c in CASES])
def test_check_reports_exactly_the_expected_findings(name: str, kind: Kind, fields: dict[str, str],
                                                     expected: set[tuple[str, str]]) -> None:
    findings = check_message(kind, fields, "", NOW, ZONE)
    assert {(f.code, f.field) for f in findings} == expected
    assert all(f.message for f in findings)  # every finding says what to change


def test_banned_phrase_in_the_template_text_is_reported_against_the_message() -> None:
    findings = check_message("initial", GOOD_NOTICE, "Subject: x\n\nThis is probably minor.", NOW, ZONE)
    assert [(f.code, f.field) for f in findings] == [("banned_phrase", "message")]


def test_plan_phrases_add_to_the_defaults() -> None:
    banned = (*DEFAULT_BANNED, BannedPhrase("glitch", "say what failed"))
    fields = _with(GOOD_NOTICE, what_is_known="A small glitch in the feed.")
    findings = check_message("initial", fields, "", NOW, ZONE, banned)
    assert [(f.code, f.field) for f in findings] == [("banned_phrase", "what_is_known")]
    assert "say what failed" in findings[0].message


def test_next_update_beyond_the_policy_interval_is_too_late() -> None:
    fields = _with(GOOD_NOTICE, next_update_at="19:00")
    assert check_message("update", fields, "", NOW, ZONE, update_every=timedelta(hours=2)) == []
    findings = check_message("update", fields, "", NOW, ZONE, update_every=timedelta(minutes=60))
    assert [f.code for f in findings] == ["next_update_too_late"]
    assert "every 60 min" in findings[0].message


@pytest.mark.parametrize(("text", "expected"), [
    ("18:30", datetime(2026, 11, 20, 18, 30, tzinfo=ZoneInfo(ZONE))),
    ("2026-11-20T19:00", datetime(2026, 11, 20, 19, 0, tzinfo=ZoneInfo(ZONE))),
    ("2026-11-21T01:00+00:00", datetime(2026, 11, 20, 19, 0, tzinfo=ZoneInfo(ZONE))),
    ("soon", None),
    ("25:00", None),
])
def test_parse_time_reads_clock_times_in_the_clients_zone(text: str, expected: datetime | None) -> None:
    assert parse_time(text, NOW, ZONE) == expected


def test_default_fields_fill_what_onduty_knows_and_pass_the_time_checks() -> None:
    fields = default_fields("initial", service_name="Recs", contact="Maria", now=NOW, time_zone=ZONE,
                            update_every=timedelta(minutes=60), resolved_at=None, review_due=None)
    assert fields["affected_system"] == "Recs" and fields["contact_person"] == "Maria"
    assert fields["next_update_at"] == "2026-11-20T18:40-06:00"
    filled = {**fields, "what_is_known": "k", "what_is_being_done": "d"}
    assert check_message("initial", filled, "", NOW, ZONE, update_every=timedelta(minutes=60)) == []


def test_default_resolution_fields_name_the_review_date() -> None:
    resolved = NOW + timedelta(hours=1)
    fields = default_fields("resolution", service_name="Recs", contact="Maria", now=NOW, time_zone=ZONE,
                            update_every=None, resolved_at=resolved, review_due=timedelta(hours=48))
    assert fields["resolved_at"] == "2026-11-20T18:40-06:00"
    assert "Sun 22 Nov, 18:40 CST" in fields["review"]
