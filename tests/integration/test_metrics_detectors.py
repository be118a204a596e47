"""`POST /api/v1/metrics` through the plan's detectors: a relevance drop opens an incident with its
evidence and resolves when relevance returns; an SLO burn pages; bad points change nothing; detector
state survives a restart."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onduty.adapters.clock import SimulatedClock
from onduty.app.keys import create_api_key, create_integration_key
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.web.app import create_app
from tests.integration.alerting_plan import apply_alerting_plan
from tests.integration.console_helpers import client_for, people, sign_in

T0 = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)


@pytest.fixture
def http(container: Container, tmp_path: Path) -> Iterator[TestClient]:
    apply_alerting_plan(container, tmp_path)
    with TestClient(create_app(container)) as client:
        yield client


@pytest.fixture
def key(container: Container, http: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_integration_key(container.db, 'recs-model', container.clock.now())}"}


@pytest.fixture
def viewer(container: Container, http: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_api_key(container.db, 'viewer', None, container.clock.now())}"}


def relevance_points(start: datetime, minutes: int, relevance: float, shown: int = 60) -> list[dict[str, Any]]:
    """One point of shown and one of matching recommendations per minute (deterministic counts)."""
    points = []
    for m in range(minutes):
        ts = (start + timedelta(minutes=m)).isoformat()
        points.append({"service": "recs-model", "name": "recs.shown", "ts": ts, "value": shown})
        points.append({"service": "recs-model", "name": "recs.matching", "ts": ts,
                       "value": round(shown * relevance) + (m % 3 - 1)})
    return points


def post(http: TestClient, headers: dict[str, str], points: list[dict[str, Any]]) -> dict[str, Any]:
    response = http.post("/api/v1/metrics", headers=headers, json={"points": points})
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def learn_then_drop(http: TestClient, key: dict[str, str], start: datetime = T0) -> datetime:
    """Two clean hours (the baseline), then relevance falls from 0.66 to 0.1; the drop's start."""
    post(http, key, relevance_points(start, 120, 0.66))
    return start + timedelta(hours=2)


def relevance_incident(http: TestClient, viewer: dict[str, str]) -> dict[str, Any]:
    (incident,) = http.get("/api/v1/incidents", headers=viewer).json()
    return http.get(f"/api/v1/incidents/{incident['id']}", headers=viewer).json()  # type: ignore[no-any-return]


def test_relevance_drop_opens_an_incident_with_its_evidence_and_recovery_resolves_it(
    http: TestClient, key: dict[str, str], viewer: dict[str, str]
) -> None:
    drop = learn_then_drop(http, key)
    assert http.get("/api/v1/incidents", headers=viewer).json() == []
    fired = [d for d in post(http, key, relevance_points(drop, 5, 0.1))["detectors"] if d["action"] == "fire"]
    assert [d["detector"] for d in fired] == ["relevance"]
    detail = relevance_incident(http, viewer)
    assert detail["type"] == "model_degradation" and detail["status"] == "triggered"
    evidence = detail["alerts"][0]["custom_details"]["evidence"]
    assert evidence["baseline"] == pytest.approx(0.66, abs=0.01)
    assert evidence["window"]["rate"] < 0.2 and evidence["statistic"] > evidence["threshold"]
    assert evidence["p_value"] < 1e-6
    timeline = http.get(f"/api/v1/incidents/{detail['id']}/timeline", headers=viewer).json()
    assert "baseline" in str(timeline[0]) and "Recommendation relevance" in detail["alerts"][0]["summary"]

    back = post(http, key, relevance_points(drop + timedelta(minutes=5), 30, 0.66))
    assert [d["action"] for d in back["detectors"] if d["detector"] == "relevance"] == ["resolve"]
    after = relevance_incident(http, viewer)
    assert after["status"] == "monitoring"  # resolved, now watched for a recurrence
    assert after["alerts"][0]["status"] == "resolved"


def test_error_burn_pages_with_burn_rates_per_window(
    http: TestClient, container: Container, viewer: dict[str, str]
) -> None:
    api_key = {"Authorization": f"Bearer {create_integration_key(container.db, 'recs-api', container.clock.now())}"}
    points = []
    for m in range(90):
        ts = (T0 + timedelta(minutes=m)).isoformat()
        errors = 1 if m < 60 else 40  # 0.1% then 4% of 1,000 requests a minute: a 40x burn
        points += [{"service": "recs-api", "name": "http.requests", "ts": ts, "value": 1000},
                   {"service": "recs-api", "name": "http.errors", "ts": ts, "value": errors}]
    quiet = post(http, api_key, points[:120])
    assert all(d["action"] is None for d in quiet["detectors"])
    burning = post(http, api_key, points[120:])
    assert {(d["detector"], d["action"]) for d in burning["detectors"]} >= {("availability", "fire")}
    (incident,) = http.get("/api/v1/incidents", headers=viewer).json()
    alerts = http.get(f"/api/v1/incidents/{incident['id']}", headers=viewer).json()["alerts"]
    (alert,) = [a for a in alerts if a["key"] == "detector/availability/page"]
    burns = alert["custom_details"]["evidence"]["burn_rates"]
    assert burns["5m"]["burn_rate"] > 14.4 and burns["1h"]["burn_rate"] > 14.4
    page = console_page(container, incident["id"])  # a burn rate carries no series: no chart is drawn
    assert "burn rate" in page and "metric-chart" not in page and 'class="card chart"' not in page


def console_page(container: Container, incident_id: int) -> str:
    """The incident's page in the console, as a responder sees it."""
    people(container)
    browser = client_for(container)
    sign_in(browser, "tomas")
    response = browser.get(f"/incidents/{incident_id}")
    assert response.status_code == 200
    return response.text


def test_the_evidence_carries_a_bounded_series_and_the_incident_page_draws_it(
    http: TestClient, key: dict[str, str], viewer: dict[str, str], container: Container
) -> None:
    post(http, key, relevance_points(T0, 300, 0.66))  # five clean hours: more than the series keeps
    drop = T0 + timedelta(hours=5)
    post(http, key, relevance_points(drop, 5, 0.1))
    alert = relevance_incident(http, viewer)["alerts"][0]
    evidence = alert["custom_details"]["evidence"]
    assert evidence["metric"] == "relevance" and evidence["ratio"] == "recs.matching / recs.shown"
    points = evidence["points"]
    assert len(points) == 240 and len(json.dumps(evidence)) < 20_000  # bounded, whatever the history
    starts = [p[0] for p in points]
    assert {b - a for a, b in pairwise(starts)} == {60.0}  # the last 240 minutes
    assert drop.timestamp() <= starts[-1] < (drop + timedelta(minutes=5)).timestamp()  # up to the fire
    assert points[0][1] == pytest.approx(0.66, abs=0.03) and points[-1][1] < 0.2
    assert points[-1][2] == pytest.approx(0.66, abs=0.01)  # the expected rate beside the value

    post(http, key, relevance_points(drop + timedelta(minutes=5), 30, 0.66))
    after = relevance_incident(http, viewer)
    later = after["alerts"][0]["details"]["resolve_evidence"]["points"]
    assert len(later) == 240 and later[-1][1] > 0.5  # the series up to the recovery, kept for the chart

    page = console_page(container, after["id"])
    chart = page[page.index('<section class="card chart"'):]
    chart = chart[:chart.index("</section>")]
    assert 'role="img"' in chart and '<desc id="chart-desc">relevance (recs.matching / recs.shown)' in chart
    assert re.search(r'<title id="chart-title">relevance 0\.6\d → 0\.\d\d at 19:01; back to 0\.6\d at 19:12</title>',
                     chart)  # on the series' own clock (times in the client's zone)
    assert "alert 19:01" in chart and "resolved 19:12" in chart
    assert chart.count('class="mc-values"') == 1 and 'class="mc-expected"' in chart
    assert "[1" not in page[page.index('id="alerts-h"'):]  # the points are drawn, not listed as numbers


@pytest.mark.parametrize(("point", "field"), [
    ({"name": "recs.shown", "ts": "2026-11-20T20:00:00Z", "value": 1}, "points[1].service"),
    ({"service": "recs-model", "name": "recs.shown", "ts": "2026-11-20T20:00:00", "value": 1}, "points[1].ts"),
    ({"service": "recs-model", "name": "recs.shown", "ts": "2026-11-20T20:00:00Z", "value": "many"},
     "points[1].value"),
    ({"service": "recs-model", "name": "recs.shown", "ts": 1, "value": 1, "labels": {"a": 1}}, "points[1].labels"),
    ({"service": "recs-api", "name": "http.errors", "ts": 1, "value": 1}, "points[1].service"),
])
def test_bad_point_is_refused_naming_index_and_field_and_nothing_is_stored(
    http: TestClient, key: dict[str, str], container: Container, point: dict[str, Any], field: str
) -> None:
    good = relevance_points(T0, 1, 0.66)[0]
    response = http.post("/api/v1/metrics", headers=key, json={"points": [good, point]})
    assert response.status_code == 400
    assert field in [d["field"] for d in response.json()["detail"]], response.json()
    with container.db.transaction() as store:
        assert store.all_detector_states() == []


def test_oversized_batch_is_refused_with_413(http: TestClient, key: dict[str, str], container: Container) -> None:
    container.settings.max_body_bytes = 2048
    assert http.post("/api/v1/metrics", headers=key, json=relevance_points(T0, 60, 0.66)).status_code == 413


def test_client_scoped_key_gets_404_for_another_clients_service(
    http: TestClient, container: Container
) -> None:
    now = container.clock.now()
    scoped = {"Authorization": f"Bearer {create_api_key(container.db, 'responder', 'tidewater', now)}"}
    assert http.post("/api/v1/metrics", headers=scoped, json=relevance_points(T0, 1, 0.66)).status_code == 404
    own = {"Authorization": f"Bearer {create_api_key(container.db, 'responder', 'northwind', now)}"}
    assert http.post("/api/v1/metrics", headers=own, json=relevance_points(T0, 1, 0.66)).status_code == 202
    assert http.get("/api/v1/detectors", headers=scoped).json() == []
    listed = {d["detector"]: d for d in http.get("/api/v1/detectors", headers=own).json()}
    assert listed["relevance"]["status"] == "learning" and listed["relevance"]["points"] == 2
    assert listed["availability"]["status"] == "waiting for points"


def test_detector_state_survives_a_restart(
    http: TestClient, key: dict[str, str], database_url: str, clock: SimulatedClock, viewer: dict[str, str]
) -> None:
    drop = learn_then_drop(http, key)  # the baseline is learnt by this process…
    restarted = build(Settings(database_url=database_url), clock=clock)
    try:
        with TestClient(create_app(restarted)) as again:  # …and used by the next one
            fired = post(again, key, relevance_points(drop, 5, 0.1))["detectors"]
            assert [d["action"] for d in fired if d["detector"] == "relevance"] == ["fire"]
    finally:
        restarted.db.dispose()
    assert relevance_incident(http, viewer)["alerts"][0]["source"] == "onduty detector relevance"


def test_points_past_the_keys_limit_get_429_change_nothing_and_pass_after_the_refill(
    http: TestClient, key: dict[str, str], container: Container, viewer: dict[str, str]
) -> None:
    from onduty.web.limits import RateLimiter

    now = [0.0]
    http.app.state.rate_limiter = RateLimiter(rate=10.0, burst=20, clock=lambda: now[0])  # type: ignore[attr-defined]
    assert http.post("/api/v1/metrics", headers=key, json=relevance_points(T0, 10, 0.66)).status_code == 202
    later = relevance_points(T0 + timedelta(minutes=10), 1, 0.66)  # two more points: one each is the cost
    limited = http.post("/api/v1/metrics", headers=key, json=later)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert "rate limit for metric points of this integration key exceeded" in limited.json()["detail"]

    def relevance_points_seen() -> int:
        listed = {d["detector"]: d for d in http.get("/api/v1/detectors", headers=viewer).json()}
        return int(listed["relevance"]["points"])

    assert relevance_points_seen() == 20  # the refused points were not applied
    routing_key = key["Authorization"].removeprefix("Bearer ")
    alert = {"routing_key": routing_key, "event_action": "trigger",
             "payload": {"summary": "s", "source": "m", "severity": "error"}}
    assert http.post("/v2/enqueue", json=alert).status_code == 202  # points do not use up the alerts' share
    other = {"Authorization": f"Bearer {create_integration_key(container.db, 'eta-model', container.clock.now())}"}
    eta = [{"service": "eta-model", "name": "eta.error", "ts": T0.isoformat(), "value": 1.0}] * 20
    assert http.post("/api/v1/metrics", headers=other, json=eta).status_code == 202  # another key, own bucket
    now[0] = 1.0
    assert http.post("/api/v1/metrics", headers=key, json=later).status_code == 202
    assert relevance_points_seen() == 22


def test_one_clients_keys_share_its_limit_for_points_and_another_client_is_unaffected(
    http: TestClient, key: dict[str, str], container: Container
) -> None:
    from onduty.web.limits import RateLimiter

    now = [0.0]
    http.app.state.client_rate_limiter = RateLimiter(rate=10.0, burst=20, clock=lambda: now[0])  # type: ignore[attr-defined]
    at = container.clock.now()
    assert http.post("/api/v1/metrics", headers=key, json=relevance_points(T0, 10, 0.66)).status_code == 202
    same_client = {"Authorization": f"Bearer {create_api_key(container.db, 'responder', 'northwind', at)}"}
    requests = [{"service": "recs-api", "name": "http.requests", "ts": T0.isoformat(), "value": 1000}] * 2
    limited = http.post("/api/v1/metrics", headers=same_client, json=requests)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert "metric points of client 'northwind' (all its keys together)" in limited.json()["detail"]
    with container.db.transaction() as store:
        assert {r.service_id for r in store.all_detector_states()} == {"recs-model"}
    other_client = {"Authorization": f"Bearer {create_api_key(container.db, 'responder', 'tidewater', at)}"}
    eta = [{"service": "eta-model", "name": "eta.error", "ts": T0.isoformat(), "value": 1.0}] * 20
    assert http.post("/api/v1/metrics", headers=other_client, json=eta).status_code == 202
    now[0] = 1.0
    assert http.post("/api/v1/metrics", headers=same_client, json=requests).status_code == 202
    with container.db.transaction() as store:
        assert {r.service_id for r in store.all_detector_states()} == {"recs-model", "recs-api"}


def test_an_expired_api_key_cannot_post_points(http: TestClient, container: Container, clock: SimulatedClock) -> None:
    expiring = create_api_key(container.db, "responder", None, clock.now(), expires_at=clock.now() + timedelta(days=1))
    headers = {"Authorization": f"Bearer {expiring}"}
    assert http.post("/api/v1/metrics", headers=headers, json=relevance_points(T0, 1, 0.66)).status_code == 202
    clock.advance(timedelta(days=2))
    refused = http.post("/api/v1/metrics", headers=headers, json=relevance_points(T0 + timedelta(minutes=1), 1, 0.66))
    assert refused.status_code == 401 and "expired at" in refused.json()["detail"]
