"""The ingest endpoints in-process: Alertmanager and Grafana webhooks, PagerDuty details and change
events, silences and heartbeats over HTTP, and the limits (413, 429, 400 naming the field)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onduty.app.heartbeats import create_heartbeat_key
from onduty.app.keys import create_api_key, create_integration_key
from onduty.bootstrap import Container
from onduty.web.app import create_app
from tests.integration.alerting_plan import apply_alerting_plan


@pytest.fixture
def http(container: Container, tmp_path: Path) -> Iterator[TestClient]:
    apply_alerting_plan(container, tmp_path)
    with TestClient(create_app(container)) as client:
        yield client


@pytest.fixture
def key(container: Container, http: TestClient) -> str:
    return create_integration_key(container.db, "recs-model", container.clock.now())


@pytest.fixture
def viewer(container: Container, http: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(container.db, 'responder', None, container.clock.now())}"}


def am_alert(name: str, status: str = "firing", fingerprint: str | None = None, **labels: str) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "status": status, "labels": {"alertname": name, "severity": "critical", **labels},
        "annotations": {"summary": f"{name} on recs", "runbook_url": "https://runbooks.example/recs"},
        "startsAt": "2026-11-20T23:40:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph?g0.expr=up", "fingerprint": fingerprint,
    }
    return {k: v for k, v in alert.items() if v is not None}


def am_body(*alerts: dict[str, Any], group: str = '{}:{alertname="Relevance"}') -> dict[str, Any]:
    return {"version": "4", "groupKey": group, "truncatedAlerts": 0, "status": "firing", "receiver": "onduty",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am.example",
            "alerts": list(alerts)}


def incidents(http: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return http.get("/api/v1/incidents", headers=headers).json()  # type: ignore[no-any-return]


def test_alertmanager_group_opens_one_incident_and_resolves_it(
    http: TestClient, key: str, viewer: dict[str, str]
) -> None:
    firing = am_body(am_alert("Relevance", fingerprint="aa01", pod="a"), am_alert("Relevance", pod="b"))
    response = http.post(f"/integrations/alertmanager/{key}", json=firing)
    assert response.status_code == 200 and response.json()["decisions"] == {"open": 1, "group": 1}
    (incident,) = incidents(http, viewer)
    detail = http.get(f"/api/v1/incidents/{incident['id']}", headers=viewer).json()
    assert detail["severity"] == "Sev1" and len(detail["alerts"]) == 2
    (alert,) = [a for a in detail["alerts"] if a["labels"]["pod"] == "a"]
    assert alert["annotations"]["runbook_url"].startswith("https://")
    assert alert["links"][0]["href"].startswith("http://prometheus.example")
    assert detail["affected_services"][0]["service"] == "recs-model"
    timeline_before = http.get(f"/api/v1/incidents/{incident['id']}/timeline", headers=viewer).json()
    again = http.post(f"/integrations/alertmanager/{key}", json=firing)  # Alertmanager sends duplicates
    assert again.json()["decisions"] == {"deduplicate": 2}
    assert http.get(f"/api/v1/incidents/{incident['id']}/timeline", headers=viewer).json() == timeline_before
    resolved = am_body(am_alert("Relevance", "resolved", fingerprint="aa01", pod="a"),
                       am_alert("Relevance", "resolved", pod="b"))
    assert http.post(f"/integrations/alertmanager/{key}", json=resolved).json()["decisions"] == {"resolve": 2}
    assert http.post(f"/integrations/alertmanager/{key}", json=resolved).json()["decisions"] == {"drop": 2}
    (after,) = incidents(http, viewer)
    assert after["status"] == "monitoring" and after["resolved_by"] == "alertmanager"


def test_grafana_webhook_is_accepted(http: TestClient, key: str, viewer: dict[str, str]) -> None:
    body = {**am_body(am_alert("HighLatency", fingerprint="g1")), "version": "1", "orgId": 1, "state": "alerting",
            "title": "[FIRING:1] HighLatency", "message": "latency over SLO"}
    body["alerts"][0]["dashboardURL"] = "http://grafana.example/d/abc"
    assert http.post(f"/integrations/alertmanager/{key}", json=body).json()["decisions"] == {"open": 1}
    (incident,) = incidents(http, viewer)
    alert = http.get(f"/api/v1/incidents/{incident['id']}/alerts", headers=viewer).json()[0]
    assert {link["text"] for link in alert["links"]} == {"Source", "Dashboard"}
    assert alert["custom_details"]["orgId"] == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"version": "3", "alerts": []}, "version"),
    ({"version": "4", "alerts": {}}, "alerts"),
    (am_body({"status": "burning", "labels": {}}), "alerts[1].status"),
    (am_body({"status": "firing", "labels": {"a": 1}}), "alerts[1].labels"),
    (am_body({"status": "firing", "labels": {}, "startsAt": "noon"}), "alerts[1].startsAt"),
])
def test_bad_webhook_is_refused_naming_the_field_and_stores_nothing(
    http: TestClient, key: str, viewer: dict[str, str], body: dict[str, Any], field: str
) -> None:
    good = am_alert("Ok", fingerprint="ok1")
    if isinstance(body.get("alerts"), list) and body["alerts"]:
        body = {**body, "alerts": [good, *body["alerts"]]}  # a good alert first: not half-stored
    response = http.post(f"/integrations/alertmanager/{key}", json=body)
    assert response.status_code == 400
    assert any(f"'{field}'" in error for error in response.json()["detail"]), response.json()
    assert incidents(http, viewer) == []


def test_unknown_webhook_key_is_refused(http: TestClient) -> None:
    assert http.post("/integrations/alertmanager/nope", json=am_body()).status_code == 401


def test_pagerduty_links_images_and_details_are_shown_on_the_incident(
    http: TestClient, key: str, viewer: dict[str, str]
) -> None:
    http.post("/v2/enqueue", json={
        "routing_key": key, "event_action": "trigger", "dedup_key": "rel",
        "payload": {"summary": "relevance 0.08", "source": "monitor", "severity": "error",
                    "custom_details": {"relevance": 0.08, "baseline": 0.61}},
        "links": [{"href": "https://grafana.example/d/recs", "text": "Dashboard"}],
        "images": [{"src": "https://grafana.example/render/recs.png", "alt": "relevance"}],
    })
    (incident,) = incidents(http, viewer)
    (alert,) = http.get(f"/api/v1/incidents/{incident['id']}", headers=viewer).json()["alerts"]
    assert alert["custom_details"] == {"relevance": 0.08, "baseline": 0.61}
    assert alert["links"] == [{"href": "https://grafana.example/d/recs", "text": "Dashboard"}]
    assert alert["images"][0]["src"].endswith("recs.png")
    assert incident["type"] == "model_degradation"


def test_change_events_are_listed_as_the_services_recent_changes(
    http: TestClient, key: str, viewer: dict[str, str], container: Container
) -> None:
    change = {"routing_key": key, "payload": {"summary": "deployed recs-model v42", "source": "ci",
                                              "custom_details": {"commit": "abc123"}},
              "links": [{"href": "https://ci.example/42", "text": "build"}]}
    response = http.post("/v2/change/enqueue", json=change)
    assert response.status_code == 202 and response.json()["status"] == "success"
    bad = http.post("/v2/change/enqueue", json={"routing_key": key, "payload": {}})
    assert bad.status_code == 400 and any("payload.summary" in e for e in bad.json()["errors"])
    (listed,) = http.get("/api/v1/services/recs-model/changes", headers=viewer).json()
    assert listed["summary"] == "deployed recs-model v42" and listed["details"] == {"commit": "abc123"}
    http.post("/v2/enqueue", json={"routing_key": key, "event_action": "trigger",
                                   "payload": {"summary": "s", "source": "m", "severity": "error"}})
    (incident,) = incidents(http, viewer)
    detail = http.get(f"/api/v1/incidents/{incident['id']}", headers=viewer).json()
    assert [c["summary"] for c in detail["recent_changes"]] == ["deployed recs-model v42"]
    scoped = {"Authorization": f"Bearer {create_api_key(container.db, 'viewer', 'tidewater', container.clock.now())}"}
    assert http.get("/api/v1/services/recs-model/changes", headers=scoped).status_code == 404


def test_silences_over_the_api_hold_alerts_until_expired(
    http: TestClient, key: str, viewer: dict[str, str], container: Container
) -> None:
    ends = (container.clock.now() + timedelta(hours=2)).isoformat()
    bad = http.post("/api/v1/silences", headers=viewer,
                    json={"matchers": ["job=~("], "ends_at": ends, "created_by": "aiko", "comment": "x"})
    assert bad.status_code == 400 and "matchers" in bad.json()["detail"]
    created = http.post("/api/v1/silences", headers=viewer, json={
        "matchers": ['alertname="Relevance"'], "service": "recs-model", "ends_at": ends,
        "created_by": "aiko", "comment": "retraining tonight"})
    assert created.status_code == 201 and created.json()["state"] == "active"
    posted = http.post(f"/integrations/alertmanager/{key}", json=am_body(am_alert("Relevance", fingerprint="s1")))
    assert posted.json()["decisions"] == {"suppress": 1}
    assert incidents(http, viewer) == []
    (held,) = http.get("/api/v1/alerts?status=suppressed", headers=viewer).json()
    assert held["suppressed_by"] == f"silence {created.json()['id']}"
    assert [s["id"] for s in http.get("/api/v1/silences", headers=viewer).json()] == [created.json()["id"]]
    assert http.delete(f"/api/v1/silences/{created.json()['id']}", headers=viewer).status_code == 204
    assert http.get("/api/v1/silences", headers=viewer).json() == []
    assert http.delete(f"/api/v1/silences/{created.json()['id']}", headers=viewer).status_code == 404
    again = http.post(f"/integrations/alertmanager/{key}", json=am_body(am_alert("Relevance", fingerprint="s1")))
    assert again.json()["decisions"] == {"open": 1}


def test_heartbeat_pings_over_http(http: TestClient, container: Container, viewer: dict[str, str]) -> None:
    hb = create_heartbeat_key(container.db, "catalog-hourly", container.clock.now())
    assert http.post("/api/v1/heartbeats/unknown").status_code == 404
    response = http.post(f"/api/v1/heartbeats/{hb}")
    assert response.status_code == 200 and response.json()["check"] == "catalog-hourly"
    (check,) = http.get("/api/v1/heartbeats", headers=viewer).json()
    assert check["status"] == "ok" and check["beats"] == 1


def test_oversized_body_is_refused_with_413(http: TestClient, key: str, viewer: dict[str, str],
                                            container: Container) -> None:
    container.settings.max_body_bytes = 2048
    big = am_body(*[am_alert("Relevance", fingerprint=f"f{i}") for i in range(20)])
    assert http.post(f"/integrations/alertmanager/{key}", json=big).status_code == 413
    pd = {"routing_key": key, "event_action": "trigger",
          "payload": {"summary": "x" * 3000, "source": "m", "severity": "error"}}
    assert http.post("/v2/enqueue", json=pd).status_code == 413
    assert incidents(http, viewer) == []


def test_rate_limit_per_key_answers_429_with_retry_after(http: TestClient, key: str, container: Container) -> None:
    from onduty.web.limits import RateLimiter

    now = [0.0]
    http.app.state.rate_limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: now[0])  # type: ignore[attr-defined]
    body = {"routing_key": key, "event_action": "trigger",
            "payload": {"summary": "s", "source": "m", "severity": "error"}}
    assert [http.post("/v2/enqueue", json=body).status_code for _ in range(2)] == [202, 202]
    limited = http.post("/v2/enqueue", json=body)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    other = create_integration_key(container.db, "recs-api", container.clock.now())
    assert http.post("/v2/enqueue", json={**body, "routing_key": other}).status_code == 202  # per key
    now[0] = 1.0
    assert http.post("/v2/enqueue", json=body).status_code == 202


def test_a_client_with_many_integration_keys_is_limited_as_a_whole(http: TestClient, container: Container) -> None:
    from onduty.web.limits import RateLimiter

    now = [0.0]
    http.app.state.client_rate_limiter = RateLimiter(rate=1.0, burst=4, clock=lambda: now[0])  # type: ignore[attr-defined]
    at = container.clock.now()
    northwind = [create_integration_key(container.db, s, at) for s in ("catalog-feed", "recs-model", "recs-api")]
    tidewater = create_integration_key(container.db, "eta-model", at)

    def pagerduty(key: str) -> Any:
        return http.post("/v2/enqueue", json={"routing_key": key, "event_action": "trigger",
                                               "payload": {"summary": "s", "source": "m", "severity": "error"}})

    def change(key: str) -> Any:
        return http.post("/v2/change/enqueue", json={"routing_key": key, "payload": {"summary": "deploy v2"}})

    def native(key: str) -> Any:
        return http.post("/api/v1/alerts", headers={"Authorization": f"Bearer {key}"},
                         json={"summary": "relevance collapsed", "severity": "critical"})

    def alertmanager(key: str) -> Any:
        return http.post(f"/integrations/alertmanager/{key}", json=am_body(am_alert("Relevance")))

    # Four events from three keys of one client fill its bucket; each key alone is far below its own rate.
    assert [pagerduty(k).status_code for k in northwind] + [change(northwind[0]).status_code] == [202] * 4
    for send in (pagerduty, change, native, alertmanager):  # the fast ingest path and the routed one alike
        limited = send(northwind[2])
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1", send.__name__
        assert "client 'northwind' (all its keys together)" in limited.text, send.__name__
    assert pagerduty(tidewater).status_code == 202  # another client has a bucket of its own
    now[0] = 1.0
    assert pagerduty(northwind[1]).status_code == 202


def test_heartbeat_keys_count_toward_their_clients_limit(http: TestClient, container: Container) -> None:
    from onduty.web.limits import RateLimiter

    now = [0.0]
    http.app.state.client_rate_limiter = RateLimiter(rate=1.0, burst=2, clock=lambda: now[0])  # type: ignore[attr-defined]
    keys = [create_heartbeat_key(container.db, "catalog-hourly", container.clock.now()) for _ in range(3)]
    assert [http.post(f"/api/v1/heartbeats/{k}").status_code for k in keys[:2]] == [200, 200]
    limited = http.post(f"/api/v1/heartbeats/{keys[2]}")  # a fresh key, but its client has had its share
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert "rate limit for client 'northwind' (all its keys together) exceeded" in limited.text
    now[0] = 1.0
    assert http.post(f"/api/v1/heartbeats/{keys[2]}").status_code == 200


def test_ingest_client_limits_have_defaults_above_one_keys() -> None:
    from onduty.config import Settings

    settings = Settings()
    assert settings.ingest_rate_per_client > settings.ingest_rate_per_key
    assert settings.ingest_burst_per_client > settings.ingest_burst_per_key
