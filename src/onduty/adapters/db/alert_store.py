"""The alert-handling half of the Store port, in SQLAlchemy Core: bulk upserts guarded by the open-alert
unique index, grouping guarded by the active-group unique index, affected services, silences, changes
and heartbeats. SqlStore inherits it; the methods run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onduty.adapters.db import tables as t
from onduty.adapters.db.ingest_sql import IngestSql, pg_binary, sqlite_pairs_in, sqlite_run
from onduty.app.ports import AlertFilter, Conflict
from onduty.domain.alerts import Alert, AlertUpsert, UpsertOutcome
from onduty.domain.changes import Change
from onduty.domain.heartbeats import HeartbeatState
from onduty.domain.matchers import parse_matchers
from onduty.domain.suppression import Silence

UPSERT_CHUNK = 500
_COLUMNS = ("service_id, dedup_key, incident_id, status, summary, source, severity, first_signal_at, created_at, "
            "updated_at, resolved_at, occurrences, details")
_SQL_CACHE: dict[tuple[int, bool], str] = {}


def _upsert_sql(rows: int, postgres: bool) -> str:
    """INSERT … ON CONFLICT on the open-alert index (its predicate written as the index has it) … RETURNING."""
    sql = _SQL_CACHE.get((rows, postgres))
    if sql is None:
        p = "%s" if postgres else "?"
        values = f"({p}, {p}, NULL, {p}, {p}, {p}, {p}, {p}, {p}, {p}, NULL, {p}, " + \
            (f"CAST({p} AS JSON))" if postgres else f"{p})")
        sql = (f"INSERT INTO alerts ({_COLUMNS}) VALUES " + ", ".join([values] * rows) +
               " ON CONFLICT (service_id, dedup_key) WHERE status != 'resolved' DO UPDATE SET "
               "occurrences = alerts.occurrences + excluded.occurrences, updated_at = excluded.updated_at "
               "RETURNING id, service_id, dedup_key, status, incident_id, occurrences")
        _SQL_CACHE[(rows, postgres)] = sql
    return sql


# PostgreSQL takes the rows as one JSON document: one short statement whatever the batch's size, so
# psycopg parses it once and keeps it prepared (it re-parses statements over 4 kB, as multi-row VALUES
# are); the rows are written out by one orjson call, where nine array parameters were dumped value by
# value; and json_to_recordset reads each row once (`->>` on json would parse it again for each field).
_PG_UPSERT = (
    f"INSERT INTO alerts ({_COLUMNS}) SELECT r.s, r.k, NULL, r.st, r.su, r.so, r.sv, r.f, now.a, now.a, NULL, r.n, r.d "
    "FROM json_to_recordset(CAST(%b AS json)) AS r(s text, k text, st text, su text, so text, sv text, "
    "f timestamptz, n int, d json) CROSS JOIN (SELECT %b::timestamptz AS a) AS now "
    "ON CONFLICT (service_id, dedup_key) WHERE status != 'resolved' DO UPDATE SET "
    "occurrences = alerts.occurrences + excluded.occurrences, updated_at = excluded.updated_at "
    "RETURNING id, service_id, dedup_key, status, incident_id, occurrences"
)
# New alerts go in with their incident already set: a plain INSERT (no ON CONFLICT to try first), so
# each row is written once, where an upsert and then a placing UPDATE wrote it twice (a new row
# version, a foreign-key check and an entry in every index, again). A key another writer opened
# since `open_alert_keys` read it breaks the unique index: the transaction is retried whole.
PG_INSERT_ALERTS = (
    f"INSERT INTO alerts ({_COLUMNS}) SELECT r.s, r.k, r.i, r.st, r.su, r.so, r.sv, r.f, now.a, now.a, NULL, r.n, r.d "
    "FROM json_to_recordset(CAST(%b AS json)) AS r(s text, k text, i int, st text, su text, so text, sv text, "
    "f timestamptz, n int, d json) CROSS JOIN (SELECT %b::timestamptz AS a) AS now"
)


def pg_alert_rows(ordered: Sequence[AlertUpsert]) -> str:
    """New alerts as the JSON document `PG_INSERT_ALERTS` reads (one orjson call for every row)."""
    return t.json_text([{"s": r.service_id, "k": r.dedup_key, "i": r.incident_id, "st": r.status,
                       "su": r.summary, "so": r.source, "sv": r.severity, "f": r.first_signal_at,
                       "n": r.occurrences, "d": r.details} for r in ordered])


_SQLITE_INSERT = f"INSERT INTO alerts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)"
# The open alerts among (service, key) pairs, one probe of the open-key index per pair (its predicate
# repeated). Written as a LATERAL lookup: psycopg prepares the statement, and PostgreSQL keeps the
# plan it made first; for `(…) IN (SELECT … FROM json_array_elements(…))` on a fresh, still empty
# table that plan is a hash join over a scan of the whole table, kept as the table grows (measured:
# 96 µs an alert at 40,000 alerts, against 4 through the index).
_PG_OPEN_KEYS = ("SELECT a.service_id, a.dedup_key FROM json_array_elements(CAST(%b AS json)) AS p "
                 "CROSS JOIN LATERAL (SELECT service_id, dedup_key FROM alerts WHERE service_id = p->>0 "
                 "AND dedup_key = p->>1 AND status != 'resolved' LIMIT 1) AS a")
_PG_PLACE = ("UPDATE alerts SET incident_id = p.i, status = COALESCE(p.s, alerts.status) "
             "FROM json_to_recordset(CAST(%b AS json)) AS p(i int, s text, a int) WHERE alerts.id = p.a")


def _pg_time(value: datetime) -> datetime:
    return value




class AlertStore:
    session: Session
    _locking: bool

    def _flush_pending(self) -> None:
        """Write pending ORM changes (and, when batching, buffered rows) before a statement of our own."""
        self.session.flush()

    def _forget_loaded(self) -> None:
        """After writing alerts behind the ORM's back, make loaded objects read the rows again."""
        if self.session.identity_map:
            self.session.expire_all()

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self._locking else sqlite
        return dialect.insert(table)

    # -- alerts ----------------------------------------------------------------------------------
    def upsert_alerts(self, rows: Sequence[AlertUpsert], now: datetime) -> dict[tuple[str, str], UpsertOutcome]:
        """Insert each key's alert, or count the triggers into its open alert: one statement per 500 keys
        (on PostgreSQL one statement, the rows as arrays).

        The open-alert unique index decides, not a read first, so racing writers cannot both insert.
        A row is new exactly when its stored count equals this batch's count (repeats only add).
        This is the hottest statement of ingest, so it is written for the driver directly: building
        the parameters through SQLAlchemy's type layer cost more than the database did.
        """
        if not rows:
            return {}
        self._flush_pending()
        ordered = sorted(rows, key=lambda r: (r.service_id, r.dedup_key))  # one lock order: no deadlocks
        counts = {(r.service_id, r.dedup_key): r.occurrences for r in ordered}
        stamp = _pg_time if self._locking else t.sqlite_time
        at = stamp(now)
        connection = self.session.connection()
        found = {}
        if self._locking:
            document = t.json_text([{"s": r.service_id, "k": r.dedup_key, "st": r.status, "su": r.summary,
                                   "so": r.source, "sv": r.severity, "f": r.first_signal_at,
                                   "n": r.occurrences, "d": r.details} for r in ordered])
            for row in pg_binary(connection, _PG_UPSERT, (document, at)):
                key = (row[1], row[2])
                found[key] = UpsertOutcome(row[0], row[3], row[4], row[5], row[5] == counts[key])
            self._forget_loaded()
            return found
        stamps: dict[datetime, Any] = {}  # a batch's alerts mostly share their start: each is written once
        for start in range(0, len(ordered), UPSERT_CHUNK):
            chunk = ordered[start:start + UPSERT_CHUNK]
            params: list[Any] = []
            for r in chunk:
                first = r.first_signal_at
                if first is not None and first not in stamps:
                    stamps[first] = stamp(first)
                params += [r.service_id, r.dedup_key, r.status, r.summary, r.source, r.severity,
                           None if first is None else stamps[first], at, at, r.occurrences, t.json_text(r.details)]
            sql = _upsert_sql(len(chunk), self._locking)
            for row in sqlite_run(connection, sql, params):
                key = (row[1], row[2])
                found[key] = UpsertOutcome(row[0], row[3], row[4], row[5], row[5] == counts[key])
        self._forget_loaded()
        return found

    def open_alert_keys(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (service, dedup key) pairs have an open alert now (no lock: a key opened after
        this read makes `insert_alerts` raise Conflict, and the transaction is retried)."""
        if not keys:
            return set()
        self._flush_pending()
        connection = self.session.connection()
        unique = list(dict.fromkeys(keys))
        if self._locking:
            document = orjson.dumps(unique).decode()
            return {(r[0], r[1]) for r in pg_binary(connection, _PG_OPEN_KEYS, (document,))}
        found: set[tuple[str, str]] = set()
        for start in range(0, len(unique), UPSERT_CHUNK):
            chunk = unique[start:start + UPSERT_CHUNK]
            clause, params = sqlite_pairs_in("service_id, dedup_key", chunk)
            sql = f"SELECT service_id, dedup_key FROM alerts WHERE status != 'resolved' AND {clause}"
            found.update((r[0], r[1]) for r in sqlite_run(connection, sql, params))
        return found

    def insert_alerts(self, rows: Sequence[AlertUpsert], now: datetime) -> None:
        """Insert new alerts as they are (status and incident set, one occurrence count each), in one
        statement; Conflict when one of their keys already has an open alert (another writer's)."""
        if not rows:
            return
        self.session.flush()  # the incidents they point at first (a batching store writes its own before)
        ordered = sorted(rows, key=lambda r: (r.service_id, r.dedup_key))  # one lock order, as the upsert
        connection = self.session.connection()
        try:
            if self._locking:
                pg_binary(connection, PG_INSERT_ALERTS, (pg_alert_rows(ordered), now))
            else:
                at = t.sqlite_time(now)
                stamps: dict[datetime, str] = {}
                values = []
                for r in ordered:
                    first = r.first_signal_at
                    if first is not None and first not in stamps:
                        stamps[first] = t.sqlite_time(first)
                    values.append((r.service_id, r.dedup_key, r.incident_id, r.status, r.summary, r.source,
                                   r.severity, None if first is None else stamps[first], at, at, r.occurrences,
                                   t.json_text(r.details)))
                sqlite_run(connection, _SQLITE_INSERT, values, many=True)
        except psycopg.errors.UniqueViolation as exc:  # the driver's own error: the statement bypassed SQLAlchemy
            raise Conflict("an alert key was opened by another writer meanwhile") from exc
        except IntegrityError as exc:
            if "UNIQUE" not in str(exc.orig):
                raise
            raise Conflict("an alert key was opened by another writer meanwhile") from exc
        self._forget_loaded()

    def place_alerts(self, placements: Sequence[tuple[int, int | None, str | None]]) -> None:
        """Set (alert id → incident id, status) for alerts just stored or promoted: one statement per
        incident, so a group of a hundred alerts joining one incident is one UPDATE (written for the
        driver, like the upsert). A status of None leaves the alert's own: SQLite rewrites the open-key
        index entry of every row whose status an UPDATE sets, even to the value it had, which doubled
        the statement's cost for new alerts (already "triggered")."""
        if not placements:
            return
        self._flush_pending()
        by_target: dict[tuple[int | None, str | None], list[int]] = {}
        for alert_id, incident_id, status in placements:
            by_target.setdefault((incident_id, status), []).append(alert_id)
        connection = self.session.connection()
        if self._locking:
            rows = [(i, s, a) for (i, s), ids in by_target.items() for a in ids]
            pg_binary(connection, _PG_PLACE, (orjson.dumps([{"i": i, "s": s, "a": a} for i, s, a in rows]).decode(),))
            self._forget_loaded()
            return
        p = "?"
        for keep in (True, False):
            sets = f"incident_id = {p}" if keep else f"incident_id = {p}, status = {p}"
            singles = [(i, ids[0]) if keep else (i, s, ids[0])
                       for (i, s), ids in by_target.items() if len(ids) == 1 and (s is None) == keep]
            if singles:
                connection.exec_driver_sql(f"UPDATE alerts SET {sets} WHERE id = {p}", singles)
        for (incident_id, status), ids in by_target.items():
            sets = f"incident_id = {p}" if status is None else f"incident_id = {p}, status = {p}"
            values = (incident_id,) if status is None else (incident_id, status)
            for start in range(0, len(ids) if len(ids) > 1 else 0, UPSERT_CHUNK):
                chunk = ids[start:start + UPSERT_CHUNK]
                connection.exec_driver_sql(f"UPDATE alerts SET {sets} WHERE id IN ({', '.join([p] * len(chunk))})",
                                           (*values, *chunk))
        self._forget_loaded()

    def alerts(self, query: AlertFilter) -> list[Alert]:
        self._flush_pending()
        c = t.alerts.c
        stmt = select(Alert).order_by(c.id.desc()).limit(query.limit)
        if query.status is not None:
            stmt = stmt.where(c.status == query.status)
        if query.service_ids is not None:
            stmt = stmt.where(c.service_id.in_(query.service_ids))
        return list(self.session.scalars(stmt))

    # -- grouping, inhibition, affected services -------------------------------------------------
    def active_groups(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int, datetime]]:
        """(service, group key) → (group row id, incident id, window end) for groups still marked active."""
        if not keys:
            return {}
        self._flush_pending()
        return IngestSql(self.session.connection(), self._locking).active_groups(keys)

    def close_groups(self, group_ids: Sequence[int]) -> None:
        if group_ids:
            self._flush_pending()
            self.session.execute(update(t.alert_groups).where(t.alert_groups.c.id.in_(group_ids)).values(active=False))

    def open_group(self, service_id: str, group_key: str, incident_id: int, opened_at: datetime,
                   closes_at: datetime) -> None:
        """Mark `incident_id` as its group's incident; Conflict when another writer opened the group first."""
        self._flush_pending()
        try:
            self.session.execute(insert(t.alert_groups).values(
                service_id=service_id, group_key=group_key, incident_id=incident_id,
                opened_at=opened_at, closes_at=closes_at, active=True,
            ))
        except IntegrityError as exc:  # the transaction is lost: the caller retries it whole
            raise Conflict(f"group {group_key!r} of {service_id} was opened by another writer") from exc

    def open_incident_status(self, incident_ids: Sequence[int]) -> dict[int, str]:
        """Statuses of these incidents, row-locked on PostgreSQL so a resolve cannot slip in meanwhile."""
        if not incident_ids:
            return {}
        self._flush_pending()
        c = t.incidents.c
        stmt = select(c.id, c.status).where(c.id.in_(sorted(set(incident_ids)))).order_by(c.id)
        if self._locking:
            stmt = stmt.with_for_update()
        return {r.id: r.status for r in self.session.execute(stmt)}

    def open_incidents_affecting(self, service_ids: Sequence[str]) -> dict[str, int]:
        """For each service, the oldest open incident that lists it as affected."""
        if not service_ids:
            return {}
        self._flush_pending()
        return IngestSql(self.session.connection(), self._locking).incidents_affecting(service_ids)

    def add_affected_services(self, rows: Sequence[tuple[int, str, str]], now: datetime) -> None:
        """(incident id, service id, reason) rows; a service already listed keeps its first reason."""
        if not rows:
            return
        self._flush_pending()
        stmt = self._insert(t.incident_services).on_conflict_do_nothing(
            index_elements=[t.incident_services.c.incident_id, t.incident_services.c.service_id]
        )
        unique = {(i, s): r for i, s, r in reversed(rows)}
        self.session.execute(stmt, [{"incident_id": i, "service_id": s, "reason": r, "added_at": now}
                                    for (i, s), r in unique.items()])

    def affected_services(self, incident_id: int) -> list[tuple[str, str, datetime]]:
        self._flush_pending()
        c = t.incident_services.c
        stmt = select(c.service_id, c.reason, c.added_at).where(c.incident_id == incident_id).order_by(
            c.added_at, c.reason != "origin", c.service_id)
        return [(r.service_id, r.reason, r.added_at) for r in self.session.execute(stmt)]

    # -- silences --------------------------------------------------------------------------------
    def add_silence(self, silence: Silence, now: datetime) -> int:
        result = self.session.execute(insert(t.silences).values(
            matchers=[str(m) for m in silence.matchers], service_id=silence.service_id,
            starts_at=silence.start, ends_at=silence.end, created_by=silence.created_by,
            comment=silence.comment, created_at=now,
        ).returning(t.silences.c.id))
        return int(result.scalar_one())

    def silences(self, now: datetime, include_expired: bool = False) -> list[Silence]:
        """Silences not yet over (active or pending); with `include_expired`, every one, newest first."""
        c = t.silences.c
        stmt = select(t.silences).order_by(c.id.desc())
        if not include_expired:
            stmt = stmt.where(c.ends_at > now, (c.expired_at.is_(None)) | (c.expired_at > now))
        return [
            Silence(parse_matchers(r.matchers), r.starts_at, r.ends_at, r.created_by, r.comment, r.service_id,
                    r.expired_at, r.id)
            for r in self.session.execute(stmt)
        ]

    def expire_silence(self, silence_id: int, by: str, now: datetime) -> bool:
        c = t.silences.c
        result = self.session.execute(
            update(t.silences).where(c.id == silence_id, c.expired_at.is_(None), c.ends_at > now)
            .values(expired_at=now, expired_by=by).returning(c.id)
        )
        return result.first() is not None

    # -- changes ---------------------------------------------------------------------------------
    def add_change(self, change: Change) -> int:
        result = self.session.execute(insert(t.changes).values(
            service_id=change.service_id, summary=change.summary, source=change.source,
            occurred_at=change.occurred_at, received_at=change.received_at, details=change.details,
            links=change.links,
        ).returning(t.changes.c.id))
        return int(result.scalar_one())

    def changes(self, service_ids: Sequence[str], since: datetime, limit: int = 100) -> list[Change]:
        c = t.changes.c
        stmt = (select(t.changes).where(c.service_id.in_(list(service_ids)), c.occurred_at >= since)
                .order_by(c.occurred_at.desc(), c.id.desc()).limit(limit))
        return [Change(r.service_id, r.summary, r.source, r.occurred_at, r.received_at, r.details, r.links, r.id)
                for r in self.session.execute(stmt)]

    # -- heartbeats ------------------------------------------------------------------------------
    def add_heartbeat_key(self, key_hash: str, check_id: str, now: datetime) -> None:
        self.session.execute(insert(t.heartbeat_keys).values(key_hash=key_hash, check_id=check_id, created_at=now))

    def check_for_key(self, key_hash: str) -> str | None:
        c = t.heartbeat_keys.c
        return self.session.scalar(select(c.check_id).where(c.key_hash == key_hash))

    def heartbeat(self, check_id: str) -> HeartbeatState | None:
        stmt = select(t.heartbeats).where(t.heartbeats.c.check_id == check_id)
        row = self.session.execute(stmt.with_for_update() if self._locking else stmt).first()
        return _heartbeat(row) if row else None

    def heartbeats(self) -> list[HeartbeatState]:
        return [_heartbeat(r) for r in self.session.execute(select(t.heartbeats).order_by(t.heartbeats.c.check_id))]

    def save_heartbeat(self, state: HeartbeatState) -> None:
        values = {"service_id": state.service_id, "last_beat_at": state.last_beat_at, "due_at": state.due_at,
                  "missed_at": state.missed_at, "beats": state.beats}
        stmt = self._insert(t.heartbeats).values(check_id=state.check_id, **values)
        self.session.execute(stmt.on_conflict_do_update(index_elements=[t.heartbeats.c.check_id], set_=values))

    def due_heartbeats(self, now: datetime, limit: int) -> list[HeartbeatState]:
        """Checks past due and not yet reported missed; skipped when another worker holds them."""
        c = t.heartbeats.c
        stmt = (select(t.heartbeats).where(c.due_at <= now, c.missed_at.is_(None))
                .order_by(c.due_at).limit(limit))
        if self._locking:
            stmt = stmt.with_for_update(skip_locked=True)
        return [_heartbeat(r) for r in self.session.execute(stmt)]


def _heartbeat(row: Any) -> HeartbeatState:
    return HeartbeatState(row.check_id, row.service_id, row.last_beat_at, row.due_at, row.missed_at, row.beats)
