"""A Store for the ingest path that writes new incidents, timers and timeline entries in bulk.

The ORM flushes one object at a time (about a quarter of a millisecond each); a batch of events opens
many incidents, so here they are buffered and written with one executemany per table on SQLite, and
on PostgreSQL with one INSERT from a JSON document per table, all in one pipeline. Incident ids are
reserved up front (max + 1 under SQLite's write lock; from the sequence on PostgreSQL, a round's worth
at once) so timers and timeline entries can point at them before they are written. Every read, and
every other write, first writes what is buffered, so the Store behaves exactly as the plain one. The reads every ingest
transaction makes (silences, groups, statuses, monitoring incidents) go to the driver (ingest_sql.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError

from onduty.adapters.db import tables as t
from onduty.adapters.db.alert_store import PG_INSERT_ALERTS, pg_alert_rows
from onduty.adapters.db.database import Database
from onduty.adapters.db.ingest_sql import IngestSql, sqlite_run
from onduty.adapters.db.store import SqlStore
from onduty.app.ports import Conflict, IncidentFilter, Transactions
from onduty.domain.alerts import Alert, AlertUpsert
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry, Timer
from onduty.domain.suppression import Silence

_INSERTS: dict[tuple[str, bool], tuple[str, Callable[[object], tuple[Any, ...]]]] = {}


def _values(keys: Sequence[str]) -> Callable[[object], tuple[Any, ...]]:
    """A function from an object to its values of `keys`, read from its __dict__ in one C call (the ORM's
    attribute reads and a generator per row cost more than SQLite's insert)."""
    read = operator.itemgetter(*keys)

    def values(obj: object) -> tuple[Any, ...]:
        try:
            found = read(obj.__dict__)
        except (KeyError, AttributeError):  # a value not loaded yet (or no __dict__): read it as an attribute
            return tuple(getattr(obj, key) for key in keys)
        return (found,) if len(keys) == 1 else tuple(found)

    return values


def _row_builder(keys: Sequence[str], processors: Sequence[Any]) -> Callable[[object], tuple[Any, ...]]:
    """A function from an object to its SQLite row: its values (`_values`), then each column type's bind
    processor applied where the type has one (a time's only when it is set)."""
    read = _values(keys)
    stamps = [n for n, process in enumerate(processors) if process is _sqlite_stamp]
    processed = [(n, process) for n, process in enumerate(processors)
                 if process is not None and process is not _sqlite_stamp]

    def row(obj: object) -> tuple[Any, ...]:
        values = read(obj)
        if not processed and not stamps:
            return values
        out = list(values)
        for n in stamps:
            if out[n] is not None:
                out[n] = _sqlite_stamp(out[n])
        for n, process in processed:
            out[n] = process(out[n])
        return tuple(out)

    return row


_last_stamp: tuple[datetime | None, str | None] = (None, None)  # a round's rows mostly share one time


def _sqlite_stamp(value: datetime | None) -> str | None:
    """UTCDateTime's value on SQLite as SQLAlchemy writes it (`tables.sqlite_time`), in one call where the
    type's processor and the driver's adapter took four."""
    global _last_stamp
    if value is None:
        return None
    last = _last_stamp
    if value is last[0]:
        return last[1]
    text = t.sqlite_time(value)
    _last_stamp = (value, text)
    return text


def _bind_processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, t.UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_stamp
    processor: Callable[[Any], Any] | None = column_type.bind_processor(dialect)
    return processor


def _insert_plan(table: Table, dialect: Any, with_id: bool) -> tuple[str, Callable[[object], tuple[Any, ...]]]:
    """SQLite: the INSERT for `table` and the function that turns an object into its row, built once."""
    key = (table.name, with_id)
    plan = _INSERTS.get(key)
    if plan is None:
        columns = [c for c in table.columns if with_id or c.key != "id"]
        sql = (f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        plan = _INSERTS[key] = (sql, _row_builder([c.key for c in columns],
                                                  [_bind_processor(c.type, dialect) for c in columns]))
    return plan


_PG_INSERTS: dict[tuple[str, bool], tuple[str, Callable[[object], dict[str, Any]]]] = {}


def _pg_insert_plan(table: Table, with_id: bool) -> tuple[str, Callable[[object], dict[str, Any]]]:
    """PostgreSQL: an INSERT of the table's rows from one JSON document (`json_populate_recordset` reads
    it as the table's own row type), and the function that turns an object into its row there. Unlike a
    COPY, the statement can go in a pipeline with the transaction's other writes: one round trip for all.
    Times pass through their column type's checks (aware, then UTC); JSON values go as they are."""
    key = (table.name, with_id)
    plan = _PG_INSERTS.get(key)
    if plan is None:
        columns = [c for c in table.columns if with_id or c.key != "id"]
        names = ", ".join(c.name for c in columns)
        sql = (f"INSERT INTO {table.name} ({names}) SELECT {names} "
               f"FROM json_populate_recordset(NULL::{table.name}, CAST(%b AS json))")
        read = _values([c.key for c in columns])
        stamps = [n for n, c in enumerate(columns) if isinstance(c.type, t.UTCDateTime)]
        labels = [c.name for c in columns]

        def row(obj: object) -> dict[str, Any]:
            out = list(read(obj))
            for n in stamps:
                value = out[n]
                if value is not None:
                    if value.tzinfo is None:
                        raise ValueError("naive datetime reached the database; pass an aware one")
                    out[n] = value.astimezone(UTC)
            return dict(zip(labels, out, strict=True))

        plan = _PG_INSERTS[key] = (sql, row)
    return plan


def _pg_inserts(table: Table, objects: Sequence[object]) -> list[tuple[str, tuple[Any, ...]]]:
    """The statements (with their one parameter) that write `objects` into `table` on PostgreSQL."""
    out = []
    for with_id in (True, False):
        chosen = [o for o in objects if (o.__dict__.get("id") is not None) == with_id]
        if chosen:
            sql, row = _pg_insert_plan(table, with_id)
            out.append((sql, (t.json_text([row(o) for o in chosen]),)))
    return out


_PG_GROUPS = ("INSERT INTO alert_groups (service_id, group_key, incident_id, opened_at, closes_at, active) "
              "SELECT r.s, r.g, r.i, r.o, r.c, true FROM json_to_recordset(CAST(%b AS json)) "
              "AS r(s text, g text, i int, o timestamptz, c timestamptz)")
_PG_AFFECTED = ("INSERT INTO incident_services (incident_id, service_id, reason, added_at) "
                "SELECT r.i, r.s, r.r, r.a FROM json_to_recordset(CAST(%b AS json)) "
                "AS r(i int, s text, r text, a timestamptz) ON CONFLICT (incident_id, service_id) DO NOTHING")
_GUARDED = {"alerts", "alert_groups"}  # tables whose unique index is a guard racing writers may trip


def _pg_pipeline(session: Any, statements: Sequence[tuple[str, tuple[Any, ...]]]) -> None:
    """Run `statements` in one pipeline: sent together, one round trip, in order (the first error
    aborts the rest). A guard index another writer tripped first, a deadlock or a serialization
    failure lose the transaction: Conflict, and the caller retries it whole."""
    raw = session.connection().connection.dbapi_connection
    try:
        with raw.pipeline(), raw.cursor(binary=True) as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.table_name not in _GUARDED:
            raise
        raise Conflict(f"an alert or group was opened by another writer meanwhile: {exc}") from exc
    except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
        raise Conflict(f"transaction lost a race, retry: {exc}") from exc


def _bulk_insert(session: Any, table: Table, objects: Sequence[object]) -> None:
    """SQLite: one executemany straight to the driver (SQLAlchemy's per-row parameter building cost more
    than the database did); values still pass through each column type's own bind processor."""
    connection = session.connection()
    for with_id in (True, False):
        chosen = [o for o in objects if (o.__dict__.get("id") is not None) == with_id]
        if chosen:
            sql, row = _insert_plan(table, connection.dialect, with_id)
            sqlite_run(connection, sql, [row(o) for o in chosen], many=True)


class BatchStore(SqlStore):
    def __init__(self, session: Any):
        super().__init__(session)
        self._incidents: list[Incident] = []
        self._timers: list[Timer] = []
        self._entries: list[TimelineEntry] = []
        self._groups: list[tuple[str, str, int, datetime, datetime]] = []
        # PostgreSQL only: affected services and new alerts, written with the rest in one pipeline
        self._affected: list[tuple[int, str, str, datetime]] = []
        self._new_alerts: list[tuple[str, datetime]] = []
        self._next_id: int | None = None
        self._reserved: list[int] = []
        self._sql: IngestSql | None = None

    @property
    def sql(self) -> IngestSql:
        if self._sql is None:
            self._sql = IngestSql(self.session.connection(), self._locking)
        return self._sql

    def expect_incidents(self, count: int) -> None:
        """On PostgreSQL, take `count` ids from the sequence in one round trip (unused ones leave a gap,
        as a rolled-back insert does); on SQLite the ids are counted on from the largest."""
        if self._locking and count > len(self._reserved):
            self._reserved += self.sql.next_incident_ids(count - len(self._reserved))

    def _reserve_incident_id(self) -> int:
        if self._locking:
            return self._reserved.pop(0) if self._reserved else self.sql.next_incident_ids(1)[0]
        if self._next_id is None:  # BEGIN IMMEDIATE holds SQLite's write lock: nobody else can take these
            self._next_id = self.sql.max_incident_id() + 1
        ident, self._next_id = self._next_id, self._next_id + 1
        return ident

    # -- buffered writes ---------------------------------------------------------------------------
    def add_incident(self, incident: Incident) -> None:
        incident.id = self._reserve_incident_id()
        self._incidents.append(incident)

    def open_group(self, service_id: str, group_key: str, incident_id: int, opened_at: datetime,
                   closes_at: datetime) -> None:
        """Buffered like incidents (a round opens one group per new incident); the unique index still
        decides when they are written, and a group another writer opened first still raises Conflict."""
        self._groups.append((service_id, group_key, incident_id, opened_at, closes_at))

    def _flush_groups(self) -> None:
        """Write buffered groups in one statement, after the incidents they point at."""
        if not self._groups:
            return
        if self._locking:
            self._write_pg()
            return
        sql, p = self.sql, self.sql.p
        rows = [(s, g, i, sql.time(o), sql.time(c), True) for s, g, i, o, c in self._groups]
        self._groups.clear()
        try:
            self.session.connection().exec_driver_sql(
                "INSERT INTO alert_groups (service_id, group_key, incident_id, opened_at, closes_at, active) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})", rows)
        except IntegrityError as exc:  # the transaction is lost: the caller retries it whole
            raise Conflict(f"a group of {', '.join(sorted({r[0] for r in rows}))} was opened by another writer") \
                from exc

    def add_timer(self, timer: Timer) -> None:
        self._timers.append(timer)

    def append(self, incident_id: int, entries: Sequence[TimelineEntry]) -> None:
        for entry in entries:
            entry.incident_id = incident_id
            self._entries.append(entry)

    def _write_pg(self) -> None:
        """PostgreSQL: every buffered row in one pipeline, incidents first (the others point at them)."""
        statements: list[tuple[str, tuple[Any, ...]]] = []
        if self._incidents:
            statements += _pg_inserts(t.incidents, self._incidents)
        if self._groups:
            statements.append((_PG_GROUPS, (t.json_text([{"s": s, "g": g, "i": i, "o": o, "c": c}
                                                       for s, g, i, o, c in self._groups]),)))
        if self._affected:
            first: dict[tuple[int, str], tuple[str, datetime]] = {}
            for i, s, r, a in self._affected:  # a service already listed keeps its first reason
                first.setdefault((i, s), (r, a))
            statements.append((_PG_AFFECTED, (t.json_text([{"i": i, "s": s, "r": r, "a": a}
                                                         for (i, s), (r, a) in first.items()]),)))
        statements += [(PG_INSERT_ALERTS, (document, now)) for document, now in self._new_alerts]
        for table, buffer in ((t.timers, self._timers), (t.timeline, self._entries)):
            if buffer:
                statements += _pg_inserts(table, buffer)
        wrote_alerts = bool(self._new_alerts)
        for written in (self._incidents, self._groups, self._affected, self._new_alerts, self._timers,
                        self._entries):
            written.clear()
        if statements:
            _pg_pipeline(self.session, statements)
        if wrote_alerts:
            self._forget_loaded()

    def _flush_incidents(self) -> None:
        """Write buffered incidents only: what a row about to be written points at must exist first."""
        if self._locking:
            self._write_pg()  # all of it, in the one round trip
            return
        if self._incidents:
            _bulk_insert(self.session, t.incidents, self._incidents)
            self._incidents.clear()

    def _flush_pending(self) -> None:
        """Write buffered rows, incidents first (the others point at them)."""
        if self._locking:
            self._write_pg()
            self.session.flush()
            return
        self._flush_incidents()
        self._flush_groups()
        for table, buffer in ((t.timers, self._timers), (t.timeline, self._entries)):
            if buffer:
                _bulk_insert(self.session, table, buffer)
                buffer.clear()
        self.session.flush()

    # -- everything else sees the buffered rows first -------------------------------------------------
    def incident(self, incident_id: int, client_id: str | None = None) -> Incident | None:
        held = self._locked_incidents.get(incident_id)
        if held is not None and (client_id is None or held.client_id == client_id):
            return held  # read earlier in this transaction: nothing buffered can change it
        self._flush_pending()
        return super().incident(incident_id, client_id)

    def incidents(self, query: IncidentFilter) -> list[Incident]:
        self._flush_pending()
        return super().incidents(query)

    def open_alert(self, service_id: str, dedup_key: str) -> Alert | None:
        self._flush_pending()
        return super().open_alert(service_id, dedup_key)

    def add_alert(self, alert: Alert) -> None:
        self._flush_pending()
        super().add_alert(alert)

    def alerts_of(self, incident_id: int) -> list[Alert]:
        self._flush_pending()
        return super().alerts_of(incident_id)

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        self._flush_pending()
        return super().timeline(incident_id)

    def add_outbox(self, message: OutboxMessage) -> bool:
        self._flush_incidents()  # the page points at its incident; buffered timers and entries can wait
        return super().add_outbox(message)

    # -- the reads of every ingest transaction, for the driver ----------------------------------------
    def silences(self, now: datetime, include_expired: bool = False) -> list[Silence]:
        if include_expired:
            return super().silences(now, include_expired)
        self._flush_pending()
        return self.sql.silences(now)

    def open_incident_status(self, incident_ids: Sequence[int]) -> dict[int, str]:
        if not incident_ids:
            return {}
        self._flush_pending()
        return self.sql.incident_status(incident_ids)

    def monitoring_incidents_for(self, keys: Sequence[tuple[str, str]], groups: Sequence[tuple[str, str]]
                                 ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        self._flush_pending()
        return (self.sql.monitoring_by_key(keys) if keys else {},
                self.sql.monitoring_by_group(groups) if groups else {})

    def add_affected_services(self, rows: Sequence[tuple[int, str, str]], now: datetime) -> None:
        if rows and self._locking:
            self._affected += [(i, s, r, now) for i, s, r in rows]
        elif rows:
            self._flush_incidents()  # the rows point at incidents only; buffered timers and entries can wait
            self.sql.add_affected_services(rows, now)

    def insert_alerts(self, rows: Sequence[AlertUpsert], now: datetime) -> None:
        """After the incidents the alerts point at and the groups opened with them (a group another writer
        opened first fails here, before the alerts are written); timers and entries go at the commit.
        PostgreSQL writes them with everything else buffered, in one pipeline (where a key another writer
        opened since `open_alert_keys` raises Conflict, as here)."""
        if self._locking:
            if rows:
                self.session.flush()
                ordered = sorted(rows, key=lambda r: (r.service_id, r.dedup_key))  # one lock order
                self._new_alerts.append((pg_alert_rows(ordered), now))
            return
        self._flush_incidents()
        self._flush_groups()
        super().insert_alerts(rows, now)


def batch_transactions(db: Database, durable: bool = True, keep: bool = False) -> Transactions:
    """Transactions that yield a BatchStore and write its buffers before the commit; `durable=False`
    as in `Database.relaxed` (the worker's redoable work); `keep`: each thread keeps its connection
    from one transaction to the next (`Database.transaction`), for threads that do nothing else
    and call `db.release_kept()` when they end."""

    @contextmanager
    def transaction() -> Iterator[BatchStore]:
        with db.transaction(durable, keep) as plain:
            store = BatchStore(plain.session)
            yield store
            store._flush_pending()

    return transaction
