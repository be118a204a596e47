"""The founding story, replayed on the real engine in simulated time.

A client's product-catalog feed is corrupted on a Friday evening; the recommendation model starts
serving nonsense; the relevance monitor (a detector fed by the shop's metric points) fires; the
engineer who built the model is on vacation, so the rotation pages the next person; that page goes
unanswered and escalates; the incident is acknowledged, the client is told at 25 minutes through the
plan's template and its check, the incident is mitigated, resolved when relevance returns, monitored and
closed. Same code path as `onduty serve`: HTTP app, use cases, worker.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from onduty.adapters.clock import SimulatedClock
from onduty.app.keys import create_api_key, create_integration_key
from onduty.app.plans import apply_plan
from onduty.bootstrap import build
from onduty.config import Settings
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry
from onduty.domain.review import ResponseFigures, response_figures
from onduty.plan.load import load_plan
from onduty.sim.drive import run_until
from onduty.sim.shop import Shop, ShopConfig
from onduty.web.app import create_app

with warnings.catch_warnings():  # the test client's transport warns about a future httpx split
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ZONE = ZoneInfo("America/Chicago")
FAULT_AT = datetime(2026, 11, 20, 17, 40, tzinfo=ZONE)  # a Friday evening in Chicago
CLIENT_TOLD_AFTER = timedelta(minutes=25)  # the story's first client notice, counted from the fault
INITIAL_NOTICE = {
    "what_is_known": "Since 17:40 the recommendations on your storefront have not matched what shoppers are "
                     "viewing. The 17:40 product-catalog refresh arrived with categories mixed up between "
                     "products, and the model is serving from it.",
    "what_is_being_done": "We are pinning the catalog feed to the last good batch (17:25) so the model serves "
                          "from the good catalog again, then confirming that relevance recovers.",
}
STORY = {"time_to_detect": "4 h", "time_to_engage": "45 min", "time_to_acknowledge": "—",
         "time_to_resolve": "—", "duration": "7 h"}


def find_sample_plan() -> Path:
    """examples/agency/onduty.yaml from the working directory or from the source checkout."""
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        candidate = base / "examples" / "agency" / "onduty.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("examples/agency/onduty.yaml not found; run from the onduty checkout or pass --plan")


def replay_settings(database_url: str) -> Settings:
    """Settings for replaying simulated hours in seconds: faster than any real sender, so the ingest
    limits (per key and per client) are lifted."""
    lifted = 1e9
    return Settings(database_url=database_url, ingest_rate_per_key=lifted, ingest_burst_per_key=lifted,
                    ingest_rate_per_client=lifted, ingest_burst_per_client=lifted)


@dataclass
class SimulatedPager:
    """Stands in for phones and inboxes: every page is delivered and shown as it happens."""

    say: Callable[[datetime, str], None]
    received: list[OutboxMessage] = field(default_factory=list)

    def send(self, message: OutboxMessage, now: datetime) -> str:
        self.received.append(message)
        body = message.payload["body"]
        who = (body.get("person") or body.get("recipient") or {}).get("name", message.person_id)
        audience = (body.get("recipient") or {}).get("audience")
        what = ("client notice" if audience == "client" else "copy of the client notice" if audience
                else "notification" if body.get("notification") else "post" if "person" not in body else "page")
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
    clock = SimulatedClock(FAULT_AT - timedelta(hours=2))
    pager = SimulatedPager(say)
    channels = {kind: pager for kind in ("webhook", "email", "sms", "slack", "console")}
    container = build(replay_settings(url), clock=clock, channels=channels)
    plan_path = plan_path or find_sample_plan()
    apply_plan(container.db, load_plan(plan_path), str(plan_path), clock.now())
    metrics_auth = {"Authorization": f"Bearer {create_integration_key(container.db, 'recs-model', clock.now())}"}
    api_key = create_api_key(container.db, "responder", None, clock.now())
    auth = {"Authorization": f"Bearer {api_key}"}

    def advance_to(target: datetime) -> None:
        run_until(container, clock, target)

    shop = Shop(ShopConfig(seed=20))
    sent = [clock.now()]

    def send_minutes(until: datetime) -> list[dict[str, Any]]:
        """The shop's exporter: a batch of per-minute counts up to `until`; the detectors' answers."""
        minutes = np.arange(sent[0].timestamp(), until.timestamp(), 60.0)
        counts = shop.minutes(minutes)
        points = [{"service": "recs-model", "name": name, "ts": float(ts), "value": float(v)}
                  for name, values in counts.items() for ts, v in zip(minutes, values, strict=True)]
        advance_to(until)
        sent[0] = until
        response = http.post("/api/v1/metrics", headers=metrics_auth, json={"points": points})
        response.raise_for_status()
        return [d for d in response.json()["detectors"] if d["action"]]

    def minute_by_minute(until: datetime, stop_on: str | None = None) -> dict[str, Any] | None:
        """Post each minute (every five while nothing is awaited) up to `until`, or to a change."""
        step = timedelta(minutes=1 if stop_on else 5)
        while sent[0] < until:
            for change in send_minutes(min(sent[0] + step, until)):
                if change["detector"] == "relevance" and change["action"] == stop_on:
                    return change
        return None

    with TestClient(create_app(container)) as http:
        say(clock.now(), "📈 the shop's exporter posts sessions, orders and recommendation counts every minute")
        while sent[0] < FAULT_AT:
            send_minutes(min(sent[0] + timedelta(minutes=30), FAULT_AT))
        say(FAULT_AT, f"📊 relevance monitor has learnt its baseline: {shop.relevance():.2f} of recommendations "
                      "match what the shopper is viewing")
        shop.corrupt()
        say(FAULT_AT, "💥 Northwind's catalog refresh lands with the category column scrambled between products")
        fired = minute_by_minute(FAULT_AT + timedelta(minutes=15), stop_on="fire")
        if fired is None:
            raise RuntimeError("the relevance monitor did not fire; is it in the plan (services[].detectors)?")
        incident_id = fired["incident_id"]
        alert = http.get(f"/api/v1/incidents/{incident_id}", headers=auth).json()["alerts"][0]
        evidence = alert["custom_details"]["evidence"]
        say(clock.now(), f"🚨 relevance monitor fires: {evidence['window']['rate']:.2f} vs baseline "
                         f"{evidence['baseline']:.2f} (CUSUM {evidence['statistic']:.0f} > {evidence['threshold']:.1f})"
                         f"; incident #{incident_id} opened")
        advance_to(clock.now() + timedelta(seconds=1))  # the worker's next tick
        say(clock.now(), "😶 Aiko's phone is on silent at dinner; nobody acknowledges")

        minute_by_minute(FAULT_AT + timedelta(minutes=19))
        advance_to(FAULT_AT + timedelta(minutes=19, seconds=10))
        http.post(f"/api/v1/incidents/{incident_id}/acknowledge", headers=auth,
                  json={"by": "Lucía Navarro"}).raise_for_status()
        say(clock.now(), "✋ Lucía acknowledges; escalation stops")
        minute_by_minute(FAULT_AT + timedelta(minutes=24))
        http.post(f"/api/v1/incidents/{incident_id}/notes", headers=auth, json={
            "by": "Lucía Navarro",
            "text": "17:40 catalog refresh has categories scrambled between products; holding it",
        }).raise_for_status()
        minute_by_minute(FAULT_AT + CLIENT_TOLD_AFTER)
        notice = http.post(f"/api/v1/incidents/{incident_id}/communications", headers=auth, json={
            "kind": "initial", "fields": INITIAL_NOTICE, "by": "Maria Costa"})
        if notice.status_code != 200:
            raise RuntimeError(f"the demo's initial client notice was refused: {notice.text}")
        say(clock.now(), f"✉️ Maria tells Northwind: {notice.json()['subject']}")
        minute_by_minute(FAULT_AT + timedelta(minutes=29))
        http.post(f"/api/v1/incidents/{incident_id}/mitigate", headers=auth, json={
            "by": "Lucía Navarro",
            "note": "feed pinned to the 17:25 batch; the model serves from the good catalog again",
        }).raise_for_status()
        shop.restore()
        say(clock.now(), "🛟 feed rolled back to the last good batch: shoppers see sensible items")
        if minute_by_minute(FAULT_AT + timedelta(minutes=60), stop_on="resolve") is not None:
            say(clock.now(), f"✅ relevance back to {shop.relevance():.2f}; the monitor resolves its alert")
        advance_to(clock.now() + timedelta(minutes=61))
        say(clock.now(), "🔭 an hour of monitoring without a recurrence: the incident closes")

    with container.db.transaction() as store:
        incident = store.incident(incident_id)
        assert incident is not None
        timeline = store.timeline(incident_id)
    container.db.dispose()
    return DemoResult(incident, timeline, response_figures(incident, timeline), pager.received, url)
