"""`/healthz` turns unhealthy when due work is late, whoever runs the worker; `/metrics` shows the lag,
the queue depth and delivery failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from onduty.adapters.clock import SimulatedClock
from onduty.app.keys import create_integration_key
from onduty.app.ports import DeliveryError
from onduty.bootstrap import Container
from onduty.web.app import create_app
from tests.conftest import RecordingChannel


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    with TestClient(create_app(planned)) as client:
        yield client


def trigger(http: TestClient, planned: Container) -> None:
    key = create_integration_key(planned.db, "recs-model", planned.clock.now())
    response = http.post("/v2/enqueue", json={"routing_key": key, "event_action": "trigger", "payload": {
        "summary": "relevance 0.08", "source": "monitor", "severity": "critical"}})
    assert response.status_code == 202


def test_healthz_turns_unhealthy_when_a_due_page_waits_past_the_bound(
    http: TestClient, planned: Container, clock: SimulatedClock,
) -> None:
    trigger(http, planned)
    assert http.get("/healthz").status_code == 200  # due now, not yet late
    clock.advance(timedelta(seconds=planned.settings.max_engine_lag_seconds + 5))
    health = http.get("/healthz")
    assert health.status_code == 503
    assert "behind due work" in health.json()["reason"]
    assert "onduty_engine_lag_seconds 65.0" in http.get("/metrics").text


def test_healthz_recovers_once_the_worker_catches_up(
    http: TestClient, planned: Container, clock: SimulatedClock,
) -> None:
    trigger(http, planned)
    clock.advance(timedelta(minutes=5))
    assert http.get("/healthz").status_code == 503
    planned.worker.run_once(clock.now())
    assert http.get("/healthz").status_code == 200


def test_metrics_count_failed_pages_and_the_queue(
    http: TestClient, planned: Container, clock: SimulatedClock, pager: RecordingChannel,
) -> None:
    pager.fail_with = DeliveryError("HTTP 410", permanent=True)
    trigger(http, planned)
    planned.worker.run_once(clock.now())
    text = http.get("/metrics").text
    assert "onduty_delivery_failures_total{channel=" in text
    failed = [line for line in text.splitlines() if line.startswith("onduty_outbox_failed ")]
    assert failed and float(failed[0].split()[1]) >= 1
    assert "onduty_outbox_depth" in text and "onduty_timer_lag_seconds" in text
