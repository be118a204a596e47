"""The HTTP API in-process: PagerDuty v2 contract, auth, client scoping, and the incident routes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from onduty.app.keys import create_api_key, create_integration_key
from onduty.bootstrap import Container
from onduty.web.app import create_app


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    with TestClient(create_app(planned)) as client:
        yield client


@pytest.fixture
def routing_key(planned: Container) -> str:
    return create_integration_key(planned.db, "recs-model", planned.clock.now())


def bearer(planned: Container, role: str = "responder", client: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(planned.db, role, client, planned.clock.now())}"}  # type: ignore[arg-type]


def pd_trigger(routing_key: str, **extra: object) -> dict[str, object]:
    return {"routing_key": routing_key, "event_action": "trigger",
            "payload": {"summary": "relevance 0.08", "source": "monitor", "severity": "critical"}, **extra}


def test_enqueue_answers_202_with_a_generated_dedup_key(http: TestClient, routing_key: str) -> None:
    response = http.post("/v2/enqueue", json=pd_trigger(routing_key))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "success" and body["message"] == "Event processed"
    assert len(body["dedup_key"]) == 32


def test_enqueue_keeps_the_callers_dedup_key(http: TestClient, routing_key: str) -> None:
    response = http.post("/v2/enqueue", json=pd_trigger(routing_key, dedup_key="srv01/HTTP"))
    assert response.json()["dedup_key"] == "srv01/HTTP"


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda b: b["payload"].pop("summary"), "payload.summary"),
    (lambda b: b["payload"].pop("source"), "payload.source"),
    (lambda b: b["payload"].update(severity="fatal"), "payload.severity"),
    (lambda b: b.update(event_action="snooze"), "event_action"),
    (lambda b: b.pop("routing_key"), "routing_key"),
    (lambda b: b["payload"].update(timestamp="yesterday"), "payload.timestamp"),
    (lambda b: b.update(links=[{"text": "no href"}]), "links[0].href"),
])
def test_invalid_event_is_refused_naming_the_field(http: TestClient, routing_key: str, mutate, field: str) -> None:  # type: ignore[no-untyped-def]
    body = pd_trigger(routing_key)
    mutate(body)
    response = http.post("/v2/enqueue", json=body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["status"] == "invalid event"
    assert any(field in error for error in payload["errors"]), payload


def test_acknowledge_without_dedup_key_is_refused(http: TestClient, routing_key: str) -> None:
    response = http.post("/v2/enqueue", json={"routing_key": routing_key, "event_action": "acknowledge"})
    assert response.status_code == 400
    assert any("dedup_key" in e for e in response.json()["errors"])


def test_invalid_json_and_unknown_routing_key_change_nothing(http: TestClient, planned: Container) -> None:
    assert http.post("/v2/enqueue", content=b"{not json").status_code == 400
    unknown = http.post("/v2/enqueue", json=pd_trigger("0" * 32))
    assert unknown.status_code == 400 and "routing_key" in unknown.json()["errors"][0]
    assert http.get("/api/v1/incidents", headers=bearer(planned, "viewer")).json() == []


def test_native_alert_opens_an_incident(http: TestClient, routing_key: str, planned: Container) -> None:
    response = http.post("/api/v1/alerts", headers={"Authorization": f"Bearer {routing_key}"},
                         json={"summary": "feed rows 12% of usual", "severity": "error", "key": "rows"})
    assert response.status_code == 202 and response.json()["action"] == "open"
    incident = http.get(f"/api/v1/incidents/{response.json()['incident_id']}",
                        headers=bearer(planned, "viewer")).json()
    assert incident["severity"] == "Sev2" and incident["service"] == "recs-model"


def test_native_alert_names_the_unknown_field(http: TestClient, routing_key: str) -> None:
    response = http.post("/api/v1/alerts", headers={"Authorization": f"Bearer {routing_key}"},
                         json={"summary": "x", "sevrity": "error"})
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "sevrity"


def test_api_needs_a_key_and_the_right_role(http: TestClient, planned: Container, routing_key: str) -> None:
    assert http.get("/api/v1/incidents").status_code == 401
    assert http.get("/api/v1/incidents", headers={"Authorization": "Bearer nope"}).status_code == 401
    http.post("/v2/enqueue", json=pd_trigger(routing_key))
    denied = http.post("/api/v1/incidents/1/acknowledge", headers=bearer(planned, "viewer"))
    assert denied.status_code == 403


def test_acknowledge_and_resolve_over_the_api(http: TestClient, planned: Container, routing_key: str) -> None:
    http.post("/v2/enqueue", json=pd_trigger(routing_key))
    headers = bearer(planned)
    acked = http.post("/api/v1/incidents/1/acknowledge", headers=headers, json={"by": "aiko"})
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    again = http.post("/api/v1/incidents/1/acknowledge", headers=headers)
    assert again.status_code == 409 and "already acknowledged" in again.json()["detail"]
    assert http.post("/api/v1/incidents/1/resolve", headers=headers).json()["status"] == "monitoring"
    timeline = http.get("/api/v1/incidents/1/timeline", headers=headers).json()
    assert [e["kind"] for e in timeline if e["kind"].startswith("status.")] == [
        "status.acknowledged", "status.resolved", "status.monitoring"]


def test_client_scoped_key_sees_only_its_client(http: TestClient, planned: Container, routing_key: str) -> None:
    http.post("/v2/enqueue", json=pd_trigger(routing_key))  # a Northwind incident
    other = bearer(planned, "responder", client="tidewater")
    own = bearer(planned, "viewer", client="northwind")
    assert http.get("/api/v1/incidents", headers=other).json() == []
    assert http.get("/api/v1/incidents?client=northwind", headers=other).json() == []
    for method, path in [("get", "/api/v1/incidents/1"), ("get", "/api/v1/incidents/1/timeline"),
                         ("post", "/api/v1/incidents/1/acknowledge"), ("post", "/api/v1/incidents/1/resolve"),
                         ("get", "/api/v1/oncall?service=recs-model")]:
        assert getattr(http, method)(path, headers=other).status_code == 404, path
    assert http.post("/api/v1/incidents/1/notes", headers=other, json={"text": "x"}).status_code == 404
    assert len(http.get("/api/v1/incidents", headers=own).json()) == 1
    services = {entry["service"] for entry in http.get("/api/v1/oncall", headers=own).json()}
    assert services == {"catalog-feed", "recs-model", "recs-api"}


def test_list_filters_and_bad_filter_values(http: TestClient, planned: Container, routing_key: str) -> None:
    http.post("/v2/enqueue", json=pd_trigger(routing_key))
    viewer = bearer(planned, "viewer")
    assert len(http.get("/api/v1/incidents?status=open&severity=sev1", headers=viewer).json()) == 1
    assert http.get("/api/v1/incidents?status=resolved", headers=viewer).json() == []
    bad = http.get("/api/v1/incidents?status=sleeping", headers=viewer)
    assert bad.status_code == 400 and "status" in bad.json()["detail"]


def test_oncall_names_the_cover_for_a_person_on_vacation(http: TestClient, planned: Container) -> None:
    response = http.get("/api/v1/oncall?service=recs-model&at=2026-11-20T23:40:00Z",
                        headers=bearer(planned, "viewer"))
    level_one = response.json()[0]["levels"][0]["on_call"][0]
    assert level_one["person"] == "aiko" and level_one["covering_for"] == "priya"


def test_healthz_and_metrics(http: TestClient) -> None:
    health = http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert "onduty_engine_lag_seconds" in http.get("/metrics").text
