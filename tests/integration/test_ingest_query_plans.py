"""On SQLite, every lookup ingest makes in the alerts and alert groups goes through an index: a statement
that scanned them instead would cost each ingest transaction as much as the tables hold rows, so an alert
storm (thousands of open alerts) or a long history (every group ever opened) slowed every request."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from onduty.adapters.clock import SimulatedClock
from onduty.adapters.db.batch_store import batch_transactions
from onduty.app.ingest import ingest_events
from onduty.app.ports import Transactions
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent
from tests.conftest import RecordingChannel, worker_container
from tests.integration.alerting_plan import apply_alerting_plan

WATCHED = re.compile(r"\b(FROM|JOIN)\s+(alerts|alert_groups)\b", re.IGNORECASE)
SCAN = re.compile(r"^SCAN (alerts|alert_groups|a|x|g)\b")


@pytest.fixture
def sqlite_container(sqlite_template: Path, tmp_path: Path, clock: SimulatedClock,
                     pager: RecordingChannel) -> Iterator[Container]:
    shutil.copyfile(sqlite_template, tmp_path / "onduty.db")
    yield from worker_container(f"sqlite:///{tmp_path}/onduty.db", clock, pager)


def statements_of(container: Container, txs: Transactions, batches: list[list[AlertEvent]]) -> list[str]:
    """Every SELECT the driver ran while these batches were ingested (one transaction each)."""
    seen: list[str] = []
    container.db.engine.dispose()  # new connections, each traced from its first statement
    event.listen(container.db.engine, "connect", lambda conn, _record: conn.set_trace_callback(seen.append))
    for batch in batches:
        ingest_events(txs, [("recs-model", e) for e in batch], container.clock.now())
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH")) and WATCHED.search(s)]


def scans(container: Container, statements: list[str]) -> list[tuple[str, str]]:
    with container.db.engine.connect() as conn:
        return [(plan[3], sql[:160]) for sql in dict.fromkeys(statements)
                for plan in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).fetchall() if SCAN.match(plan[3])]


def trigger(key: str, group: str | None = None) -> AlertEvent:
    return AlertEvent("trigger", key, "relevance fell", "monitor", "error", group=group)


BATCHES = [
    [trigger("a"), trigger("b", group="g"), trigger("c", group="g")],
    [trigger("a"), trigger("b", group="g"), trigger("d", group="h"), trigger("e")],
]


@pytest.mark.parametrize("store", ["bulk", "orm"])
def test_ingest_looks_up_alerts_and_groups_by_index(sqlite_container: Container, tmp_path: Path, store: str) -> None:
    apply_alerting_plan(sqlite_container, tmp_path)
    txs = batch_transactions(sqlite_container.db) if store == "bulk" else sqlite_container.db.transaction
    statements = statements_of(sqlite_container, txs, BATCHES)
    assert any("alert_groups" in s for s in statements) and any("dedup_key" in s for s in statements)
    assert scans(sqlite_container, statements) == []
