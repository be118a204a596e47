"""The summary report on a small fixed set of incidents, every figure computed by hand: an open incident
counted apart, a reopened one counted once at its last resolution, an exercise never counted."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onduty.adapters.clock import SimulatedClock
from onduty.app.incidents import change_status, declare
from onduty.app.lifecycle import reopen
from onduty.app.ports import ReportFilter
from onduty.app.reports import SummaryReport, summary_report
from onduty.app.reviews import add_action, complete_review, edit_review
from onduty.bootstrap import Container
from onduty.cli import app as cli_app
from onduty.domain.incidents import TimelineEntry
from onduty.domain.severity import Severity
from onduty.web.app import create_app
from tests.integration.test_review_api_exports import bearer

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=10)
START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


def m(n: float) -> timedelta:
    return timedelta(minutes=n)


def _declare(c: Container, service: str, severity: Severity, kind: str, at: datetime,
             signal: timedelta | None = None, exercise: bool = False) -> int:
    with c.db.transaction() as store:
        directory = store.directory()
        incident = declare(store, directory, directory.services[service], f"{kind} on {service}", severity, at,
                           "monitor", first_signal_at=at - signal if signal else None)
        incident.incident_type, incident.is_exercise = kind, exercise
        assert incident.id is not None
        return incident.id


def _entries(c: Container, incident_id: int, *entries: tuple[datetime, str, dict[str, int]]) -> None:
    with c.db.transaction() as store:
        store.append(incident_id, [TimelineEntry(at, kind, kind, data=data) for at, kind, data in entries])


def _reopen(c: Container, incident_id: int, at: datetime) -> None:
    """A recurrence while the incident is monitored: the lifecycle reopens it."""
    with c.db.transaction() as store:
        incident = store.incident(incident_id)
        assert incident is not None and incident.status == "monitoring"
        reopen(store, store.directory(), incident, at, "monitor", "the alert fired again", {})


@pytest.fixture
def incidents(planned: Container, clock: SimulatedClock) -> Container:
    """A-E count (E is open); F is an exercise; G was declared before the period."""
    c = planned
    a = _declare(c, "recs-model", Severity.SEV1, "model_degradation", T0, signal=m(20))
    change_status(c.db, a, "acknowledged", "aiko", T0 + m(5))
    _entries(c, a, (T0 + m(12), "escalation.level", {"level": 2, "loop": 1}), (T0 + m(20), "comms.initial", {}),
             (T0 + m(75), "comms.update", {}), (T0 + m(140), "comms.update", {}))
    change_status(c.db, a, "resolved", "aiko", T0 + m(150))
    edit_review(c.db, a, {"root_cause": "Catalog batches had no schema or row-count check before the model read "
                                        "them, so a truncated batch went live."}, "hannah", T0 + timedelta(days=1))
    add_action(c.db, a, "Schema check", "aiko", T0 + timedelta(days=3), "hannah", T0 + timedelta(days=1))
    from onduty.app.reviews import update_action

    update_action(c.db, a, 1, "aiko", T0 + timedelta(days=1), status="done")
    complete_review(c.db, a, "hannah", T0 + timedelta(days=1))

    b = _declare(c, "recs-api", Severity.SEV2, "api_availability", T0 + timedelta(days=1))
    change_status(c.db, b, "acknowledged", "aiko", T0 + timedelta(days=1) + m(10))
    change_status(c.db, b, "resolved", "aiko", T0 + timedelta(days=1) + m(40))
    add_action(c.db, b, "Overdue one", "aiko", T0 + timedelta(days=5), "hannah", T0 + timedelta(days=2))
    add_action(c.db, b, "Later one", "aiko", T0 + timedelta(days=20), "hannah", T0 + timedelta(days=2))

    day2 = T0 + timedelta(days=2)
    cc = _declare(c, "telemetry-pipeline", Severity.SEV2, "pipeline_failure", day2, signal=m(60))
    change_status(c.db, cc, "acknowledged", "ben", day2 + m(30))
    change_status(c.db, cc, "resolved", "ben", day2 + m(90))
    _entries(c, cc, (day2 + m(150), "comms.initial", {}))  # after the 2 h first-notice deadline

    day3 = T0 + timedelta(days=3)
    d = _declare(c, "recs-model", Severity.SEV2, "model_degradation", day3, signal=m(10))
    change_status(c.db, d, "acknowledged", "aiko", day3 + m(5))
    change_status(c.db, d, "resolved", "aiko", day3 + m(20))
    _reopen(c, d, day3 + m(40))  # inside the 30 min monitor period
    change_status(c.db, d, "acknowledged", "aiko", day3 + m(45))
    change_status(c.db, d, "resolved", "aiko", day3 + m(80))

    day4 = T0 + timedelta(days=4)
    e = _declare(c, "recs-model", Severity.SEV1, "model_degradation", day4)
    change_status(c.db, e, "acknowledged", "aiko", day4 + m(15))
    _entries(c, e, (day4 + m(25), "escalation.level", {"level": 2, "loop": 1}),
             (day4 + m(45), "escalation.level", {"level": 3, "loop": 1}))

    f = _declare(c, "recs-model", Severity.SEV1, "model_degradation", T0 + timedelta(days=5), exercise=True)
    change_status(c.db, f, "resolved", "aiko", T0 + timedelta(days=5) + m(500))
    g = _declare(c, "recs-model", Severity.SEV1, "other", START - timedelta(hours=1))
    change_status(c.db, g, "resolved", "aiko", START + m(600))
    clock.set(NOW)
    return c


def report(c: Container, **filters: object) -> SummaryReport:
    with c.db.transaction() as store:
        return summary_report(store, ReportFilter(START, END, **filters), NOW)  # type: ignore[arg-type]


def seconds(*minutes: float) -> tuple[float, ...]:
    return tuple(x * 60 for x in minutes)


def test_mttx_figures_match_the_hand_computed_values(incidents: Container) -> None:
    s = report(incidents).overall
    assert (s.incidents, s.open, s.reopened) == (5, 1, 1)
    # resolved incidents only: A, B, C, D (D at its second resolution, 80 min)
    assert (s.mttd.count, s.mttd.mean, s.mttd.median, s.mttd.p90) == (3, *seconds(30, 20, 60))
    assert (s.mtta.count, s.mtta.mean, s.mtta.median, s.mtta.p90) == (4, *seconds(12.5, 7.5, 30))
    assert (s.mttr.count, s.mttr.mean, s.mttr.median, s.mttr.p90) == (4, *seconds(90, 85, 150))
    assert (s.first_notice_met, s.first_notice_missed, s.first_notice_met_pct) == (1, 2, 33.3)  # A; C late, E none
    assert (s.updates_met, s.updates_missed, s.updates_met_pct) == (1, 1, 50.0)  # A: 20→75 met, 75→140 missed
    assert s.escalations == 3
    assert (s.reviews_on_time, s.reviews_late, s.reviews_overdue, s.reviews_pending) == (1, 0, 2, 1)
    assert s.reviews_on_time_pct == 33.3
    assert (s.actions_done, s.actions_overdue, s.actions_open) == (1, 1, 1)


def test_breakdowns_by_client_severity_type_and_month(incidents: Container) -> None:
    r = report(incidents)
    northwind, tidewater = r.by["client"]["northwind"], r.by["client"]["tidewater"]
    assert (northwind.incidents, northwind.open, northwind.mttr.mean, northwind.mttr.median) == (4, 1, *seconds(90, 80))
    assert (tidewater.incidents, tidewater.mttr.mean) == (1, 90 * 60)
    assert {k: v.incidents for k, v in r.by["severity"].items()} == {"Sev1": 2, "Sev2": 3}
    assert {k: v.incidents for k, v in r.by["type"].items()} == {
        "api_availability": 1, "model_degradation": 3, "pipeline_failure": 1}
    assert list(r.by_month) == ["2026-11"]
    only = report(incidents, client_id="tidewater").overall
    assert (only.incidents, only.first_notice_missed) == (1, 1)


def test_report_summary_command_prints_json_csv_and_a_trend_chart(
        incidents: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", incidents.settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    cli = CliRunner()
    base = ["report", "summary", "--from", "2026-11-01", "--to", "2026-11-30"]
    result = cli.invoke(cli_app, [*base, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["overall"]["incidents"] == 5 and data["overall"]["open"] == 1
    assert data["by_client"]["tidewater"]["incidents"] == 1
    result = cli.invoke(cli_app, [*base, "--csv", "--severity", "sev2"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["scope"] == "overall" and rows[0]["incidents"] == "3"
    chart = tmp_path / "trend.svg"
    result = cli.invoke(cli_app, [*base, "--chart", str(chart)])
    assert result.exit_code == 0 and "MTTR" in result.stdout and chart.read_text().lstrip().startswith("<?xml")
    bad = cli.invoke(cli_app, [*base, "--type", "outage"])
    assert bad.exit_code == 2 and "--type 'outage' is not one of" in bad.stderr


@pytest.fixture
def http(incidents: Container) -> Iterator[TestClient]:
    with TestClient(create_app(incidents)) as client:
        yield client


def test_summary_api_scopes_client_keys(http: TestClient, incidents: Container) -> None:
    query = "/api/v1/reports/summary?from=2026-11-01&to=2026-11-30"
    whole = http.get(query, headers=bearer(incidents, "viewer"))
    assert whole.status_code == 200 and whole.json()["overall"]["mttr"]["median"] == 85 * 60
    tidewater = bearer(incidents, "viewer", "tidewater")
    own = http.get(query, headers=tidewater).json()
    assert own["overall"]["incidents"] == 1 and own["filters"]["client"] == "tidewater"
    assert http.get(query + "&client=northwind", headers=tidewater).status_code == 404
    bad = http.get("/api/v1/reports/summary?from=2026-11-30&to=2026-11-01", headers=bearer(incidents, "viewer"))
    assert bad.status_code == 400
