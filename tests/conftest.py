"""Shared fixtures: a database on SQLite (always) and PostgreSQL (when configured), a simulated clock."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from onduty.adapters.clock import SimulatedClock
from onduty.adapters.db.database import make_engine
from onduty.adapters.db.migrate import upgrade
from onduty.adapters.db.tables import metadata
from onduty.app import accounts
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


FILLED_TABLES = " UNION ALL ".join(
    f"SELECT '{table.name}' WHERE EXISTS (SELECT 1 FROM \"{table.name}\")" for table in metadata.sorted_tables
)
USED_SEQUENCES = "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"


def _empty_postgres(engine: Engine) -> None:
    """Every table emptied and every sequence started over, as TRUNCATE … RESTART IDENTITY would, but
    only where a test wrote: truncating all the tables costs over half a second, deleting a few rows
    a few milliseconds. Replica mode lets the DELETEs past the append-only triggers and the foreign keys."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in conn.execute(text(FILLED_TABLES)).scalars().all():
            conn.execute(text(f'DELETE FROM "{name}"'))
        for name in conn.execute(text(USED_SEQUENCES)).scalars().all():
            conn.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("ONDUTY_TEST_POSTGRES_URL is not set in CI; .ci/run must set it")
        pytest.skip("PostgreSQL tests need ONDUTY_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1/test)")
    return POSTGRES_URL


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """The PostgreSQL test database, migrated once for the session, and an engine to empty it between tests."""
    engine = create_engine(postgres_url, pool_pre_ping=True)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once for the session: copying it costs a millisecond, migrating ~150 ms."""
    path = tmp_path_factory.mktemp("template") / "onduty.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    with closing(sqlite3.connect(path)) as conn:  # everything in the file itself, none left in its log
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for leftover in (path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
        leftover.unlink(missing_ok=True)
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a fresh SQLite file (a copy of the session's migrated one), or the
    PostgreSQL test database emptied."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, tmp_path / "onduty.db")
        return f"sqlite:///{tmp_path}/onduty.db"
    _empty_postgres(request.getfixturevalue("postgres_engine"))
    url: str = request.getfixturevalue("postgres_url")
    return url


PRODUCT_PASSWORD_HASHER = accounts._hasher


@pytest.fixture(autouse=True, scope="session")
def quick_password_hashes() -> Iterator[None]:
    """Passwords hashed in this process with argon2id at its smallest costs: at the product's (64 MiB,
    three passes, four lanes) every console test's sign-ins took most of its time. Processes the tests
    start keep the product's costs, and `product_password_hasher` gives them back to a test that checks them."""
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    accounts._hasher = PRODUCT_PASSWORD_HASHER


@pytest.fixture
def product_password_hasher(monkeypatch: pytest.MonkeyPatch) -> PasswordHasher:
    """The product's own argon2 costs, for this test only."""
    monkeypatch.setattr(accounts, "_hasher", PRODUCT_PASSWORD_HASHER)
    return PRODUCT_PASSWORD_HASHER


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
