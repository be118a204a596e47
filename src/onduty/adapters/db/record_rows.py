"""Timeline entries and new timers as Core rows: written and read without the ORM's instrumentation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, insert

from onduty.adapters.db import tables as t
from onduty.domain.incidents import TimelineEntry, Timer

ENTRY_COLUMNS = ("incident_id", "at", "kind", "actor", "message", "data")
TIMER_COLUMNS = ("incident_id", "kind", "due_at", "epoch", "level", "loop", "done")


def _insert(session: Any, table: Table, columns: Sequence[str], records: Sequence[Any]) -> None:
    """Insert `records` and give each its new id (one statement, ids in the order of the records)."""
    if not records:
        return
    session.flush()  # rows they point at (a new incident) are written first
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = session.execute(stmt, [{c: getattr(r, c) for c in columns} for r in records]).scalars().all()
    for record, ident in zip(records, ids, strict=True):
        record.id = ident


def insert_entries(session: Any, entries: Sequence[TimelineEntry]) -> None:
    _insert(session, t.timeline, ENTRY_COLUMNS, entries)


def insert_timers(session: Any, timers: Sequence[Timer]) -> None:
    _insert(session, t.timers, TIMER_COLUMNS, timers)


def entries_of(rows: Iterable[Any]) -> list[TimelineEntry]:
    """Timeline rows (selected from `tables.timeline`) as domain entries."""
    return [TimelineEntry(r.at, r.kind, r.message, r.actor, r.data, r.incident_id, r.id) for r in rows]
