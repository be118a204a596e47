"""Rows written in bulk on SQLite carry times exactly as the driver's own datetime adapter writes them,
so rows written in bulk and rows written through the ORM compare and sort alike."""

from __future__ import annotations

import sqlite3
import warnings
from datetime import UTC, datetime, timedelta, timezone

import pytest

from onduty.adapters.db.batch_store import _sqlite_stamp


@pytest.mark.parametrize("value", [
    datetime(2026, 12, 5, 3, 8, 53, 812334, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds: the adapter leaves them out
    datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 1, 1, 5, 0, 0, 5, tzinfo=timezone(timedelta(hours=-3))),
])
def test_bulk_time_is_the_text_the_driver_writes(value: datetime) -> None:
    with warnings.catch_warnings(), sqlite3.connect(":memory:") as db:
        warnings.simplefilter("ignore", DeprecationWarning)  # the default adapter is deprecated, still used
        written = db.execute("SELECT ?", (value.astimezone(UTC).replace(tzinfo=None),)).fetchone()[0]
    assert _sqlite_stamp(value) == written
    assert _sqlite_stamp(value) == written  # the second time from the one-entry memo


def test_bulk_time_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        _sqlite_stamp(datetime(2026, 1, 1))
