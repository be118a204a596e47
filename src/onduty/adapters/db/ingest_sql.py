"""The statements every ingest transaction runs, written for the driver.

Each group commit reads silences, groups, incident statuses and monitoring incidents, and records
affected services. Through SQLAlchemy's statement layer each cost 150-250 µs of CPU before the
database saw it (building, caching and compiling the statement, processing each value); written as
SQL for the driver they cost a tenth of that. The SQL is what the Core versions in alert_store.py and
lifecycle_store.py emit; values are converted as the column types would (UTC text on SQLite).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
import psycopg
from sqlalchemy.exc import DBAPIError

from onduty.adapters.db.tables import sqlite_time
from onduty.app.ports import Conflict
from onduty.domain.matchers import Matcher, parse_matchers
from onduty.domain.suppression import Silence

TUPLES_OK = psycopg.pq.ExecStatus.TUPLES_OK
_PG_ACTIVE_GROUPS = ("SELECT g.id, g.service_id, g.group_key, g.incident_id, g.closes_at "
                     "FROM json_array_elements(CAST(%b AS json)) AS p CROSS JOIN LATERAL (SELECT * FROM alert_groups "
                     "WHERE active AND service_id = p->>0 AND group_key = p->>1 LIMIT 1) AS g")


def pg_binary(connection: Any, sql: str, params: Sequence[Any]) -> list[Any]:
    """Run `sql` on psycopg with binary placeholders (%b): arrays go as they are, where the text format
    escapes every element; and the statement's text stays short and fixed, so psycopg parses it once
    (it parses again each time a statement is over 4 kB, as long IN lists are)."""
    with connection.connection.dbapi_connection.cursor(binary=True) as cursor:
        try:
            cursor.execute(sql, params)
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
            # as Database.transaction maps them for statements that go through SQLAlchemy: retry whole
            raise Conflict(f"transaction lost a race, retry: {exc}") from exc
        # the result's status, not `cursor.description`: that builds a Column object per column, about
        # 5 % of a single-event transaction's CPU
        result = cursor.pgresult
        return cursor.fetchall() if result is not None and result.status == TUPLES_OK else []


def sqlite_run(connection: Any, sql: str, params: Sequence[Any] = (), *, many: bool = False) -> list[Any]:
    """Run `sql` on the sqlite3 connection itself: SQLAlchemy's execution layer (events, result set-up)
    cost each statement about as much CPU as SQLite's work on a group commit's dozen rows. A driver
    error is raised as SQLAlchemy would have wrapped it (OperationalError, IntegrityError, …), so callers
    and `Database.transaction` see the same exceptions."""
    raw = connection.connection.dbapi_connection
    try:
        if many:
            raw.executemany(sql, params)
            return []
        found: list[Any] = raw.execute(sql, params).fetchall()
        return found
    except raw.Error as exc:  # sqlite3.Error: the base of the driver's exceptions
        raise DBAPIError.instance(sql, params, exc, raw.Error, ismulti=many) from exc


def sqlite_pairs_in(columns: str, pairs: Sequence[tuple[Any, Any]]) -> tuple[str, list[Any]]:
    """`(a, b) IN (…)` for SQLite in the one shape its planner answers with index lookups: a subquery over
    VALUES. A plain row-value list, `(a, b) IN ((?, ?), …)` or `IN (VALUES …)`, scans the whole table (or
    partial index) instead, so a lookup of a dozen keys cost as much as the table had rows."""
    values = ", ".join(["(?, ?)"] * len(pairs))
    return (f"({columns}) IN (SELECT column1, column2 FROM (VALUES {values}))",
            [v for pair in pairs for v in pair])


class IngestSql:
    """The driver-level statements of one connection (SQLite or PostgreSQL)."""

    def __init__(self, connection: Any, postgres: bool):
        self.connection, self.postgres = connection, postgres
        self.p = "%s" if postgres else "?"

    # -- values as the column types would write and read them --------------------------------------
    def time(self, value: datetime) -> Any:
        """A datetime as UTCDateTime binds it: aware on PostgreSQL, naive UTC text on SQLite."""
        return value if self.postgres else sqlite_time(value)

    @staticmethod
    def read_time(value: Any) -> datetime | None:
        if value is None:
            return None
        found: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self.postgres:
            return pg_binary(self.connection, sql, params)
        return sqlite_run(self.connection, sql, tuple(params))

    def _pairs_in(self, columns: str, pairs: Sequence[tuple[str, str]]) -> tuple[str, list[Any]]:
        """`(a, b) IN (…)` over distinct pairs: one JSON array on PostgreSQL (written by one orjson call, where
        text arrays are dumped value by value), row values on SQLite (`sqlite_pairs_in`)."""
        unique = list(dict.fromkeys(pairs))
        if self.postgres:
            return (f"({columns}) IN (SELECT p->>0, p->>1 FROM json_array_elements(CAST(%b AS json)) AS p)",
                    [orjson.dumps(unique).decode()])
        return sqlite_pairs_in(columns, unique)

    def _in(self, values: Sequence[Any], array: str) -> tuple[str, list[Any]]:
        """`IN (…)` over `values`: one array parameter on PostgreSQL (of type `array`), a list on SQLite."""
        if self.postgres:
            return f"= ANY(%b::{array})", [list(values)]
        return f"IN ({', '.join(['?'] * len(values))})", list(values)

    # -- reads -------------------------------------------------------------------------------------
    def silences(self, now: datetime) -> list[Silence]:
        """Silences not yet over (as AlertStore.silences without expired ones), newest first."""
        at = self.time(now)
        rows = self._rows(
            "SELECT matchers, starts_at, ends_at, created_by, comment, service_id, expired_at, id FROM silences "
            f"WHERE ends_at > {self.p} AND (expired_at IS NULL OR expired_at > {self.p}) ORDER BY id DESC",
            (at, at))
        found = []
        for r in rows:
            texts = orjson.loads(r[0]) if isinstance(r[0], (str, bytes)) else r[0]
            start, end = self.read_time(r[1]), self.read_time(r[2])
            assert start is not None and end is not None
            found.append(Silence(_matchers(tuple(texts)), start, end, r[3], r[4], r[5], self.read_time(r[6]), r[7]))
        return found

    def active_groups(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int, datetime]]:
        """(service, group key) → (row id, incident, window end) of active groups: one index probe per key
        (`active` written as the partial index says it), never a pass over every group ever opened."""
        if self.postgres:
            rows = self._rows(_PG_ACTIVE_GROUPS, [orjson.dumps(list(dict.fromkeys(keys))).decode()])
        else:
            clause, params = sqlite_pairs_in("service_id, group_key", list(dict.fromkeys(keys)))
            rows = self._rows("SELECT id, service_id, group_key, incident_id, closes_at FROM alert_groups "
                              f"WHERE active AND {clause}", params)
        found = {}
        for r in rows:
            closes = self.read_time(r[4])
            assert closes is not None
            found[(r[1], r[2])] = (r[0], r[3], closes)
        return found

    def incident_status(self, incident_ids: Sequence[int]) -> dict[int, str]:
        """Statuses of these incidents, row-locked on PostgreSQL (as AlertStore.open_incident_status)."""
        where, params = self._in(sorted(set(incident_ids)), "int[]")
        lock = " FOR UPDATE" if self.postgres else ""
        rows = self._rows(f"SELECT id, status FROM incidents WHERE id {where} ORDER BY id{lock}", params)
        return {r[0]: r[1] for r in rows}

    def incidents_affecting(self, service_ids: Sequence[str]) -> dict[str, int]:
        """For each service, the oldest open incident that lists it as affected."""
        sql, params = self.affecting_query(service_ids)
        return {r[0]: r[1] for r in self._rows(sql, params) if r[1] is not None}

    def affecting_query(self, service_ids: Sequence[str]) -> tuple[str, list[Any]]:
        """One probe per service: the first entry of its range in the partial index of open rows
        (ix_incident_services_open), whatever the number of incidents, open or resolved, it had."""
        unique = sorted(set(service_ids))
        probe = ("SELECT s.incident_id FROM incident_services s WHERE s.service_id = {} AND s.open "
                 "ORDER BY s.incident_id LIMIT 1")
        if self.postgres:
            return (f"SELECT u.service_id, x.incident_id FROM unnest(%b::text[]) AS u(service_id) "
                    f"CROSS JOIN LATERAL ({probe.format('u.service_id')}) AS x", [unique])
        values = ", ".join(["(?)"] * len(unique))
        return f"SELECT v.column1, ({probe.format('v.column1')}) FROM (VALUES {values}) AS v", unique

    def monitoring_by_key(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """For each (service, dedup key), the oldest incident in monitoring holding such an alert."""
        return self._monitoring("alerts", "dedup_key", keys)

    def monitoring_by_group(self, groups: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """For each (service, group key), the oldest incident in monitoring holding such a group."""
        return self._monitoring("alert_groups", "group_key", groups)

    def _monitoring(self, table: str, key: str, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        clause, params = self._pairs_in(f"x.service_id, x.{key}", pairs)
        rows = self._rows(f"SELECT x.service_id, x.{key}, i.id FROM {table} x "
                          f"JOIN incidents i ON i.id = x.incident_id WHERE i.status = 'monitoring' AND {clause} "
                          "ORDER BY i.id", params)
        found: dict[tuple[str, str], int] = {}
        for r in rows:
            found.setdefault((r[0], r[1]), r[2])
        return found

    def next_incident_ids(self, count: int) -> list[int]:
        """`count` new incident ids from the sequence (PostgreSQL), in order."""
        rows = self._rows("SELECT nextval(pg_get_serial_sequence('incidents', 'id')) "
                          f"FROM generate_series(1, {int(count)})")
        return sorted(int(r[0]) for r in rows)

    def max_incident_id(self) -> int:
        return int(self._rows("SELECT COALESCE(MAX(id), 0) FROM incidents")[0][0])

    # -- writes ------------------------------------------------------------------------------------
    def add_affected_services(self, rows: Sequence[tuple[int, str, str]], now: datetime) -> None:
        """(incident id, service id, reason) rows; a service already listed keeps its first reason.

        `open` is the database's to keep (migration 0013's triggers). Ingest lists services on incidents it
        has just opened or found open, so the rows say so: SQLite's trigger then leaves them as written,
        where correcting the column's default cost each row an UPDATE; PostgreSQL's sets it anyway."""
        unique = {(i, s): r for i, s, r in reversed(rows)}
        at = self.time(now)
        p = self.p
        sql = (f"INSERT INTO incident_services (incident_id, service_id, reason, added_at, open) "
               f"VALUES ({p}, {p}, {p}, {p}, TRUE) ON CONFLICT (incident_id, service_id) DO NOTHING")
        values = [(i, s, r, at) for (i, s), r in unique.items()]
        if self.postgres:
            self.connection.exec_driver_sql(sql, values)
        else:
            sqlite_run(self.connection, sql, values, many=True)


@lru_cache(maxsize=1024)
def _matchers(texts: tuple[str, ...]) -> tuple[Matcher, ...]:
    """Matchers parsed once per distinct silence (regular expressions compile once)."""
    return parse_matchers(texts)
