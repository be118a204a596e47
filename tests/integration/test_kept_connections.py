"""A thread that commits many times a second (an ingest writer) keeps its connection between
transactions, on PostgreSQL and SQLite files alike: its commits are real, a failed transaction gives
the connection back, and `release_kept` returns it to the pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from onduty.adapters.db.tables import changes
from onduty.bootstrap import Container


def raw_connection(store: Any) -> Any:
    return store.session.connection().connection.dbapi_connection


def count(container: Container) -> int:
    with container.db.engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM changes")).scalar_one())


def record(store: Any) -> None:
    at = datetime(2026, 12, 5, 3, tzinfo=UTC)
    store.session.execute(changes.insert().values(service_id="recs-model", summary="deploy", source="ci",
                                                  occurred_at=at, received_at=at, details={}, links=[]))


@contextmanager
def checkouts(db: Any) -> Iterator[list[int]]:
    """Count the pool checkouts made inside the block."""
    counted: list[int] = []

    def count_one(*_: Any) -> None:
        counted.append(1)

    event.listen(db.engine, "checkout", count_one)
    try:
        yield counted
    finally:
        event.remove(db.engine, "checkout", count_one)


def test_a_kept_connection_serves_the_next_transaction_and_its_commits_are_visible(planned: Container) -> None:
    db = planned.db
    before = count(planned)
    with db.transaction(keep=True) as store:
        first = raw_connection(store)
        record(store)
    with checkouts(db) as taken, db.transaction(keep=True) as store:
        assert raw_connection(store) is first
        record(store)
    assert taken == []  # the second transaction took nothing from the pool
    assert count(planned) == before + 2  # seen from another connection: both committed
    db.release_kept()
    with db.transaction(keep=True) as store:
        raw_connection(store)  # a fresh checkout works after the release


def test_a_failed_transaction_rolls_back_and_gives_its_kept_connection_back(planned: Container) -> None:
    db = planned.db
    before = count(planned)
    with db.transaction(keep=True) as store:
        pass  # this thread now keeps a connection
    with pytest.raises(RuntimeError), db.transaction(keep=True) as store:
        record(store)
        raise RuntimeError("the batch failed")
    assert count(planned) == before
    with checkouts(db) as taken, db.transaction(keep=True) as store:
        record(store)
    assert taken == [1]  # the failed transaction gave its connection back: this one came from the pool
    assert count(planned) == before + 1
    db.release_kept()
