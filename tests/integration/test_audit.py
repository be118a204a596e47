"""The audit trail: the timeline and admin actions are append-only (the database refuses UPDATE and
DELETE), the worker seals them into per-client hash chains, and `onduty audit verify` names a changed
or a deleted row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from onduty.adapters.clock import SimulatedClock
from onduty.app.audit import seal_audit, verify_audit
from onduty.app.keys import create_api_key, revoke_api_key
from onduty.app.schedules import OverrideRequest, create_override
from onduty.app.silences import create_silence
from onduty.bootstrap import Container
from onduty.cli import app
from tests.integration.test_escalation import trigger


@contextmanager
def bypassing_triggers(c: Container) -> Iterator[Connection]:
    """What an intruder with database access could do: write around the append-only triggers."""
    with c.db.engine.connect() as conn:
        if c.db.is_postgres:
            conn.execute(text("SET session_replication_role = replica"))
        else:
            for verb in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER timeline_entries_no_{verb}"))
        yield conn
        if c.db.is_postgres:
            conn.execute(text("SET session_replication_role = origin"))
        conn.commit()


def test_the_database_refuses_to_change_or_delete_timeline_rows(planned: Container) -> None:
    trigger(planned)
    for statement in ("UPDATE timeline_entries SET message = 'nothing happened'", "DELETE FROM timeline_entries"):
        with pytest.raises(DBAPIError, match="append-only"), planned.db.engine.begin() as conn:
            conn.execute(text(statement))


def test_admin_actions_are_logged_and_chained_per_client(planned: Container, clock: SimulatedClock) -> None:
    now = clock.now()
    key = create_api_key(planned.db, "viewer", "northwind", now, actor="ops")
    revoke_api_key(planned.db, key[:12], "ops", now)
    create_silence(planned.db, ['alertname="Drift"'], now, now + timedelta(hours=1), "ops", "retraining",
                   now, service_id="recs-model")
    create_override(planned.db, OverrideRequest("ml-primary", "tomas", now + timedelta(hours=1),
                                                now + timedelta(hours=2)), "ops", now)
    trigger(planned)
    planned.worker.run_once(now)
    assert seal_audit(planned.db, now) == 0  # the worker's tick sealed everything already
    counts, findings, unsealed = verify_audit(planned.db)
    assert findings == [] and unsealed == 0
    assert counts["*"] >= 2  # plan applied, the override
    with planned.db.engine.connect() as conn:
        actions = [r.action for r in conn.execute(text("SELECT action FROM admin_actions ORDER BY id"))]
    assert actions == ["plan.applied", "api_key.created", "api_key.revoked", "silence.created", "override.created"]
    assert counts["northwind"] > len(actions) - 2  # keys and silence, plus the incident's timeline


def test_verify_names_a_changed_row_and_a_deleted_row(planned: Container, clock: SimulatedClock) -> None:
    first, second = trigger(planned, key="a"), trigger(planned, key="b")
    planned.worker.run_once(clock.now())
    seal_audit(planned.db, clock.now())
    assert verify_audit(planned.db)[1] == []
    with bypassing_triggers(planned) as conn:
        changed = conn.scalar(text(f"SELECT min(id) FROM timeline_entries WHERE incident_id = {first}"))
        deleted = conn.scalar(text(f"SELECT max(id) FROM timeline_entries WHERE incident_id = {second}"))
        conn.execute(text(f"UPDATE timeline_entries SET message = 'all quiet' WHERE id = {changed}"))
        conn.execute(text(f"DELETE FROM timeline_entries WHERE id = {deleted}"))
    _, findings, _ = verify_audit(planned.db, "northwind")
    assert {(f.row_id, f.problem) for f in findings} == {(changed, "changed"), (deleted, "deleted")}
    assert f"timeline row {changed}" in findings[0].describe() + findings[1].describe()
    result = CliRunner().invoke(app, ["audit", "verify", "--client", "northwind", "--json"],
                                env={"ONDUTY_DATABASE_URL": planned.settings.database_url, "COLUMNS": "200"})
    assert result.exit_code == 1
    assert f"timeline row {deleted}" in result.stdout and "was deleted after it was sealed" in result.stdout


def _timeline_row(c: Container, row_id: int, incident_id: int, clock: SimulatedClock) -> None:
    """A timeline row with a chosen id, as a transaction that took its id early and committed late leaves it."""
    with c.db.engine.begin() as conn:
        conn.execute(text("INSERT INTO timeline_entries (id, incident_id, at, kind, actor, message, data) "
                          "VALUES (:id, :incident, :at, 'note', 'ops', 'late', '{}')"),
                     {"id": row_id, "incident": incident_id, "at": clock.now()})


# Only PostgreSQL hands out ids before the commit; SQLite's one writer takes the next id as it inserts.
@pytest.mark.parametrize("database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_row_committed_below_the_newest_seal_is_sealed_too(planned: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(planned)
    planned.worker.run_once(clock.now())
    with planned.db.engine.connect() as conn:
        top = int(conn.execute(text("SELECT max(id) FROM timeline_entries")).scalar_one())
    _timeline_row(planned, top + 10, incident_id, clock)
    assert seal_audit(planned.db, clock.now()) == 1
    _timeline_row(planned, top + 5, incident_id, clock)  # committed after a newer row was sealed
    assert seal_audit(planned.db, clock.now()) == 1
    _counts, findings, unsealed = verify_audit(planned.db)
    assert findings == [] and unsealed == 0


def test_sealing_a_batch_at_a_time_continues_each_chain(planned: Container, clock: SimulatedClock) -> None:
    trigger(planned, key="a")
    trigger(planned, key="b")
    before = verify_audit(planned.db)[2]
    first = seal_audit(planned.db, clock.now(), batch=2, max_batches=1)  # two rows of each source at most
    _counts, findings, unsealed = verify_audit(planned.db)
    assert findings == [] and 0 < first <= 4 and unsealed == before - first > 0
    assert seal_audit(planned.db, clock.now(), batch=2) == unsealed
    _counts, findings, unsealed = verify_audit(planned.db)
    assert findings == [] and unsealed == 0


def test_each_chain_head_is_its_newest_seal(planned: Container, clock: SimulatedClock) -> None:
    now = clock.now()
    create_api_key(planned.db, "viewer", None, now, actor="ops")  # the organization's chain
    create_api_key(planned.db, "viewer", "northwind", now, actor="ops")
    trigger(planned, key="a")
    trigger(planned, key="b")
    seal_audit(planned.db, now, batch=1)  # a row of each source per transaction: each chain grows by steps
    with planned.db.transaction() as store:
        chains = store.audit_chains()
        heads = store.chain_heads([*chains, "no-such-client"])
        seals = {chain: store.seals(chain) for chain in chains}
    assert len(chains) >= 2
    assert heads == {chain: (found[-1].seq, found[-1].chain_hash) for chain, found in seals.items()}
    assert max(seq for seq, _hash in heads.values()) > 1  # the newest seal, not the first


def _rows_read(plan: dict[str, Any]) -> int:
    """The most rows any node of a PostgreSQL plan (EXPLAIN ANALYZE, JSON) produced."""
    return max([int(plan.get("Actual Rows", 0)), *(_rows_read(child) for child in plan.get("Plans", []))])


def test_newest_seal_is_one_index_probe_with_stale_statistics(planned: Container, clock: SimulatedClock) -> None:
    create_api_key(planned.db, "viewer", None, clock.now(), actor="ops")
    seal_audit(planned.db, clock.now())  # an admin action's seal: no timeline seal yet
    with planned.db.engine.begin() as conn:  # statistics taken then, and 3,000 timeline seals after them
        conn.execute(text("ANALYZE audit_seals"))
        conn.execute(text("INSERT INTO audit_seals (chain, seq, source, row_id, chain_hash, sealed_at) "
                          "VALUES ('probe', :n, 'timeline', :row, 'x', :at)"),
                     [{"n": n, "row": 100_000 + n, "at": clock.now()} for n in range(1, 3001)])
    ran: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        ran.append((statement, parameters))

    event.listen(planned.db.engine, "before_cursor_execute", record)
    try:
        with planned.db.transaction() as store:
            newest = store.newest_sealed_id("timeline")
    finally:
        event.remove(planned.db.engine, "before_cursor_execute", record)
    assert newest == 103_000
    (statement, parameters), = [(s, p) for s, p in ran if "audit_seals" in s]
    with planned.db.engine.connect() as conn:
        if planned.db.is_postgres:
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar_one()
            assert _rows_read(plan[0]["Plan"]) == 1  # max() read all 3,000 here
        else:
            steps = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            assert any("USING COVERING INDEX uq_audit_seals_source_row" in s for s in steps), steps
