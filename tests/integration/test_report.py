"""The on-call load and compensation report on a real database: hours, pages, night pages, units, CLI."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from onduty.adapters.clock import SimulatedClock
from onduty.app.exports.load import LoadReport, oncall_load_report
from onduty.app.plans import apply_plan
from onduty.app.ports import DeliveryError
from onduty.app.schedules import clients_of_schedule, coverage_of, schedule_shifts
from onduty.bootstrap import Container
from onduty.cli import app as cli_app
from onduty.domain.coverage import in_coverage
from onduty.plan.load import load_plan
from tests.conftest import SAMPLE_PLAN, RecordingChannel, advance
from tests.integration.test_escalation import trigger

LISBON = ZoneInfo("Europe/Lisbon")
WEEK_START = datetime(2026, 11, 16, 9, tzinfo=LISBON)  # ml-primary's Monday handoff; Priya is on vacation


def report(c: Container, start: datetime, end: datetime) -> LoadReport:
    with c.db.transaction() as store:
        return oncall_load_report(store, start, end)


def rows(c: Container, start: datetime, end: datetime) -> dict[str, dict[str, Any]]:
    return {r["person"]: r for r in report(c, start, end).as_dicts()}


def brute_force_hours(c: Container, start: datetime, end: datetime) -> dict[str, tuple[float, float]]:
    """Hour by hour (every handoff and coverage edge of the sample plan falls on a whole UTC hour)."""
    with c.db.transaction() as store:
        directory = store.directory()
        served = clients_of_schedule(directory)
        held = {sid: schedule_shifts(store, sid, start, end) for sid in directory.schedules}
    totals: dict[str, list[float]] = {}
    hour = start
    while hour < end:
        middle = hour + timedelta(minutes=30)
        inside: dict[str, bool] = {}
        for sid, found in held.items():
            shift = next(s for s in found if s.start <= middle < s.end)
            if shift.person_id is not None:
                covered = any(in_coverage(coverage_of(directory, client), middle) for client in served[sid])
                inside[shift.person_id] = inside.get(shift.person_id, False) or covered
        for person, covered in inside.items():
            totals.setdefault(person, [0.0, 0.0])[0 if covered else 1] += 1
        hour += timedelta(hours=1)
    return {person: (a, b) for person, (a, b) in totals.items()}


def test_hours_split_by_the_coverage_of_each_schedules_clients(planned: Container) -> None:
    start, end = WEEK_START, WEEK_START + timedelta(days=7)
    got = rows(planned, start, end)
    expected = brute_force_hours(planned, start, end)

    assert {p: (r["hours_in_coverage"], r["hours_outside_coverage"]) for p, r in got.items()
            if r["hours_on_call"]} == expected
    assert got["aiko"]["hours_on_call"] == 168.0 and got["aiko"]["hours_by_schedule"] == {"ml-primary": 168.0}
    assert got["priya"]["hours_on_call"] == 0.0  # on vacation: listed, with nothing
    assert got["ben"]["hours_outside_coverage"] == 0.0  # Tidewater is covered 24x7
    # Lucía holds data-primary and (half the week) ml-secondary: overlapping time counts once.
    assert got["lucia"]["hours_on_call"] < sum(got["lucia"]["hours_by_schedule"].values())


def test_pages_and_night_pages_are_counted_in_each_persons_zone(planned: Container, clock: SimulatedClock) -> None:
    trigger(planned)  # Friday 17:40 in Chicago: Aiko (Lisbon, 23:40 there) is paged, then Lucía (Chicago)
    advance(planned, clock, timedelta(minutes=10))
    start = datetime(2026, 11, 20, tzinfo=UTC)
    got = rows(planned, start, datetime(2026, 11, 21, tzinfo=UTC))

    assert (got["aiko"]["pages"], got["aiko"]["night_pages"]) == (1, 1)
    assert (got["lucia"]["pages"], got["lucia"]["night_pages"]) == (1, 0)
    assert got["aiko"]["units"] == round(got["aiko"]["hours_outside_coverage"] * 0.1 + 1.0, 2)
    # The range is half-open: Lucía's page at 23:50 UTC falls after it.
    early = rows(planned, start, datetime(2026, 11, 20, 23, 45, tzinfo=UTC))
    assert (early["aiko"]["pages"], early["lucia"]["pages"]) == (1, 0)


def test_a_page_that_falls_back_to_the_next_contact_counts_once(planned: Container, pager: RecordingChannel) -> None:
    pager.fail_with, pager.fail_only = DeliveryError("410 gone", permanent=True), {"webhook"}
    trigger(planned, severity="warning")  # Sev3: the on-call alone
    planned.worker.run_once(planned.clock.now())
    assert [m.channel for m in pager.sent] == ["email"]
    got = rows(planned, datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC))
    assert got["aiko"]["pages"] == 1


def test_units_follow_the_rates_in_the_plan(planned: Container, tmp_path: Path) -> None:
    shutil.copytree(SAMPLE_PLAN.parent / "runbooks", tmp_path / "runbooks")
    plan = tmp_path / "onduty.yaml"
    plan.write_text(SAMPLE_PLAN.read_text() + "\ncompensation: {per_hour_in_coverage: 0.05, "
                    "per_hour_outside_coverage: 0.2, per_page: 0.5, per_night_page: 3}\n")
    apply_plan(planned.db, load_plan(plan), str(plan), planned.clock.now())
    trigger(planned)
    planned.worker.run_once(planned.clock.now())
    found = report(planned, WEEK_START, WEEK_START + timedelta(days=7))
    aiko = next(r for r in found.as_dicts() if r["person"] == "aiko")

    assert found.rates.per_night_page == 3
    assert aiko["units"] == round(aiko["hours_in_coverage"] * 0.05 + aiko["hours_outside_coverage"] * 0.2 + 3, 2)


def test_busiest_first_and_an_empty_range_is_refused(planned: Container) -> None:
    found = report(planned, WEEK_START, WEEK_START + timedelta(days=7)).as_dicts()
    hours = [r["hours_on_call"] for r in found]
    assert hours == sorted(hours, reverse=True)
    with pytest.raises(ValueError, match="--to must come after --from"):
        report(planned, WEEK_START, WEEK_START)


@pytest.fixture
def cli(planned: Container, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", planned.settings.database_url)
    monkeypatch.setenv("COLUMNS", "160")
    trigger(planned)
    planned.worker.run_once(planned.clock.now())
    return CliRunner()


def run(cli: CliRunner, *args: str) -> tuple[int, str, str]:
    result = cli.invoke(cli_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_report_as_json_csv_and_a_table(cli: CliRunner) -> None:
    code, out, _ = run(cli, "report", "oncall", "--from", "2026-11-20", "--to", "2026-11-20", "--json")
    data = json.loads(out)
    assert code == 0 and (data["from"], data["to"]) == ("2026-11-20T00:00:00+00:00", "2026-11-21T00:00:00+00:00")
    aiko = next(p for p in data["people"] if p["person"] == "aiko")
    assert (aiko["pages"], aiko["night_pages"], aiko["hours_on_call"]) == (1, 1, 24.0)
    assert data["rates"]["per_night_page"] == 1.0

    code, out, _ = run(cli, "report", "oncall", "--from", "2026-11-20", "--to", "2026-11-20", "--csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {r["person"]: r["night_pages"] for r in table}["aiko"] == "1"

    code, out, _ = run(cli, "report", "oncall", "--from", "2026-11-20", "--to", "2026-11-20")
    assert code == 0 and "Aiko Tanaka" in out and "total" in out and "█" in out


def test_cli_report_errors_say_what_is_wrong(cli: CliRunner) -> None:
    for args, code, says in (
        (["--from", "2026-11-20", "--to", "2026-11-20", "--json", "--csv"], 2, "at most one of --json or --csv"),
        (["--from", "2026-11-21", "--to", "2026-11-19"], 2, "--to (2026-11-19) must come after --from"),
        (["--from", "last week", "--to", "2026-11-19"], 1, "--from 'last week' is not an ISO 8601 time"),
    ):
        got, _, err = run(cli, "report", "oncall", *args)
        assert (got, True) == (code, says in " ".join(err.split())), (args, err)
