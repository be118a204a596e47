"""The minimum viable process, graded item by item, and the scenario file's own checks."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onduty.domain.coverage import Gap
from onduty.domain.readiness import Facts, fix_first, grade, human, score
from onduty.plan.convert import to_directory
from onduty.plan.load import PlanInvalid, load_plan
from onduty.sim.scenario import load_scenario, parse_offset
from tests.conftest import SAMPLE_PLAN
from tests.integration.holes_plan import HOLES_PLAN

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def holes(tmp_path: Path) -> object:
    path = tmp_path / "onduty.yaml"
    path.write_text(HOLES_PLAN)
    return to_directory(load_plan(path))


def by_id(checks: list) -> dict:  # type: ignore[type-arg]
    return {c.id: c for c in checks}


def test_sample_plan_passes_every_must_have_once_watched_and_drilled() -> None:
    directory = to_directory(load_plan(SAMPLE_PLAN))
    sources = {s: {"integration key"} for s in directory.services}
    checks = grade(directory, Facts(NOW, alert_sources=sources, drills=[NOW - timedelta(days=30)],
                                    plan_reviewed_at=NOW - timedelta(days=60)))
    assert [c.id for c in checks if not c.passed] == []
    assert score(checks) == 100


def test_planted_holes_are_each_reported_with_evidence_and_a_next_step(tmp_path: Path) -> None:
    directory = holes(tmp_path)
    gap = Gap("nights", NOW + timedelta(hours=8), NOW + timedelta(hours=20), "bo is away (vacation)")
    checks = by_id(grade(directory, Facts(NOW, gaps=[gap])))  # type: ignore[arg-type]
    assert not checks["rotations"].passed
    assert "days layer days: only ana holds it" in checks["rotations"].evidence
    assert not checks["coverage_gaps"].passed and "vacation" in checks["coverage_gaps"].evidence[0]
    assert not checks["client_roles"].passed and "client contact" in checks["client_roles"].evidence[0]
    assert not checks["escalation_charts"].passed  # one level, nobody behind it
    assert not checks["alerting"].passed and "override" not in checks["alerting"].next_step
    assert not checks["tabletop"].passed and "exercise run" in checks["tabletop"].next_step
    assert not checks["plan_review"].passed and checks["plan_review"].evidence == ["no plan review recorded"]
    assert all(c.next_step for c in checks.values() if not c.passed)


def test_fix_first_puts_must_haves_before_should_haves(tmp_path: Path) -> None:
    checks = grade(holes(tmp_path), Facts(NOW))  # type: ignore[arg-type]
    ordered = fix_first(checks)
    musts = [c.must for c in ordered]
    assert musts == sorted(musts, reverse=True) and musts[0] is True and musts[-1] is False


@pytest.mark.parametrize(("days_ago", "passed"), [(10, True), (92, True), (93, False)])
def test_tabletop_counts_only_the_last_quarter(days_ago: int, passed: bool) -> None:
    directory = to_directory(load_plan(SAMPLE_PLAN))
    checks = by_id(grade(directory, Facts(NOW, drills=[NOW - timedelta(days=days_ago)])))
    assert checks["tabletop"].passed is passed


def test_severity_levels_fail_when_sev1_pages_nobody(tmp_path: Path) -> None:
    shutil.copytree(SAMPLE_PLAN.parent / "runbooks", tmp_path / "runbooks")
    path = tmp_path / "onduty.yaml"
    path.write_text(SAMPLE_PLAN.read_text().replace("    sev2: {review: mandatory}",
                                                    "    sev1: {paging: none}\n    sev2: {review: mandatory}"))
    checks = by_id(grade(to_directory(load_plan(path)), Facts(NOW)))
    assert not checks["severity_levels"].passed and "Sev1" in checks["severity_levels"].next_step


@pytest.mark.parametrize(("text", "expected"), [("0m", timedelta(0)), ("90s", timedelta(seconds=90)),
                                                ("6m30s", timedelta(minutes=6, seconds=30)),
                                                ("1h20m", timedelta(hours=1, minutes=20))])
def test_step_offsets_read_like_people_write_them(text: str, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "5 minutes", "-3m"])
def test_bad_step_offsets_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="like 0m, 90s"):
        parse_offset(text)


@pytest.mark.parametrize(("delta", "text"), [(timedelta(seconds=40), "40 s"), (timedelta(minutes=6, seconds=30),
                                             "6 min 30 s"), (timedelta(hours=2, minutes=5), "2 h 5 min"),
                                            (timedelta(days=3), "3 days")])
def test_durations_are_written_as_people_say_them(delta: timedelta, text: str) -> None:
    assert human(delta) == text


def test_scenario_errors_name_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "drill.yaml"
    path.write_text("name: x\nsteps:\n  - at: 5m\n    alert: {service: nowhere, summary: s, dedup_key: k}\n"
                    "  - at: soon\n    say: hi\n")
    with pytest.raises(PlanInvalid) as caught:
        load_scenario(path, {"recs-model"}, {"aiko"})
    assert "drill.yaml:5: steps[1].at: expected a time after the start" in str(caught.value)
    path.write_text("name: x\nsteps:\n  - at: 5m\n    alert: {service: nowhere, summary: s, dedup_key: k}\n")
    with pytest.raises(PlanInvalid) as caught:
        load_scenario(path, {"recs-model"}, {"aiko"})
    assert "drill.yaml:4: steps[0].alert.service: no service 'nowhere'" in str(caught.value)


def test_a_step_does_one_thing(tmp_path: Path) -> None:
    path = tmp_path / "drill.yaml"
    path.write_text("name: x\nsteps:\n  - at: 5m\n    acknowledge: {}\n    resolve: {}\n")
    with pytest.raises(PlanInvalid, match="a step does one thing"):
        load_scenario(path)
