"""Schedules on a real database: coverage hours in the engine, overrides and swaps, their API and CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from onduty.adapters.clock import SimulatedClock
from onduty.app.keys import create_api_key
from onduty.app.ports import NotFound
from onduty.app.schedules import OverrideRequest, create_override, schedule_shifts, swap_shifts
from onduty.bootstrap import Container
from onduty.web.app import create_app
from tests.conftest import RecordingChannel, advance
from tests.integration.test_escalation import kinds, trigger

CHICAGO = ZoneInfo("America/Chicago")
LISBON = ZoneInfo("Europe/Lisbon")


def test_sev2_outside_coverage_waits_for_the_morning(planned: Container, pager: RecordingChannel,
                                                     clock: SimulatedClock) -> None:
    clock.set(datetime(2026, 11, 20, 23, 0, tzinfo=CHICAGO))  # Northwind covers 07:00-22:00
    incident_id = trigger(planned, service="recs-model", severity="error")
    advance(planned, clock, timedelta(hours=7, minutes=59))
    assert pager.sent == []
    assert "paging.deferred" in kinds(planned, incident_id)
    advance(planned, clock, timedelta(minutes=1))  # Saturday 07:00
    assert pager.people() == ["aiko"]


def test_sev1_outside_coverage_pages_at_once(planned: Container, pager: RecordingChannel,
                                             clock: SimulatedClock) -> None:
    clock.set(datetime(2026, 11, 20, 23, 0, tzinfo=CHICAGO))
    trigger(planned, severity="critical")
    planned.worker.run_once(clock.now())
    assert pager.people() == ["aiko"]


def test_override_changes_who_is_paged(planned: Container, pager: RecordingChannel, clock: SimulatedClock) -> None:
    now = clock.now()
    create_override(planned.db, OverrideRequest("ml-primary", "tomas", now - timedelta(hours=1),
                                                now + timedelta(hours=12), replaces="aiko"), "hannah", now)
    incident_id = trigger(planned)
    planned.worker.run_once(now)
    assert pager.people() == ["tomas"]
    assert any("covering for Aiko" in m for m in messages(planned, incident_id))


def messages(c: Container, incident_id: int) -> list[str]:
    with c.db.transaction() as store:
        return [e.message for e in store.timeline(incident_id)]


def test_swap_trades_two_shifts(planned: Container, clock: SimulatedClock) -> None:
    now = clock.now()
    this_week, next_week = now + timedelta(hours=1), now + timedelta(days=7)
    first, second = swap_shifts(planned.db, "ml-secondary", this_week, next_week, "kwame", now)
    assert (first.person_id, first.replaces) == ("kwame", "lucia")
    assert (second.person_id, second.replaces) == ("lucia", "kwame")
    with planned.db.transaction() as store:
        owners = [s.person_id for s in schedule_shifts(store, "ml-secondary", now, now + timedelta(days=10))]
    assert owners[:2] == ["kwame", "lucia"]


def test_override_refuses_bad_requests(planned: Container, clock: SimulatedClock) -> None:
    now = clock.now()
    with pytest.raises(ValueError, match="not in the plan"):
        create_override(planned.db, OverrideRequest("ml-primary", "nobody", now, now + timedelta(hours=1)), "x", now)
    with pytest.raises(ValueError, match="end after it starts"):
        create_override(planned.db, OverrideRequest("ml-primary", "tomas", now, now), "x", now)
    with pytest.raises(NotFound, match="known schedules"):
        create_override(planned.db, OverrideRequest("nope", "tomas", now, now + timedelta(hours=1)), "x", now)


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    with TestClient(create_app(planned)) as client:
        yield client


def bearer(c: Container, role: str = "responder", client: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(c.db, role, client, c.clock.now())}"}  # type: ignore[arg-type]


def test_shifts_api_shows_the_vacation_cover(http: TestClient, planned: Container) -> None:
    response = http.get("/api/v1/schedules/ml-primary/shifts?from=2026-11-20T00:00:00Z&to=2026-11-24T00:00:00Z",
                        headers=bearer(planned, "viewer"))
    assert response.status_code == 200
    covering = [s for s in response.json() if s["covering_for"] == "priya"]
    assert covering and covering[0]["person"] == "aiko" and covering[0]["cover_reason"] == "vacation"


def test_override_api_round_trip(http: TestClient, planned: Container) -> None:
    headers = bearer(planned)
    body = {"person": "tomas", "start": "2026-11-21T00:00:00Z", "end": "2026-11-21T12:00:00Z", "by": "hannah"}
    made = http.post("/api/v1/schedules/ml-primary/overrides", headers=headers, json=body)
    assert made.status_code == 201 and made.json()["created_by"] == "hannah"
    listed = http.get("/api/v1/schedules/ml-primary/overrides", headers=headers).json()
    assert [o["id"] for o in listed] == [made.json()["id"]]
    oncall = http.get("/api/v1/oncall?service=recs-model&at=2026-11-21T06:00:00Z", headers=headers).json()
    assert oncall[0]["levels"][0]["on_call"][0]["person"] == "tomas"
    assert http.delete(f"/api/v1/schedules/ml-primary/overrides/{made.json()['id']}",
                       headers=headers).status_code == 204
    assert http.get("/api/v1/schedules/ml-primary/overrides", headers=headers).json() == []


def test_bad_override_names_the_problem(http: TestClient, planned: Container) -> None:
    bad = http.post("/api/v1/schedules/ml-primary/overrides", headers=bearer(planned),
                    json={"person": "tomas", "start": "2026-11-21T12:00:00Z", "end": "2026-11-21T00:00:00Z"})
    assert bad.status_code == 400 and "end after it starts" in bad.json()["detail"]


def test_schedules_are_scoped_to_the_key_client(http: TestClient, planned: Container) -> None:
    apac = bearer(planned, "responder", client="tidewater")
    listed = http.get("/api/v1/schedules", headers=apac)
    assert [s["id"] for s in listed.json()] == ["apac"], listed.text
    assert http.get("/api/v1/schedules/ml-primary/shifts", headers=apac).status_code == 404
    assert http.post("/api/v1/schedules/ml-primary/overrides", headers=apac, json={
        "person": "ben", "start": "2026-11-21T00:00:00Z", "end": "2026-11-21T12:00:00Z"}).status_code == 404


def test_gaps_api_reports_spans_inside_coverage(http: TestClient, planned: Container) -> None:
    found = http.get("/api/v1/gaps?days=30", headers=bearer(planned, "viewer"))
    assert found.status_code == 200
    assert found.json() == []  # the sample plan has cover for every vacation


def test_gaps_count_only_people_qualified_for_the_service(container: Container, clock: SimulatedClock,
                                                          tmp_path) -> None:  # type: ignore[no-untyped-def]
    from onduty.app.plans import apply_plan
    from onduty.app.schedules import coverage_gaps
    from onduty.plan.load import load_plan
    from tests.conftest import SAMPLE_PLAN

    plan_file = tmp_path / "onduty.yaml"
    (tmp_path / "runbooks").symlink_to(SAMPLE_PLAN.parent / "runbooks")
    plan_file.write_text(SAMPLE_PLAN.read_text().replace("qualified: [tomas, aiko, hannah, kwame, lucia]",
                                                         "qualified: [priya]"))
    apply_plan(container.db, load_plan(plan_file), str(plan_file), clock.now())
    start = datetime(2026, 11, 23, tzinfo=LISBON)  # a week of priya's vacation
    with container.db.transaction() as store:
        found = coverage_gaps(store, start, start + timedelta(days=7), client_id="bairro")
    assert {g.schedule_id for g in found} == {"ml-primary"}
    assert len(found) == 5  # Bairro's coverage: weekdays 08:00-20:00
    assert all(g.start.astimezone(LISBON).hour == 8 and g.end.astimezone(LISBON).hour == 20 for g in found)
    assert "priya: vacation" in found[0].reason and "not qualified" in found[0].reason
