"""Shared fixtures: a database on SQLite (always) and PostgreSQL (when configured), a simulated clock."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from onduty.adapters.clock import SimulatedClock
from onduty.adapters.db.tables import metadata
from onduty.app.ports import DeliveryError
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.domain.incidents import OutboxMessage
from onduty.sim.drive import run_until

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PLAN = ROOT / "examples" / "agency" / "onduty.yaml"
# Friday 2026-11-20 17:40 in Chicago: Priya (ml-primary's owner that week) is on vacation.
STORY_START = datetime(2026, 11, 20, 17, 40, tzinfo=ZoneInfo("America/Chicago"))
POSTGRES_URL = os.environ.get("ONDUTY_TEST_POSTGRES_URL")


@dataclass
class RecordingChannel:
    """A channel that records every page; set `fail_with` to make it refuse."""

    sent: list[OutboxMessage] = field(default_factory=list)
    fail_with: DeliveryError | None = None
    fail_only: set[str] = field(default_factory=set)  # channels that fail; empty means all
    attempts: int = 0

    def send(self, message: OutboxMessage, now: datetime) -> str:
        self.attempts += 1
        if self.fail_with is not None and (not self.fail_only or message.channel in self.fail_only):
            raise self.fail_with
        self.sent.append(message)
        return "recorded"

    def people(self) -> list[str]:
        """Who the escalation paged (not all-hands pages, notifications, reminders or channel posts)."""
        return [m.person_id for m in self.sent if m.idempotency_key.startswith("page:")]

    def everyone(self) -> list[str]:
        """Every recipient of every message, in order."""
        return [m.person_id for m in self.sent]


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("ONDUTY_TEST_POSTGRES_URL is not set in CI; .ci/run must set it")
        pytest.skip("PostgreSQL tests need ONDUTY_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file, or the PostgreSQL test database truncated."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/onduty.db"
    url: str = request.getfixturevalue("postgres_url")
    build(Settings(database_url=url)).db.dispose()  # migrate once (no-op when current)
    _reset_postgres(url)
    return url


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(STORY_START)


@pytest.fixture
def pager() -> RecordingChannel:
    return RecordingChannel()


def worker_container(database_url: str, clock: SimulatedClock, pager: RecordingChannel) -> Iterator[Container]:
    """A container whose channels all record into `pager`: one process of the product, disposed after."""
    c = build(Settings(database_url=database_url, delivery_threads=1), clock=clock,
              channels={kind: pager for kind in ("webhook", "email", "sms", "console")})
    yield c
    c.db.dispose()


@pytest.fixture
def container(database_url: str, clock: SimulatedClock, pager: RecordingChannel) -> Iterator[Container]:
    yield from worker_container(database_url, clock, pager)


@pytest.fixture
def planned(container: Container) -> Container:
    """A container with the sample agency plan applied."""
    from onduty.app.plans import apply_plan
    from onduty.plan.load import load_plan

    apply_plan(container.db, load_plan(SAMPLE_PLAN), str(SAMPLE_PLAN), container.clock.now())
    return container


def advance(container: Container, clock: SimulatedClock, delta: timedelta) -> None:
    """Move simulated time forward by `delta`, ticking the worker at every due timer on the way."""
    run_until(container, clock, clock.now() + delta)
