"""Rows written in bulk on SQLite carry times exactly as SQLAlchemy writes them through the column type,
so rows written in bulk and rows written through the ORM or Core compare and sort alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, text

from onduty.adapters.db.batch_store import _sqlite_stamp
from onduty.adapters.db.tables import UTCDateTime


def _as_core_writes(value: datetime) -> str:
    engine = create_engine("sqlite://")
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert().values(at=value))
        written: str = connection.execute(text("SELECT at FROM t")).scalar_one()
    engine.dispose()
    return written


@pytest.mark.parametrize("value", [
    datetime(2026, 12, 5, 3, 8, 53, 812334, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds: still written with ".000000"
    datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 1, 1, 5, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3))),
])
def test_bulk_time_is_the_text_sqlalchemy_writes(value: datetime) -> None:
    written = _as_core_writes(value)
    assert _sqlite_stamp(value) == written
    assert _sqlite_stamp(value) == written  # the second time from the one-entry memo


def test_bulk_time_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        _sqlite_stamp(datetime(2026, 1, 1))
