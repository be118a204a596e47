"""A Sev1 incident end to end through HTTP in simulated time: a PagerDuty event, all hands paged, the
incident channel opened, roles assigned, acknowledged, resolved, monitored and closed — and every
deadline of the severity policy either met or flagged on the timeline with the delivery lead paged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from onduty.adapters.clock import SimulatedClock
from onduty.app.keys import create_api_key, create_integration_key
from onduty.app.plans import apply_plan
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.plan.load import load_plan
from onduty.web.app import create_app
from tests.conftest import SAMPLE_PLAN, RecordingChannel, advance

CHANNELS = ("webhook", "email", "sms", "console", "slack", "teams")


@pytest.fixture
def app(database_url: str, clock: SimulatedClock, pager: RecordingChannel) -> Iterator[tuple[Container, TestClient]]:
    c = build(Settings(database_url=database_url), clock=clock, channels={k: pager for k in CHANNELS})
    apply_plan(c.db, load_plan(SAMPLE_PLAN), str(SAMPLE_PLAN), clock.now())
    with TestClient(create_app(c)) as http:
        yield c, http
    c.db.dispose()


def test_sev1_every_deadline_is_met_or_flagged(app: tuple[Container, TestClient], pager: RecordingChannel,
                                               clock: SimulatedClock) -> None:
    c, http = app
    key = create_integration_key(c.db, "recs-model", clock.now())
    auth = {"Authorization": f"Bearer {create_api_key(c.db, 'responder', None, clock.now())}"}
    start = clock.now()
    event = {"routing_key": key, "event_action": "trigger", "dedup_key": "recs/relevance",
             "payload": {"summary": "relevance 0.08 on the storefront", "source": "relevance-monitor",
                         "severity": "critical"}}
    assert http.post("/v2/enqueue", json=event).status_code == 202
    advance(c, clock, timedelta(seconds=1))

    # All hands at once, and the dedicated channel.
    assert {"aiko", "hannah", "dev", "maria", "incident-channel"} <= set(pager.everyone())
    shown = http.get("/api/v1/incidents/1", headers=auth).json()
    assert shown["severity"] == "Sev1" and shown["channel_link"].endswith("C0NORTHWIND")
    roles = {r["role"]: r["person"] for r in shown["roles"]}
    assert roles == {"responder": "aiko", "commander": None, "communications_lead": "maria"}

    advance(c, clock, timedelta(minutes=5))
    assigned = http.post("/api/v1/incidents/1/roles", headers=auth, json={"role": "commander", "person": "hannah"})
    assert assigned.status_code == 200
    assert {r["role"]: r["source"] for r in assigned.json()}["commander"] == "assigned"

    advance(c, clock, timedelta(minutes=7))  # 12 min in: level 2 (Lucía) was paged at 10, she acknowledges
    acked = http.post("/api/v1/incidents/1/acknowledge", headers=auth, json={"by": "lucia"})
    assert acked.json()["status"] == "acknowledged"
    advance(c, clock, timedelta(minutes=28))  # nobody sent the first client notice (due at 30 min)
    assert http.post("/api/v1/incidents/1/resolve", headers=auth, json={"by": "lucia"}).json()["status"] \
        == "monitoring"
    advance(c, clock, timedelta(minutes=60))
    assert http.get("/api/v1/incidents/1", headers=auth).json()["status"] == "closed"
    advance(c, clock, timedelta(hours=48))  # and the review was never completed

    detail = http.get("/api/v1/incidents/1", headers=auth).json()
    timeline = http.get("/api/v1/incidents/1/timeline", headers=auth).json()
    flagged = {e["data"]["clock"] for e in timeline if e["kind"] == "clock.missed"}
    states = {k["clock"]: k["state"] for k in detail["clocks"]}
    assert states == {"acknowledge": "met", "first_notice": "missed", "resolve": "met", "review": "missed"}
    for name, state in states.items():
        assert state == "met" or name in flagged, f"{name} is {state} but was never flagged"
    escalated = [m.payload["body"]["clock"] for m in pager.sent
                 if m.payload["body"].get("event") == "incident.clock_missed"]
    assert escalated == ["first_notice", "review"] and all(
        m.person_id == "dev" for m in pager.sent if m.payload["body"].get("event") == "incident.clock_missed")
    reminded = {(m.person_id, m.payload["body"]["clock"]) for m in pager.sent
                if m.payload["body"].get("event") == "incident.clock_reminder"}
    assert {("aiko", "acknowledge"), ("maria", "first_notice"), ("hannah", "review")} <= reminded
    resolved, closed = (datetime.fromisoformat(detail[k]) for k in ("resolved_at", "closed_at"))
    assert resolved - start == timedelta(minutes=40, seconds=1) and closed - resolved == timedelta(minutes=60)
    kinds = [e["kind"] for e in timeline]
    assert kinds.index("status.acknowledged") < kinds.index("clock.missed") < kinds.index("status.closed")
