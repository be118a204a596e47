"""The founding story, measured: weeks of clean shop traffic, then the catalog's category column is
scrambled; metric points go to the plan's detectors over `POST /api/v1/metrics`, feed batches to any
feed checks given, and alerts through the real pipeline into incidents and pages, in simulated time.

Reports, per detector, the time from the corruption to its first alert, and the false alarms and
pages over the clean days. A feed check plugs in as one callable: `(batch, previous) -> evidence or None`
(`catalog_feed_check()` wraps onduty's own).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from onduty.adapters.clock import SimulatedClock
from onduty.app.keys import create_integration_key
from onduty.app.plans import apply_plan
from onduty.app.ports import AlertFilter
from onduty.bootstrap import build
from onduty.detect import feeds
from onduty.domain.incidents import OutboxMessage
from onduty.plan.load import load_plan
from onduty.sim.demo import find_sample_plan, replay_settings
from onduty.sim.drive import run_until
from onduty.sim.shop import Batch, Shop, ShopConfig
from onduty.web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

FeedCheck = Callable[[Batch, Batch | None], Mapping[str, Any] | None]
FEED_EVERY = timedelta(minutes=15)
SERVICE = "recs-model"
FEED_SERVICE = "catalog-feed"


@dataclass(frozen=True)
class StoryConfig:
    clean_days: float = 30.0
    after_fault: timedelta = timedelta(hours=8)
    start: datetime = datetime(2026, 10, 19, 6, 0, tzinfo=UTC)  # a Monday, midnight in Chicago
    shop: ShopConfig = field(default_factory=ShopConfig)
    clean_post_every: timedelta = timedelta(hours=1)  # metric batches before the fault's day
    close_post_every: timedelta = timedelta(minutes=1)  # and around the fault


@dataclass
class Pager:
    sent: list[tuple[datetime, OutboxMessage]] = field(default_factory=list)

    def send(self, message: OutboxMessage, now: datetime) -> str:
        self.sent.append((now, message))
        return "recorded (simulated)"


@dataclass(frozen=True)
class StoryReport:
    fault_at: datetime
    clean_days: float
    first_alert_minutes: dict[str, float | None]  # detector → minutes from corruption to its first alert
    false_alarms: dict[str, int]  # detector → alerts raised before the corruption
    false_pages: int
    pages_after_fault: int
    incidents: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"fault_at": self.fault_at.isoformat(), "clean_days": self.clean_days,
                "first_alert_minutes": self.first_alert_minutes, "false_alarms": self.false_alarms,
                "false_pages": self.false_pages, "pages_after_fault": self.pages_after_fault,
                "incidents": self.incidents}


def catalog_feed_check(config: feeds.FeedConfig | None = None) -> FeedCheck:
    """The feed check of `onduty.detect.feeds` as a story callable: the first batch is the reference;
    each later one is checked against it and the last accepted snapshot (keyed churn, category x brand
    pairs). A quarantined batch's verdict is the evidence."""
    cfg = config or feeds.FeedConfig(key="product_id", attributes=("category", "brand", "price"),
                                     pairs=(("category", "brand"),))
    held: dict[str, Any] = {}

    def check(batch: Batch, previous: Batch | None) -> Mapping[str, Any] | None:
        if "reference" not in held:
            held["reference"] = feeds.reference_profile(batch, cfg)
        verdict = feeds.check(held["reference"], batch, held.get("snapshot"), cfg, workers=1)
        if verdict.accepted:
            held["snapshot"] = verdict.snapshot
            return None
        return verdict.as_dict()

    return check


def fault_time(config: StoryConfig) -> datetime:
    """A seeded moment on the day after the clean days, on a feed refresh (every 15 minutes)."""
    rng = np.random.default_rng(config.shop.seed + 1)
    offset = timedelta(days=config.clean_days) + timedelta(minutes=15 * int(rng.integers(0, 96)))
    return config.start + offset


def _posts(config: StoryConfig, fault_at: datetime) -> list[datetime]:
    """When metric batches are posted: hourly through the clean days, each minute from 2 h before the fault."""
    close_from = fault_at - timedelta(hours=2)
    times, t = [], config.start + config.clean_post_every
    while t < close_from:
        times.append(t)
        t += config.clean_post_every
    t = max(close_from, config.start + config.close_post_every)
    while t <= fault_at + config.after_fault:
        times.append(t)
        t += config.close_post_every
    return times


def _points(counts: dict[str, np.ndarray], minutes: np.ndarray) -> list[dict[str, Any]]:
    return [{"service": SERVICE, "name": name, "ts": float(ts), "value": float(v)}
            for name, values in counts.items() for ts, v in zip(minutes, values, strict=True)]


def run_story(config: StoryConfig = StoryConfig(), feed_checks: Sequence[tuple[str, FeedCheck]] = (),
              plan_path: Path | None = None, progress: Callable[[float], None] | None = None) -> StoryReport:
    """Run the story on a throwaway SQLite database; `feed_checks` are (name, check) pairs."""
    fault_at = fault_time(config)
    shop = Shop(config.shop)
    clock = SimulatedClock(config.start)
    pager = Pager()
    workdir = tempfile.mkdtemp(prefix="onduty-story-")
    container = build(replay_settings(f"sqlite:///{workdir}/story.db"), clock=clock,
                      channels={kind: pager for kind in ("webhook", "email", "sms", "slack", "console")})
    plan_path = plan_path or find_sample_plan()
    apply_plan(container.db, load_plan(plan_path), str(plan_path), clock.now())
    metrics_key = {"Authorization": f"Bearer {create_integration_key(container.db, SERVICE, clock.now())}"}
    feed_key = {"Authorization": f"Bearer {create_integration_key(container.db, FEED_SERVICE, clock.now())}"}
    next_feed, previous = config.start, None
    sent_until = config.start
    failing: set[str] = set()
    posts = _posts(config, fault_at)
    with TestClient(create_app(container)) as http:
        for n, at in enumerate(posts):
            while feed_checks and next_feed <= at:  # catalog refreshes up to now
                run_until(container, clock, next_feed)
                if next_feed >= fault_at and not shop.corrupted:
                    shop.corrupt()
                batch = shop.catalog_batch()
                for name, check in feed_checks:
                    evidence = check(batch, previous)
                    if evidence is not None or name in failing:  # a passing batch resolves a failing check
                        _feed_alert(http, feed_key, name, evidence, next_feed)
                    failing.discard(name) if evidence is None else failing.add(name)
                previous, next_feed = batch, next_feed + FEED_EVERY
            if not feed_checks and at > fault_at and not shop.corrupted:
                shop.corrupt()
            minutes = np.arange(sent_until.timestamp(), at.timestamp(), 60.0)
            if shop.corrupted or at <= fault_at:
                counts = shop.minutes(minutes)
            else:  # the batch spans the corruption: minutes before it are clean
                cut = int((fault_at - sent_until).total_seconds() // 60)
                before = shop.minutes(minutes[:cut])
                shop.corrupt()
                after = shop.minutes(minutes[cut:])
                counts = {k: np.concatenate([before[k], after[k]]) for k in before}
            run_until(container, clock, at)
            response = http.post("/api/v1/metrics", headers=metrics_key, json={"points": _points(counts, minutes)})
            response.raise_for_status()
            sent_until = at
            if progress is not None and n % 24 == 0:
                progress(n / len(posts))
        run_until(container, clock, fault_at + config.after_fault)
    report = _report(container, config, fault_at, pager, [name for name, _ in feed_checks])
    container.db.dispose()
    return report


def _feed_alert(http: TestClient, key: dict[str, str], name: str, evidence: Mapping[str, Any] | None,
                at: datetime) -> None:
    """A failing batch raises an alert on the feed's service; a passing one resolves it."""
    body: dict[str, Any] = {"key": f"feed-check/{name}", "occurred_at": at.isoformat(), "source": f"feed check {name}"}
    if evidence is None:
        body["action"] = "resolve"
    else:
        body.update(summary=f"Catalog batch failed the {name} check", severity="critical",
                    details={"evidence": dict(evidence)})
    http.post("/api/v1/alerts", headers=key, json=body).raise_for_status()


def _report(container: Any, config: StoryConfig, fault_at: datetime, pager: Pager,
            feed_names: list[str]) -> StoryReport:
    with container.db.transaction() as store:
        alerts = store.alerts(AlertFilter(limit=10_000))
        spec_ids = [d.id for specs in store.directory().detectors.values() for d in specs]
        incidents = [{"id": i.id, "service": i.service_id, "title": i.title, "severity": int(i.severity),
                      "created_at": i.created_at.isoformat(), "status": i.status}
                     for i in store.incidents(_all_incidents())]
    names = {f"detector/{d}": d for d in spec_ids} | {f"feed-check/{n}": n for n in feed_names}
    first: dict[str, float | None] = {}
    false: dict[str, int] = {}
    for key, name in names.items():
        mine = [a for a in alerts if a.dedup_key.split("/page")[0].split("/ticket")[0] == key]
        before = [a for a in mine if a.created_at < fault_at]
        after = sorted(a.created_at for a in mine if a.created_at >= fault_at)
        if not mine and name not in ("relevance", "conversion") and name not in feed_names:
            continue
        false[name] = len(before)
        first[name] = round((after[0] - fault_at).total_seconds() / 60.0, 1) if after else None
    return StoryReport(fault_at, config.clean_days, first, false,
                       sum(1 for at, _ in pager.sent if at < fault_at),
                       sum(1 for at, _ in pager.sent if at >= fault_at), incidents)


def _all_incidents() -> Any:
    from onduty.app.ports import IncidentFilter

    return IncidentFilter(limit=1000)
