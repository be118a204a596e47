"""The playbook through the HTTP API on SQLite and PostgreSQL: ticks, type changes, client requests in
simulated time, candidate changes and runbooks; client-scoped keys see 404 for other clients."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onduty.adapters.clock import SimulatedClock
from onduty.app.changes import record_change
from onduty.app.incidents import declare
from onduty.app.keys import create_api_key, create_integration_key
from onduty.app.plans import apply_plan
from onduty.bootstrap import Container
from onduty.domain.severity import Severity
from onduty.plan.load import load_plan
from onduty.web.app import create_app
from tests.conftest import SAMPLE_PLAN

MIN = timedelta(minutes=1)


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    with TestClient(create_app(planned)) as client:
        yield client


def bearer(c: Container, role: str = "responder", client: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(c.db, role, client, c.clock.now())}"}  # type: ignore[arg-type]


def open_incident(c: Container, service: str = "recs-model", severity: Severity = Severity.SEV1,
                  kind: str | None = None) -> int:
    with c.db.transaction() as store:
        directory = store.directory()
        incident = declare(store, directory, directory.services[service], "relevance 0.08", severity,
                           c.clock.now(), "test")
        incident.incident_type = kind or incident.incident_type
        assert incident.id is not None
        return incident.id


def timeline(http: TestClient, headers: dict[str, str], incident_id: int) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = http.get(f"/api/v1/incidents/{incident_id}/timeline", headers=headers).json()
    return entries


def items(playbook: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for step in playbook["steps"] for item in step["items"]}


def test_tick_and_untick_land_on_the_timeline_with_who_and_when(
    http: TestClient, planned: Container, clock: SimulatedClock
) -> None:
    incident_id = open_incident(planned, kind="model_degradation")
    headers = bearer(planned)
    clock.advance(4 * MIN)
    ticked = http.post(f"/api/v1/incidents/{incident_id}/playbook/assess.system", headers=headers,
                       json={"by": "aiko", "note": "storefront widget only"})
    assert ticked.status_code == 200 and ticked.json()["by"] == "aiko"
    again = http.post(f"/api/v1/incidents/{incident_id}/playbook/assess.system", headers=headers, json={})
    assert again.status_code == 409 and "already ticked" in again.json()["detail"]
    playbook = http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=headers).json()
    item = items(playbook)["assess.system"]
    assert item["done"] and item["by"] == "aiko" and item["note"] == "storefront widget only"
    assert playbook["steps"][0]["done"] == 1 and playbook["steps"][0]["state"] == "running"
    assert playbook["steps"][0]["seconds_left"] == 11 * 60

    clock.advance(2 * MIN)
    undone = http.post(f"/api/v1/incidents/{incident_id}/playbook/assess.system", headers=headers,
                       json={"done": False, "by": "tomas"})
    assert undone.status_code == 200 and undone.json()["done"] is False
    entries = [e for e in timeline(http, headers, incident_id) if e["kind"].startswith("playbook.")]
    assert [(e["kind"], e["actor"]) for e in entries] == [("playbook.ticked", "aiko"), ("playbook.unticked", "tomas")]
    assert entries[1]["at"] > entries[0]["at"] and "storefront widget only" in entries[0]["message"]
    assert not items(http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=headers).json())[
        "assess.system"]["done"]


def test_unknown_item_answers_400_naming_the_items(http: TestClient, planned: Container) -> None:
    incident_id = open_incident(planned)
    response = http.post(f"/api/v1/incidents/{incident_id}/playbook/assess.nope", headers=bearer(planned), json={})
    assert response.status_code == 400 and "assess.system" in response.json()["detail"]


def test_step_overruns_its_timebox_in_simulated_time(http: TestClient, planned: Container,
                                                     clock: SimulatedClock) -> None:
    incident_id = open_incident(planned)
    clock.advance(20 * MIN)
    steps = http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=bearer(planned, "viewer")).json()["steps"]
    assert [s["state"] for s in steps] == ["overrun", "running", "running", "waiting", "waiting"]
    assert steps[0]["seconds_left"] == -5 * 60


def test_type_change_switches_the_steps_and_is_on_the_timeline(http: TestClient, planned: Container) -> None:
    incident_id = open_incident(planned, service="recs-api", kind="api_availability")
    headers = bearer(planned)
    before = items(http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=headers).json())
    assert "resolve.infrastructure" in before and "resolve.contain" not in before
    changed = http.post(f"/api/v1/incidents/{incident_id}/type", headers=headers,
                        json={"to": "security", "reason": "model API key found in a public gist", "by": "hannah"})
    assert changed.status_code == 200 and changed.json()["type"] == "security"
    after = items(http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=headers).json())
    assert {"resolve.contain", "resolve.revoke", "resolve.isolate", "communicate.legal"} <= set(after)
    assert "Olga Ivanova" in after["communicate.legal"]["text"]
    entries = timeline(http, headers, incident_id)
    entry = next(e for e in entries if e["kind"] == "incident.type_changed")
    assert entry["actor"] == "hannah" and entries[-1]["kind"] == "legal.engaged"  # the legal contact is paged
    assert entry["data"] == {"from": "api_availability", "to": "security",
                             "reason": "model API key found in a public gist"}
    bad = http.post(f"/api/v1/incidents/{incident_id}/type", headers=headers, json={"to": "outage", "reason": "x"})
    assert bad.status_code == 400 and bad.json()["detail"][0]["field"] == "body.to"
    same = http.post(f"/api/v1/incidents/{incident_id}/type", headers=headers, json={"to": "security", "reason": "x"})
    assert same.status_code == 409


def test_client_request_missed_in_simulated_time_is_recorded_once(
    http: TestClient, planned: Container, clock: SimulatedClock
) -> None:
    incident_id = open_incident(planned)
    headers = bearer(planned)
    made = http.post(f"/api/v1/incidents/{incident_id}/requests", headers=headers,
                     json={"text": "Re-export the catalog from the PIM", "due": "30m", "by": "maria"})
    assert made.status_code == 201 and made.json()["state"] == "running" and made.json()["seconds_left"] == 1800
    on_time = http.post(f"/api/v1/incidents/{incident_id}/requests", headers=headers,
                        json={"text": "Confirm the storefront shows the fallback", "due": "1h"}).json()
    clock.advance(31 * MIN)
    for _ in range(2):  # two reads, one record of the miss
        found = http.get(f"/api/v1/incidents/{incident_id}/requests", headers=headers).json()
    assert [r["state"] for r in found] == ["missed", "running"]
    done = http.post(f"/api/v1/incidents/{incident_id}/requests/{on_time['id']}/done", headers=headers,
                     json={"by": "rachel"})
    assert done.json()["state"] == "met" and done.json()["done_by"] == "rachel"
    late = http.post(f"/api/v1/incidents/{incident_id}/requests/{made.json()['id']}/done", headers=headers, json={})
    assert late.json()["state"] == "met_late"
    twice = http.post(f"/api/v1/incidents/{incident_id}/requests/{made.json()['id']}/done", headers=headers, json={})
    assert twice.status_code == 409
    kinds = [e["kind"] for e in timeline(http, headers, incident_id) if e["kind"].startswith("request.")]
    assert kinds == ["request.created", "request.created", "request.missed", "request.done", "request.done"]
    playbook = http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=headers).json()
    assert [r["state"] for r in playbook["requests"]] == ["met_late", "met"]


def test_the_worker_records_a_missed_request_nobody_looked_at(planned: Container, clock: SimulatedClock) -> None:
    from onduty.app.client_requests import create_request

    incident_id = open_incident(planned)
    create_request(planned.db, incident_id, "Hide the widget", clock.now() + 15 * MIN, "maria", clock.now())
    assert planned.worker.run_once(clock.advance(10 * MIN)).requests_missed == 0
    assert planned.worker.run_once(clock.advance(10 * MIN)).requests_missed == 1
    assert planned.worker.run_once(clock.advance(10 * MIN)).requests_missed == 0
    with planned.db.transaction() as store:
        assert [e.kind for e in store.timeline(incident_id)].count("request.missed") == 1


def test_bad_request_input_is_refused_and_changes_nothing(http: TestClient, planned: Container) -> None:
    incident_id = open_incident(planned)
    headers = bearer(planned)
    path = f"/api/v1/incidents/{incident_id}/requests"
    assert "duration" in http.post(path, headers=headers, json={"text": "x", "due": "soon"}).json()["detail"]
    assert http.post(path, headers=headers, json={"text": "x"}).status_code == 400
    past = http.post(path, headers=headers, json={"text": "x", "due_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400 and "not in the future" in past.json()["detail"]
    assert http.get(path, headers=headers).json() == []


def test_candidate_changes_and_blast_radius_are_in_the_playbook(
    http: TestClient, planned: Container, clock: SimulatedClock
) -> None:
    now = clock.now()
    record_change(planned.db, "recs-api", "deployed recs-api v42", "github", now - 40 * MIN, {}, [], now)
    record_change(planned.db, "recs-model", "model v7 promoted", "mlflow", now - 90 * MIN, {}, [], now)
    record_change(planned.db, "telemetry-pipeline", "unrelated", "ci", now - 10 * MIN, {}, [], now)
    incident_id = open_incident(planned, service="recs-api", kind="api_availability")
    playbook = http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=bearer(planned)).json()
    assert [c["summary"] for c in playbook["candidate_changes"]] == ["deployed recs-api v42", "model v7 promoted"]
    found = items(playbook)
    assert "v42" in found["resolve.rollback"]["text"] and found["assess.change.1"]["kind"] == "change"
    feed = open_incident(planned, service="catalog-feed", kind="pipeline_failure")
    assert http.get(f"/api/v1/incidents/{feed}/playbook",
                    headers=bearer(planned)).json()["blast_radius"] == ["recs-model", "recs-api"]


def test_workaround_is_listed_for_removal_and_ticked_off(http: TestClient, planned: Container) -> None:
    incident_id = open_incident(planned)
    headers = bearer(planned)
    made = http.post(f"/api/v1/incidents/{incident_id}/workarounds", headers=headers,
                     json={"text": "feature store pinned to batch 2210", "by": "aiko"}).json()
    assert made["item"] == f"verify.workaround.{made['id']}"
    assert http.post(f"/api/v1/incidents/{incident_id}/playbook/{made['item']}", headers=headers,
                     json={"note": "unpinned"}).status_code == 200
    item = items(http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=headers).json())[made["item"]]
    assert item["done"] and "pinned to batch 2210" in item["text"]
    assert [e["kind"] for e in timeline(http, headers, incident_id)][-2:] == ["workaround.added", "playbook.ticked"]


def test_runbooks_link_by_service_type_and_alert_labels(http: TestClient, planned: Container) -> None:
    key = create_integration_key(planned.db, "recs-api", planned.clock.now())
    response = http.post("/api/v1/alerts", headers={"Authorization": f"Bearer {key}"},
                         json={"summary": "recs-api 5xx at 40%", "severity": "critical", "key": "5xx",
                               "labels": {"alertname": "RecsApiErrors", "feed": "northwind-catalog"}})
    incident_id = response.json()["incident_id"]
    found = http.get(f"/api/v1/incidents/{incident_id}/runbooks", headers=bearer(planned, "viewer")).json()
    by_file = {r["file"]: r for r in found}
    assert by_file["runbooks/recs-api-outage.md"]["why"] == [
        "runbook of service recs-api", "service recs-api and type api_availability",
        'alert labels alertname=~"RecsApi(Down|Errors|Latency).*"']
    assert by_file["runbooks/catalog-feed.md"]["why"] == ['alert labels feed="northwind-catalog"']
    assert by_file["runbooks/recs-api-outage.md"]["title"] == "Northwind recommendations API: outage after a deploy"
    assert "rollout undo" in by_file["runbooks/recs-api-outage.md"]["markdown"]


def test_runbook_text_is_served_without_the_plan_folder(container: Container, tmp_path: Path) -> None:
    folder = tmp_path / "plan"
    shutil.copytree(SAMPLE_PLAN.parent, folder)
    apply_plan(container.db, load_plan(folder / "onduty.yaml"), str(folder / "onduty.yaml"), container.clock.now())
    shutil.rmtree(folder)
    incident_id = open_incident(container, service="catalog-feed", kind="pipeline_failure")
    with TestClient(create_app(container)) as http:
        found = http.get(f"/api/v1/incidents/{incident_id}/runbooks", headers=bearer(container, "viewer")).json()
    assert [r["file"] for r in found] == ["runbooks/catalog-feed.md"]
    assert found[0]["markdown"].startswith("# Northwind product-catalog feed")


def test_client_scoped_keys_get_404_on_every_playbook_route(http: TestClient, planned: Container) -> None:
    incident_id = open_incident(planned)  # a Northwind incident
    other = bearer(planned, "responder", client="tidewater")
    own = bearer(planned, "responder", client="northwind")
    base = f"/api/v1/incidents/{incident_id}"
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("get", f"{base}/playbook", None), ("get", f"{base}/runbooks", None), ("get", f"{base}/requests", None),
        ("post", f"{base}/playbook/assess.system", {}), ("post", f"{base}/type", {"to": "security", "reason": "x"}),
        ("post", f"{base}/fallback", {}), ("post", f"{base}/requests", {"text": "x", "due": "30m"}),
        ("post", f"{base}/requests/1/done", {}), ("post", f"{base}/workarounds", {"text": "x"}),
    ]
    for method, path, body in calls:
        response = http.get(path, headers=other) if method == "get" else http.post(path, headers=other, json=body)
        assert response.status_code == 404, (path, response.text)
    assert http.get(f"{base}/playbook", headers=own).status_code == 200
    assert http.post(f"{base}/playbook/assess.system", headers=bearer(planned, "viewer"), json={}).status_code == 403
