"""Inhibition's lookup, "for each service, the oldest open incident that lists it as affected": its
answers through every status change, and its plan (one probe per service into the partial index of
open rows, never a scan of a service's whole history)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from onduty.adapters.db.batch_store import batch_transactions
from onduty.adapters.db.ingest_sql import IngestSql, pg_binary
from onduty.app.incidents import change_status
from onduty.app.ingest import ingest_events
from onduty.app.ports import Transactions
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent, Decision
from onduty.domain.incidents import OPEN_STATUSES, STATUSES
from tests.integration.alerting_plan import apply_alerting_plan

UPSTREAM = ["catalog-feed", "recs-model"]  # recs-api's chain


@pytest.fixture
def txs(container: Container, tmp_path: Path) -> Transactions:
    apply_alerting_plan(container, tmp_path)
    return batch_transactions(container.db)


def trigger(key: str) -> AlertEvent:
    return AlertEvent("trigger", key, f"{key} fell", "monitor", "error")


def send(txs: Transactions, container: Container, service: str, key: str) -> tuple[Decision, int]:
    result = ingest_events(txs, [(service, trigger(key))], container.clock.now())[0]
    assert result.incident_id is not None
    return result.decision, result.incident_id


def affecting(container: Container, txs: Transactions) -> dict[str, int]:
    """The lookup's answer, the same through the batch store (ingest) and the ORM store."""
    with txs() as batch:
        found = batch.open_incidents_affecting(UPSTREAM)
    with container.db.transaction() as store:
        assert store.open_incidents_affecting(UPSTREAM) == found
    return found


def test_a_resolved_incident_is_not_found_and_a_reopened_one_is_again(txs: Transactions, container: Container) -> None:
    assert affecting(container, txs) == {}
    _, feed = send(txs, container, "catalog-feed", "rows")
    assert affecting(container, txs) == {"catalog-feed": feed}
    change_status(container.db, feed, "resolved", "lucia", container.clock.now())  # on to monitoring
    assert affecting(container, txs) == {}
    decision, other = send(txs, container, "recs-model", "relevance")
    assert decision is Decision.OPEN and other != feed
    assert affecting(container, txs) == {"recs-model": other}
    decision, again = send(txs, container, "catalog-feed", "rows")  # the same key during monitoring: reopened
    assert decision is Decision.REOPEN and again == feed
    assert affecting(container, txs) == {"catalog-feed": feed, "recs-model": other}
    decision, joined = send(txs, container, "recs-api", "errors")
    assert decision is Decision.INHIBIT and joined == other  # the nearest upstream with an open incident


def test_the_oldest_open_incident_is_found(txs: Transactions, container: Container) -> None:
    _, first = send(txs, container, "catalog-feed", "rows")
    _, second = send(txs, container, "catalog-feed", "latency")
    assert first < second
    assert affecting(container, txs) == {"catalog-feed": first}
    change_status(container.db, first, "resolved", "lucia", container.clock.now())
    assert affecting(container, txs) == {"catalog-feed": second}
    decision, joined = send(txs, container, "recs-api", "errors")
    assert decision is Decision.INHIBIT and joined == second


def test_the_open_flag_follows_every_status_through_bulk_updates_and_inserts(
    txs: Transactions, container: Container
) -> None:
    ids = [send(txs, container, "catalog-feed", key)[1] for key in ("a", "b", "c")]
    for status in [*STATUSES, "triggered"]:
        with container.db.engine.begin() as conn:  # one statement for every incident, as a bulk change
            conn.execute(text("UPDATE incidents SET status = :status"), {"status": status})
            conn.execute(text("INSERT INTO incident_services (incident_id, service_id, reason, added_at) "
                              "SELECT id, 'recs-model', 'inhibit', created_at FROM incidents WHERE id = :id"),
                         {"id": ids[0]})
            flags = conn.execute(text("SELECT incident_id, service_id, open FROM incident_services")).all()
            conn.execute(text("DELETE FROM incident_services WHERE service_id = 'recs-model'"))
        assert {(i, s, bool(o)) for i, s, o in flags} == (
            {(i, "catalog-feed", status in OPEN_STATUSES) for i in ids}
            | {(ids[0], "recs-model", status in OPEN_STATUSES)}), status
        assert affecting(container, txs) == ({"catalog-feed": ids[0]} if status in OPEN_STATUSES else {})
    with container.db.engine.begin() as conn:  # one incident at a time: only its rows change
        conn.execute(text("UPDATE incidents SET status = 'mitigated' WHERE id = :id"), {"id": ids[1]})
        conn.execute(text("UPDATE incidents SET status = 'resolved' WHERE id = :id"), {"id": ids[0]})
    assert affecting(container, txs) == {"catalog-feed": ids[1]}
    with container.db.transaction() as store:  # ingest's insert says open; the database corrects it
        IngestSql(store.session.connection(), container.db.is_postgres).add_affected_services(
            [(ids[0], "recs-api", "inhibit"), (ids[1], "recs-api", "inhibit")], container.clock.now())
    with container.db.engine.connect() as conn:
        flags = conn.execute(text("SELECT incident_id, open FROM incident_services WHERE service_id = 'recs-api'"))
        assert {(i, bool(o)) for i, o in flags} == {(ids[0], False), (ids[1], True)}


# -- plans -------------------------------------------------------------------------------------------

def assert_probes_the_open_index(plan: list[str], probes: int) -> None:
    """Each service's probe reads ix_incident_services_open in its order (no sort), and neither the
    history of incident_services nor incidents is read."""
    text_ = "\n".join(plan)
    assert text_.count("ix_incident_services_open") == probes, text_
    assert "ix_incident_services_service_id" not in text_, text_
    for refused in ("Seq Scan", "SCAN s\n", "SCAN incident_services", "Sort", "TEMP B-TREE", " on incidents",
                    " incidents ", "pk_incidents", "INTEGER PRIMARY KEY"):
        assert refused not in text_ + "\n", (refused, text_)


def test_the_lookup_probes_the_index_of_open_rows(txs: Transactions, container: Container) -> None:
    _, feed = send(txs, container, "catalog-feed", "rows")
    send(txs, container, "catalog-feed", "latency")
    change_status(container.db, feed, "resolved", "lucia", container.clock.now())
    postgres = container.db.is_postgres
    with container.db.transaction() as store:
        conn = store.session.connection()
        if postgres:  # the test's few rows would be read whole; a large table is probed instead
            conn.execute(text("SET LOCAL enable_seqscan = off"))
        sql, params = IngestSql(conn, postgres).affecting_query(UPSTREAM)
        if postgres:
            ingest_plan = [r[0] for r in pg_binary(conn, f"EXPLAIN {sql}", params)]
        else:
            ingest_plan = [r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", tuple(params))]
        # The plain store asks the same statement: one plan to hold for both paths.
        answer = store.open_incidents_affecting(UPSTREAM)
        assert answer == IngestSql(conn, postgres).incidents_affecting(UPSTREAM) and "catalog-feed" in answer
    assert_probes_the_open_index(ingest_plan, 1)  # one probe, run once per service (a correlated subquery)
