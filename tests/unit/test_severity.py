"""Severity levels: parsing, mapping source severities, and SPEC §2's default obligations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onduty.domain.severity import DEFAULT_LEVELS, Severity, SeverityPolicy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (1, Severity.SEV1),
        (4, Severity.SEV4),
        ("1", Severity.SEV1),
        ("3", Severity.SEV3),
        ("sev1", Severity.SEV1),
        ("Sev2", Severity.SEV2),
        ("SEV3", Severity.SEV3),
        ("sev4", Severity.SEV4),
        (" sev2 ", Severity.SEV2),
    ],
)
def test_severity_parse_accepts_number_and_sev_forms(text: str | int, expected: Severity) -> None:
    assert Severity.parse(text) is expected


@pytest.mark.parametrize("text", [0, 5, "5", "sev0", "sev5", "", "sev", "high", "critical", "1.0", "sevsev1"])
def test_severity_parse_refuses_anything_else_naming_accepted_forms(text: str | int) -> None:
    with pytest.raises(ValueError, match="sev1, sev2, sev3, sev4") as caught:
        Severity.parse(text)
    assert repr(text) in str(caught.value)


def test_severity_label_is_capitalised_sev_and_number() -> None:
    assert [s.label for s in Severity] == ["Sev1", "Sev2", "Sev3", "Sev4"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("critical", Severity.SEV1),
        ("error", Severity.SEV2),
        ("warning", Severity.SEV3),
        ("info", Severity.SEV4),
        ("CRITICAL", Severity.SEV1),
        ("Warning", Severity.SEV3),
        ("InFo", Severity.SEV4),
        ("unknown", Severity.SEV2),
        ("fatal", Severity.SEV2),
        ("", Severity.SEV2),
    ],
)
def test_event_severity_maps_pagerduty_words_and_defaults_to_sev2(word: str, expected: Severity) -> None:
    assert SeverityPolicy().from_event(word) is expected


def test_event_severity_mapping_can_be_replaced_by_the_plan() -> None:
    policy = SeverityPolicy(event_severity={"page": Severity.SEV1})
    assert policy.from_event("Page") is Severity.SEV1
    assert policy.from_event("critical") is Severity.SEV2  # not in the custom map: the default


@pytest.mark.parametrize(
    ("severity", "first_notice", "update_every", "review_due", "pages", "dedicated_channel", "monitor_for"),
    [
        (Severity.SEV1, timedelta(minutes=30), timedelta(minutes=60), timedelta(hours=48), True, True,
         timedelta(minutes=60)),
        (Severity.SEV2, timedelta(hours=2), timedelta(hours=4), timedelta(days=7), True, False,
         timedelta(minutes=30)),
        (Severity.SEV3, None, None, None, True, False, timedelta(minutes=30)),
        (Severity.SEV4, None, None, None, False, False, None),
    ],
)
def test_default_levels_match_spec_section_2(
    severity: Severity,
    first_notice: timedelta | None,
    update_every: timedelta | None,
    review_due: timedelta | None,
    pages: bool,
    dedicated_channel: bool,
    monitor_for: timedelta | None,
) -> None:
    level = SeverityPolicy().level(severity)
    assert level.severity is severity
    assert level.first_notice == first_notice
    assert level.update_every == update_every
    assert level.review_due == review_due
    assert level.pages is pages
    assert level.dedicated_channel is dedicated_channel
    assert level.monitor_for == monitor_for


@pytest.mark.parametrize(
    ("severity", "paging", "review"),
    [
        (Severity.SEV1, "all_hands", "mandatory"),
        (Severity.SEV2, "on_call", "recommended"),
        (Severity.SEV3, "assess", "optional"),
        (Severity.SEV4, "none", "none"),
    ],
)
def test_default_paging_and_review_rules(severity: Severity, paging: str, review: str) -> None:
    level = DEFAULT_LEVELS[severity]
    assert (level.paging, level.review) == (paging, review)


def test_each_policy_gets_its_own_copy_of_the_defaults() -> None:
    first, second = SeverityPolicy(), SeverityPolicy()
    assert first.levels == second.levels
    assert first.levels is not second.levels
    assert first.event_severity is not second.event_severity
