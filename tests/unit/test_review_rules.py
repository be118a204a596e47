"""Review rules as tables: root-cause refusal, the update cadence, percentiles, redaction, evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onduty.domain.mttx import stat, update_deadlines
from onduty.domain.review import (
    ActionItem,
    Review,
    detector_of,
    evidence_of,
    missing_for_completion,
    root_cause_refusal,
)
from onduty.domain.review_draft import metric_change, redact

T = datetime(2026, 11, 20, 23, 40, tzinfo=UTC)


def m(n: float) -> timedelta:
    return timedelta(minutes=n)


@pytest.mark.parametrize(("text", "refused"), [
    ("Human error", True),
    ("human error.", True),
    ("Operator error by the on-call engineer", True),
    ("Someone made a mistake", True),
    ("It was just carelessness", True),
    ("user error", True),
    ("A typo", True),
    ("Catalog batches had no schema check before the model consumed them", False),
    ("Human error: the deploy script accepts an empty catalog path and the pipeline has no row-count check", False),
    ("The retraining job reads whatever file is newest, with no validation of its size", False),
])
def test_root_cause_must_name_a_systemic_condition(text: str, refused: bool) -> None:
    reason = root_cause_refusal(text)
    assert (reason is not None) is refused
    if refused:
        assert reason is not None and "systemic" in reason and "For example" in reason


def test_the_plan_can_replace_the_refused_phrases() -> None:
    assert root_cause_refusal("bad luck", ("bad luck",)) is not None
    assert root_cause_refusal("human error", ("bad luck",)) is None


@pytest.mark.parametrize(("notices", "end", "expected"), [
    ([], m(300), (0, 0)),
    ([m(20)], m(50), (0, 0)),  # resolved before the next update was due
    ([m(20)], m(100), (0, 1)),  # due at 80, resolved at 100 with no update
    ([m(20), m(75)], m(100), (1, 0)),
    ([m(20), m(75), m(140)], m(150), (1, 1)),  # 75 → 140 is past 135
    ([m(20), m(90)], m(95), (0, 1)),  # sent late: still missed
    ([m(20), m(200)], m(150), (0, 1)),  # a notice after the end does not count
])
def test_update_cadence_met_and_missed(notices: list[timedelta], end: timedelta, expected: tuple[int, int]) -> None:
    assert update_deadlines([T + n for n in notices], timedelta(hours=1), T + end) == expected


def test_update_cadence_without_a_policy_counts_nothing() -> None:
    assert update_deadlines([T, T + m(200)], None, T + m(300)) == (0, 0)


@pytest.mark.parametrize(("values", "mean", "median", "p90"), [
    ([], None, None, None),
    ([10], 10, 10, 10),
    ([10, 20, 60], 30, 20, 60),
    ([5, 5, 10, 30], 12.5, 7.5, 30),
    (list(range(1, 11)), 5.5, 5.5, 9),  # nearest rank: the 9th of 10
    ([None, 4, None, 8], 6, 6, 8),  # unknown values are left out
])
def test_mean_median_and_nearest_rank_p90(values: list[float | None], mean: float | None, median: float | None,
                                          p90: float | None) -> None:
    got = stat(m(v) if v is not None else None for v in values)
    scale = 60
    assert (got.mean, got.median, got.p90) == tuple(x * scale if x is not None else None for x in (mean, median, p90))


def test_redaction_replaces_longest_names_first() -> None:
    people = {"Lucía Navarro": "an on-call engineer", "Lucía": "an on-call engineer", "lucia": "an on-call engineer",
              "Dev Patel": "the delivery lead", "Dev": "the delivery lead"}
    assert redact("Paged Lucía Navarro; lucia acked; Dev Patel told Dev's client", people) == (
        "Paged an on-call engineer; an on-call engineer acked; the delivery lead told the delivery lead's client")


def test_evidence_is_read_from_custom_details_and_marks_a_detector_alert() -> None:
    details = {"custom_details": {"evidence": {
        "metric": "ctr", "baseline": 0.04, "window": {"start": "2026-11-20T22:40:00Z"},
        "points": [["2026-11-20T22:00:00+00:00", 0.04], {"ts": "2026-11-20T23:00:00+00:00", "value": 0.02}]}}}
    found = evidence_of(details)
    assert found is not None and found.metric == "ctr" and found.window_start == T - m(60)
    assert [v for _, v in found.points] == [0.04, 0.02]
    assert detector_of("kpi-watch", details) == "kpi-watch"
    assert detector_of("detector:cusum", {}) == "cusum"
    assert detector_of("prometheus", {"labels": {"detector": "slo"}}) == "slo"
    assert detector_of("prometheus", {"labels": {"team": "ml"}}) is None
    assert metric_change(found, T - m(60), T) == "ctr: baseline 0.04, furthest from it 0.02 (-50.0%)"
    assert metric_change(None, T, T) is None
    feed_check = {"custom_details": {"evidence": {"feed": "catalog", "verdict": "quarantine", "findings": []}},
                  "labels": {"feed": "catalog", "detector": "feed"}}
    assert evidence_of(feed_check) is None and detector_of("onduty feed check", feed_check) == "feed"


def test_completion_lists_every_gap() -> None:
    review = Review(1, "aiko", "", True, None, T, T, {"summary": "s", "timeline": "t", "detection": "d",
                                                       "response": "r", "impact": "", "root_cause": "human error"})
    assert missing_for_completion(review, [])[0] == "the impact section is empty"
    assert "not a systemic condition" in missing_for_completion(review, [])[1]
    assert "no preventive action" in missing_for_completion(review, [])[2]
    review.sections.update(impact="i", root_cause="Batches are never checked before the model reads them")
    assert missing_for_completion(review, [ActionItem(1, "check", "aiko", T)]) == []
