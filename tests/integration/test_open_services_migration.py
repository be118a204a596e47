"""Migration 0013 on a database with history: each affected service's row says whether its incident is
open, and the triggers keep it so afterwards (SQLite, and PostgreSQL in a database of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from onduty.adapters.db.database import make_engine
from onduty.adapters.db.migrate import alembic_config, upgrade
from onduty.domain.incidents import OPEN_STATUSES, STATUSES


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database: a new SQLite file, or a PostgreSQL database beside the test one."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/old.db")
        yield engine
        engine.dispose()
        return
    url = make_url(request.getfixturevalue("postgres_url"))
    name = f"{url.database}_m0013"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(url.set(database=name))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def fill(engine: Engine) -> None:
    """A client, two services, and two incidents in every status, each listing both services."""
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, name, time_zone, active) VALUES ('acme', 'Acme', 'UTC', true)"))
        for service in ("feed", "model"):
            conn.execute(text("INSERT INTO services (id, client_id, name, kind, active) "
                              "VALUES (:id, 'acme', :name, 'pipeline', true)"), {"id": service, "name": service})
        for n, status in enumerate(STATUSES * 2, 1):  # every status twice, older and newer
            conn.execute(text(
                "INSERT INTO incidents (id, service_id, client_id, title, severity, status, created_at, "
                "escalation_level, escalation_loop, epoch) "
                "VALUES (:id, 'feed', 'acme', 'rows fell', 2, :status, :at, 0, 0, 0)"),
                {"id": n, "status": status, "at": at})
            for service in ("feed", "model"):
                conn.execute(text("INSERT INTO incident_services (incident_id, service_id, reason, added_at) "
                                  "VALUES (:id, :service, 'origin', :at)"), {"id": n, "service": service, "at": at})


def test_upgrade_marks_the_rows_of_open_incidents_and_the_triggers_follow(blank: Engine) -> None:
    command.upgrade(alembic_config(blank), "0008")
    fill(blank)
    upgrade(blank)

    def flags() -> dict[tuple[int, str], bool]:
        with blank.connect() as conn:
            rows = conn.execute(text("SELECT incident_id, service_id, open FROM incident_services")).all()
        return {(i, s): bool(o) for i, s, o in rows}

    statuses = dict(enumerate(STATUSES * 2, 1))
    assert flags() == {(n, s): statuses[n] in OPEN_STATUSES for n in statuses for s in ("feed", "model")}
    with blank.begin() as conn:  # after the upgrade, the triggers keep the flag
        conn.execute(text("UPDATE incidents SET status = 'resolved' WHERE status = 'triggered'"))
        conn.execute(text("UPDATE incidents SET status = 'triggered' WHERE status = 'monitoring'"))
    statuses = {n: {"triggered": "resolved", "monitoring": "triggered"}.get(s, s) for n, s in statuses.items()}
    assert flags() == {(n, s): statuses[n] in OPEN_STATUSES for n in statuses for s in ("feed", "model")}
    with blank.begin() as conn:
        oldest_open = conn.execute(text(
            "SELECT MIN(incident_id) FROM incident_services s JOIN incidents i ON i.id = s.incident_id "
            "WHERE s.service_id = 'model' AND i.status IN ('triggered', 'acknowledged', 'mitigated')")).scalar_one()
        found = conn.execute(text("SELECT incident_id FROM incident_services WHERE service_id = 'model' AND open "
                                  "ORDER BY incident_id LIMIT 1")).scalar_one()
    assert found == oldest_open == 2  # acknowledged, the oldest still open


def test_downgrade_and_upgrade_again(blank: Engine) -> None:
    upgrade(blank)
    command.downgrade(alembic_config(blank), "0008")
    with blank.connect() as conn:
        assert "open" not in list(conn.execute(text("SELECT * FROM incident_services WHERE 1 = 0")).keys())
    fill(blank)
    with blank.begin() as conn:  # no trigger left behind to write the dropped column
        conn.execute(text("UPDATE incidents SET status = 'resolved' WHERE status = 'triggered'"))
        conn.execute(text("DELETE FROM incident_services WHERE incident_id = 1"))
        conn.execute(text("INSERT INTO incident_services (incident_id, service_id, reason, added_at) "
                          "SELECT id, 'feed', 'origin', created_at FROM incidents WHERE id = 1"))
    upgrade(blank)
    with blank.connect() as conn:
        rows = conn.execute(text("SELECT incident_id, open FROM incident_services WHERE service_id = 'feed' "
                                 "AND incident_id IN (1, 2)")).all()
    assert {(i, bool(o)) for i, o in rows} == {(1, False), (2, True)}
