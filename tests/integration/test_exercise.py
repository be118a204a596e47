"""Tabletop drills on the real plan and engine, `onduty doctor`, and the readiness reminders."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onduty.adapters.clock import SimulatedClock
from onduty.app.incidents import change_status
from onduty.app.readiness import doctor, record_drill, send_reminders
from onduty.bootstrap import Container, build
from onduty.cli import app
from onduty.config import Settings
from onduty.plan.load import load_plan
from onduty.sim.exercise import Drill, run_exercise
from onduty.sim.exercise_report import report_data, to_html, to_markdown
from onduty.sim.scenario import load_scenario
from tests.conftest import SAMPLE_PLAN, RecordingChannel
from tests.integration.holes_plan import HOLES_PLAN, NIGHT_DRILL

SCENARIOS = SAMPLE_PLAN.parent / "exercises"


def drill(name: str):  # type: ignore[no-untyped-def]
    plan = load_plan(SAMPLE_PLAN)
    scenario = load_scenario(SCENARIOS / name, {s.id for s in plan.services}, {p.id for p in plan.people})
    return run_exercise(scenario, plan, str(SAMPLE_PLAN))


def checks(result) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {c.id: c for c in result.expectations + result.findings}


def test_founding_story_drill_pages_around_the_vacation_and_tells_the_client_in_time() -> None:
    result = drill("founding-story.yaml")
    assert [(p.person_id, p.level) for p in result.pages if p.escalation] == [("aiko", 1), ("lucia", 2)]
    assert [p.person_id for p in result.pages if not p.escalation][:3] == ["hannah", "dev", "maria"]  # all hands
    assert result.pages[0].at == datetime(2026, 11, 20, 23, 46, 30, tzinfo=UTC)  # 17:46:30 in Chicago
    found = checks(result)
    assert found["not_paged_priya"].passed  # on vacation: the rotation skipped her
    assert found["acknowledged"].passed and found["acknowledged"].evidence == ["took 12 min 40 s"]
    assert "covering for Priya Raman (vacation)" in found["reachable"].evidence[0]
    assert found["clock_first_notice"].passed and found["clocks"].passed and found["messages"].passed
    assert any("initial notice sent to" in text and "Rachel Kim" in text for _, text in result.narration)
    assert result.score == 100 and result.fix_first == []
    markdown = to_markdown(result)
    assert "| Fri 20 Nov 17:46:30 | #1 | Aiko Tanaka | webhook | 1 |" in markdown
    assert "Nothing: every expectation was met" in markdown
    html = to_html(result)
    assert "<h1>Drill: Catalog feed corrupted on a Friday evening</h1>" in html and "✔ PASS" in html


def test_a_client_message_that_fails_its_check_is_a_hole_the_drill_reports(tmp_path: Path) -> None:
    text = (SCENARIOS / "founding-story.yaml").read_text().replace(
        "We are switching recommendations to the popularity fallback and holding the bad catalog batch.",
        "Probably minor, should not have happened.")
    path = tmp_path / "drill.yaml"
    path.write_text(text)
    plan = load_plan(SAMPLE_PLAN)
    result = run_exercise(load_scenario(path), plan, str(SAMPLE_PLAN))
    found = checks(result)
    assert not found["messages"].passed and "initial notice refused" in found["messages"].evidence[0]
    assert "probably minor" in found["messages"].evidence[0].lower()
    assert not found["clocks"].passed and "first notice due 18:16 met late" in found["clocks"].evidence[0]
    assert [c.id for c in result.fix_first][:2] == ["clock_first_notice", "clocks"]


def test_model_outage_drill_meets_its_timeboxes_but_finds_no_fallback() -> None:
    result = drill("model-outage-after-deploy.yaml")
    found = checks(result)
    assert found["first_page"].passed and found["acknowledged"].passed and found["resolved"].passed
    assert not found["runbooks_fallbacks"].passed
    assert found["runbooks_fallbacks"].evidence == ["Northwind recommendations API: no fallback"]


def test_silent_pipeline_drill_keeps_the_blast_radius_in_one_incident() -> None:
    result = drill("silent-pipeline.yaml")
    assert len(result.incidents) == 1  # the drifting model depends on the pipeline: it joins
    assert any("inhibit" in text for _, text in result.narration)
    found = checks(result)
    assert not found["acknowledged"].passed and found["acknowledged"].evidence == ["took 55 min"]
    assert "no runbook and no fallback" in found["runbooks_fallbacks"].evidence[0]


def test_leaked_key_drill_is_a_security_incident_that_escalates_while_unresolved() -> None:
    result = drill("leaked-api-key.yaml")
    (incident,) = result.incidents
    assert incident.incident.incident_type == "security" and incident.incident.status == "closed"
    assert [p.person_id for p in result.pages if p.escalation] == ["tomas", "kwame", "hannah", "dev"]
    assert {"sofia", "maria", "olga"} <= {p.person_id for p in result.pages if not p.escalation}  # all hands, legal
    data = report_data(result)
    assert data["incidents"][0]["type"] == "security" and data["score"] == result.score


def test_drill_never_touches_the_real_database(planned: Container) -> None:
    result = drill("founding-story.yaml")
    assert result.database != planned.settings.database_url
    with planned.db.transaction() as store:
        assert store.incidents.__call__  # the real database is untouched
        from onduty.app.ports import IncidentFilter
        assert store.incidents(IncidentFilter()) == []


def test_planted_holes_are_found_by_the_drill_and_by_doctor(tmp_path: Path, database_url: str) -> None:
    plan_file = tmp_path / "onduty.yaml"
    plan_file.write_text(HOLES_PLAN)
    scenario_file = tmp_path / "night.yaml"
    scenario_file.write_text(NIGHT_DRILL)
    plan = load_plan(plan_file)
    result = run_exercise(load_scenario(scenario_file), plan, str(plan_file))
    found = checks(result)
    assert not found["reachable"].passed and "vacation" in " ".join(found["reachable"].evidence)
    assert not found["coverage_gaps"].passed
    assert not found["rotations"].passed and not found["client_roles"].passed
    assert not found["first_page"].passed  # nobody could be paged at 23:05

    c = build(Settings(database_url=database_url), clock=SimulatedClock(datetime(2026, 11, 20, 12, tzinfo=UTC)))
    from onduty.app.plans import apply_plan
    apply_plan(c.db, plan, str(plan_file), c.clock.now())
    graded = {k.id: k for k in doctor(c.db.transaction, c.clock.now())}
    assert not graded["rotations"].passed and not graded["client_roles"].passed
    assert not graded["coverage_gaps"].passed
    assert any("vacation" in line for line in graded["coverage_gaps"].evidence)
    assert graded["plan_review"].passed  # organization.reviewed: 2026-10-01
    assert not graded["tabletop"].passed
    record_drill(c.db.transaction, "Night drill", "night.yaml", "auto", c.clock.now(), result.started_at,
                 ["ana"], [], result.score)
    assert {k.id: k for k in doctor(c.db.transaction, c.clock.now())}["tabletop"].passed
    c.db.dispose()


def test_reminders_go_to_delivery_leads_once_per_period(planned: Container, pager: RecordingChannel) -> None:
    now = planned.clock.now()
    assert send_reminders(planned.db.transaction, planned.channels, now) == 2  # dev and sofia: tabletop due
    subjects = {m.payload["body"]["subject"] for m in pager.sent}
    assert subjects == {"A tabletop exercise is due"} and sorted(pager.everyone()) == ["dev", "sofia"]
    assert send_reminders(planned.db.transaction, planned.channels, now + timedelta(hours=1)) == 0
    later = now + timedelta(days=120)  # the next quarter: due again
    assert send_reminders(planned.db.transaction, planned.channels, later) >= 2


def test_live_drill_waits_for_people_and_ends_when_they_resolve(tmp_path: Path) -> None:
    scenario_file = tmp_path / "live.yaml"
    scenario_file.write_text("name: live\nduration: 30s\nsteps:\n  - at: 0s\n    alert: {service: recs-model, "
                             "summary: relevance fell, severity: critical, dedup_key: live}\n  - at: 1s\n"
                             "    auto_only: true\n    acknowledge: {}\n")
    plan = load_plan(SAMPLE_PLAN)
    ready: list[Drill] = []

    def responder() -> None:
        while not ready:
            time.sleep(0.05)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            incidents = ready[0].results(datetime.now(UTC))
            if incidents:
                txs = ready[0].container.db.transaction
                change_status(txs, incidents[0].incident.id or 0, "resolved", "Tomás Ferreira", datetime.now(UTC))
                return
            time.sleep(0.1)

    thread = threading.Thread(target=responder)
    thread.start()
    started = time.monotonic()
    result = run_exercise(load_scenario(scenario_file), plan, "sample", mode="live", live_poll=0.1,
                          on_ready=ready.append)
    thread.join()
    assert time.monotonic() - started < 15  # ended when resolved, not after its 30 s
    assert result.mode == "live" and result.incidents[0].incident.status == "monitoring"
    assert result.incidents[0].incident.resolved_by == "Tomás Ferreira"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_exercise_cli_records_the_drill_and_writes_reports(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["plan", "apply", str(SAMPLE_PLAN)]).exit_code == 0
    md, html = tmp_path / "drill.md", tmp_path / "drill.html"
    result = cli.invoke(app, ["exercise", "run", str(SCENARIOS / "founding-story.yaml"), "--markdown", str(md),
                              "--html", str(html), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["pages"][0]["name"] == "Aiko Tanaka" and md.read_text().startswith("# Drill: Catalog feed")
    listed = json.loads(cli.invoke(app, ["exercise", "list", "--json"]).stdout)
    assert listed[0]["name"] == "Catalog feed corrupted on a Friday evening"
    assert listed[0]["failed"] == [] and listed[0]["score"] == 100


def test_exercise_cli_refuses_a_bad_scenario_with_its_line(cli: CliRunner, tmp_path: Path) -> None:
    assert cli.invoke(app, ["plan", "apply", str(SAMPLE_PLAN)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps:\n  - at: 5m\n    acknowledge: {by: nobody}\n")
    result = cli.invoke(app, ["exercise", "run", str(bad)])
    assert result.exit_code == 1 and "bad.yaml:4: steps[0].acknowledge.by: no person 'nobody'" in result.stderr
    assert json.loads(cli.invoke(app, ["exercise", "list", "--json"]).stdout) == []


def test_doctor_exits_non_zero_on_a_failed_must_have_and_says_what_next(cli: CliRunner) -> None:
    result = cli.invoke(app, ["doctor"])
    assert result.exit_code == 1 and "apply one" in result.stdout
    assert cli.invoke(app, ["plan", "apply", str(SAMPLE_PLAN)]).exit_code == 0
    result = cli.invoke(app, ["doctor", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["ok"] is False
    failed = [c["id"] for c in data["checks"] if not c["passed"]]
    assert failed == ["alerting", "tabletop"]  # no integration keys yet; no drill yet
    for service in ("catalog-feed", "recs-model", "recs-api", "eta-model", "telemetry-pipeline", "claims-triage"):
        assert cli.invoke(app, ["keys", "create", "--service", service]).exit_code == 0
    result = cli.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True
