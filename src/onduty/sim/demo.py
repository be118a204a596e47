"""The founding story, replayed on the real engine in simulated time.

A client's product-catalog feed is corrupted on a Friday evening; the recommendation model starts
serving nonsense; the relevance monitor fires; the engineer who built the model is on vacation, so
the rotation pages the next person; that page goes unanswered and escalates; the incident is
acknowledged, mitigated, resolved, monitored and closed. Same code path as `onduty serve`: HTTP app, use cases, worker.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from onduty.adapters.clock import SimulatedClock
from onduty.app.keys import create_api_key, create_integration_key
from onduty.app.plans import apply_plan
from onduty.bootstrap import build
from onduty.config import Settings
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry
from onduty.domain.review import ResponseFigures, response_figures
from onduty.plan.load import load_plan
from onduty.sim.drive import run_until
from onduty.web.app import create_app

with warnings.catch_warnings():  # the test client's transport warns about a future httpx split
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ZONE = ZoneInfo("America/Chicago")
FAULT_AT = datetime(2026, 11, 20, 17, 40, tzinfo=ZONE)  # a Friday evening in Chicago
STORY = {"time_to_detect": "4 h", "time_to_engage": "45 min", "time_to_acknowledge": "—",
         "time_to_resolve": "—", "duration": "7 h"}


def find_sample_plan() -> Path:
    """examples/agency/onduty.yaml from the working directory or from the source checkout."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base / "examples" / "agency" / "onduty.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("examples/agency/onduty.yaml not found; run from the onduty checkout or pass --plan")


@dataclass
class SimulatedPager:
    """Stands in for phones and inboxes: every page is delivered and shown as it happens."""

    say: Callable[[datetime, str], None]
    received: list[OutboxMessage] = field(default_factory=list)

    def send(self, message: OutboxMessage, now: datetime) -> str:
        self.received.append(message)
        body = message.payload["body"]
        who = body.get("person", {}).get("name", message.person_id)
        what = "notification" if body.get("notification") else "post" if "person" not in body else "page"
        self.say(now, f"📟 {what} to {who} via {message.channel}")
        return f"{message.channel} delivered (simulated)"


@dataclass
class DemoResult:
    incident: Incident
    timeline: list[TimelineEntry]
    figures: ResponseFigures
    pages: list[OutboxMessage]
    database: str


def run_demo(say: Callable[[datetime, str], None], plan_path: Path | None = None,
             database: str | None = None) -> DemoResult:
    """Replay the story; `say(when, text)` narrates. Returns the incident, its timeline and figures."""
    workdir = tempfile.mkdtemp(prefix="onduty-demo-")
    url = database or f"sqlite:///{workdir}/demo.db"
    clock = SimulatedClock(FAULT_AT - timedelta(minutes=30))
    pager = SimulatedPager(say)
    channels = {kind: pager for kind in ("webhook", "email", "sms", "slack", "console")}
    container = build(Settings(database_url=url), clock=clock, channels=channels)
    plan_path = plan_path or find_sample_plan()
    apply_plan(container.db, load_plan(plan_path), str(plan_path), clock.now())
    routing_key = create_integration_key(container.db, "recs-model", clock.now())
    api_key = create_api_key(container.db, "responder", None, clock.now())
    auth = {"Authorization": f"Bearer {api_key}"}

    def advance_to(target: datetime) -> None:
        run_until(container, clock, target)

    with TestClient(create_app(container)) as http:
        advance_to(FAULT_AT)
        say(FAULT_AT, "💥 Northwind's hourly catalog delta lands with the category and price columns swapped")
        first_signal = FAULT_AT + timedelta(minutes=1)
        advance_to(first_signal)
        say(first_signal, "📉 recommendation relevance starts falling (0.66 → 0.08)")
        advance_to(FAULT_AT + timedelta(minutes=6, seconds=30))
        response = http.post("/v2/enqueue", json={
            "routing_key": routing_key, "event_action": "trigger", "dedup_key": "recs-relevance/northwind",
            "payload": {
                "summary": "Recommendation relevance 0.08 (normal 0.62-0.71) on Northwind storefront",
                "source": "relevance-monitor", "severity": "critical",
                "timestamp": first_signal.isoformat(), "component": "recs-model", "class": "model_degradation",
                "custom_details": {"relevance": 0.08, "baseline": 0.66, "window": "5m"},
            },
            "links": [{"href": "https://grafana.halyard.example/d/recs", "text": "Relevance dashboard"}],
        })
        response.raise_for_status()
        say(clock.now(), "🚨 relevance monitor fires: PagerDuty-style event accepted (202)")
        incident_id = http.get("/api/v1/incidents", headers=auth).json()[0]["id"]
        advance_to(clock.now() + timedelta(seconds=1))  # the worker's next tick
        say(clock.now(), "😶 Aiko's phone is on silent at dinner; nobody acknowledges")

        advance_to(FAULT_AT + timedelta(minutes=19, seconds=10))
        http.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=auth,
                  json={"by": "Lucía Navarro"}).raise_for_status()
        say(clock.now(), "✋ Lucía acknowledges; escalation stops")
        advance_to(FAULT_AT + timedelta(minutes=24))
        http.post(f"/api/v1/incidents/{incident_id}/notes", headers=auth, json={
            "by": "Lucía Navarro",
            "text": "17:40 catalog delta has category/price swapped; holding it and checking the model",
        }).raise_for_status()
        advance_to(FAULT_AT + timedelta(minutes=29))
        http.post(f"/api/v1/incidents/{incident_id}/mitigate", headers=auth, json={
            "by": "Lucía Navarro",
            "note": "storefront on popularity fallback; feed pinned to the 16:40 batch",
        }).raise_for_status()
        say(clock.now(), "🛟 fallback on, feed rolled back to the last good batch: shoppers see sensible items")
        advance_to(FAULT_AT + timedelta(minutes=44))
        http.post("/v2/enqueue", json={
            "routing_key": routing_key, "event_action": "resolve", "dedup_key": "recs-relevance/northwind",
        }).raise_for_status()
        advance_to(clock.now())
        say(clock.now(), "✅ relevance back to 0.67 with the good batch; the monitor resolves the alert")
        advance_to(clock.now() + timedelta(minutes=61))
        say(clock.now(), "🔭 an hour of monitoring without a recurrence: the incident closes")

    with container.db.transaction() as store:
        incident = store.incident(incident_id)
        assert incident is not None
        timeline = store.timeline(incident_id)
    container.db.dispose()
    return DemoResult(incident, timeline, response_figures(incident, timeline), pager.received, url)
