"""Engines and transactions: SQLite (WAL, one writer at a time) or PostgreSQL, chosen by URL."""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, event, make_url
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from onduty.adapters.db.checkpoint import WalCheckpointer
from onduty.adapters.db.store import SqlStore
from onduty.adapters.db.tables import json_text, map_domain
from onduty.adapters.db.writer_priority import WriterPriority
from onduty.app.ports import Conflict, Unavailable

log = logging.getLogger("onduty.db")
BUSY_TIMEOUT_MS = 30_000
RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
OUT_OF_RANGE = "22003"  # numeric_value_out_of_range: PostgreSQL's answer to an id no row can have
KEPT_IDLE_SECONDS = 1.0  # a kept connection idle longer goes back to the pool, which pings it when taken
_urgency = threading.local()  # `.urgent`: whether this thread's transaction is one someone waits on


def _sqlite_setup(engine: Engine, priority: WriterPriority | None, checkpoints_here: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not checkpoints_here:
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # a WalCheckpointer thread does it, not the commit
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock at BEGIN, so two writers queue instead of failing mid-transaction.
        urgent = priority is not None and getattr(_urgency, "urgent", True)
        begin_immediate(conn.connection.dbapi_connection,
                        while_busy=priority.waiting if priority is not None and urgent else None)


def begin_immediate(raw: Any, timeout: float = 30.0,
                    while_busy: Callable[[], AbstractContextManager[Any]] | None = None) -> None:
    """BEGIN IMMEDIATE, polling every millisecond or two while another process holds the write lock;
    if the lock is taken, the wait runs inside `while_busy()` (an urgent transaction saying it waits).

    SQLite's own busy handler sleeps longer and longer (up to 100 ms a try), so a writer that found the
    lock taken — ingest, while the worker pages — could sleep long after it was free again.
    """
    deadline = time.monotonic() + timeout
    raw.execute("PRAGMA busy_timeout=0")
    try:
        if _try_begin(raw):
            return
        with while_busy() if while_busy is not None else nullcontext():
            while True:
                if time.monotonic() > deadline:
                    raw.execute("BEGIN IMMEDIATE")  # the error as SQLite words it
                time.sleep(0.001 + random.random() * 0.001)
                if _try_begin(raw):
                    return
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def _try_begin(raw: Any) -> bool:
    """BEGIN IMMEDIATE once: False if another connection holds the write lock."""
    try:
        raw.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return False
    return True


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL, or None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return None if parsed.database.startswith("file:") else parsed.database


def make_engine(url: str, priority: WriterPriority | None = None, checkpoints_here: bool = True) -> Engine:
    """An engine for `url`; SQLite files get WAL and immediate transactions, with urgent ones waiting
    under `priority`, and checkpoints in the committing connection unless `checkpoints_here` is off."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               json_serializer=json_text)
        _sqlite_setup(engine, priority, checkpoints_here)
        return engine
    # Enough connections for the HTTP thread pool (40) plus the worker, so requests do not queue here.
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=30, pool_timeout=10,
                         json_serializer=json_text)


class Database:
    """The one place that opens transactions; each yields a Store and commits when the block ends."""

    def __init__(self, url: str):
        map_domain()
        self.url = url
        path = sqlite_file(url)
        # A file gets its write-ahead log copied back by a thread of its own, and the worker's
        # transactions give way to urgent ones waiting for the write lock (see each module).
        self._priority = WriterPriority(path) if path else None
        self._checkpointer = WalCheckpointer(path) if path else None
        self.engine = make_engine(url, self._priority, checkpoints_here=self._checkpointer is None)
        if self._checkpointer is not None:
            weakref.finalize(self, self._checkpointer.stop)
            self._checkpointer.start()
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite takes one writer at a time, and a writer that finds the file locked polls with
        # growing sleeps. Queue this process's transactions on a lock instead: first come, first served.
        self._sqlite_lock = threading.RLock()
        self._writer: AbstractContextManager[Any] = (
            self._sqlite_lock if self.engine.dialect.name == "sqlite" else nullcontext()
        )
        self._kept = threading.local()  # `.held`: (connection, when last used) of a thread that keeps one
        # PostgreSQL and SQLite files (there the pool's checkout and check-in cost a single-event commit
        # about 15 % of its CPU); not SQLite in memory, whose pool may hand every thread one connection
        self._keeps = self.is_postgres or path is not None

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self, durable: bool = True, keep: bool = False) -> Iterator[SqlStore]:
        """One transaction. `durable=False` (PostgreSQL) commits without waiting for the WAL flush: for
        work that is redone after a database crash anyway (the worker's), never for what ingest acknowledges.
        `keep` (PostgreSQL, SQLite files): the calling thread keeps its connection for its next transaction
        (see `_kept_session`)."""
        try:
            with self._turn(durable), self._session(keep) as session, session.begin():
                if not durable and self.is_postgres:
                    session.connection().exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield SqlStore(session)
        except PoolTimeout as exc:
            raise Unavailable(f"no database connection free: {exc}") from exc
        except psycopg.OperationalError as exc:  # from a statement sent to the driver directly
            raise Unavailable(f"database unavailable: {exc}") from exc
        except (OperationalError, DBAPIError) as exc:
            if getattr(exc.orig, "sqlstate", None) == OUT_OF_RANGE:  # an id past the column's range
                raise OverflowError(f"a number is out of range for the database: {exc.orig}") from exc
            if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
                raise Conflict(f"transaction lost a race, retry: {exc.orig}") from exc
            if isinstance(exc, OperationalError) or exc.connection_invalidated:
                raise Unavailable(f"database unavailable: {exc.orig}") from exc
            raise

    def _session(self, keep: bool) -> AbstractContextManager[Session]:
        return self._kept_session() if keep and self._keeps else self._sessions()

    @contextmanager
    def _kept_session(self) -> Iterator[Session]:
        """A session on this thread's own connection, kept from one transaction to the next: a thread that
        commits hundreds of times a second (an ingest writer) then skips the pool's checkout and its
        pre-ping, a round trip each. The connection goes back to the pool after a failed transaction (a
        dropped connection is discarded there) or when it was idle long enough to have gone stale
        unnoticed; the pool pings it before the next use."""
        held: tuple[Connection, float] | None = getattr(self._kept, "held", None)
        self._kept.held = None
        if held is not None and time.monotonic() - held[1] > KEPT_IDLE_SECONDS:
            self._drop(held[0])
            held = None
        connection = held[0] if held is not None else self.engine.connect()
        ok = False
        try:
            with Session(bind=connection, expire_on_commit=False) as session:
                yield session
            ok = not connection.in_transaction()
        finally:
            if ok:
                self._kept.held = (connection, time.monotonic())
            else:
                self._drop(connection)

    @staticmethod
    def _drop(connection: Connection) -> None:
        """Give a kept connection back to the pool, or discard it if the database dropped it."""
        try:
            raw = connection.connection.dbapi_connection
            if raw is None or getattr(raw, "closed", False) or getattr(raw, "broken", False):
                connection.invalidate()
            connection.close()
        except Exception:  # closing a dead connection: nothing to keep either way
            log.debug("a kept connection failed to close", exc_info=True)

    def release_kept(self) -> None:
        """Give back the calling thread's kept connection (a thread that ends)."""
        held = getattr(self._kept, "held", None)
        self._kept.held = None
        if held is not None:
            self._drop(held[0])

    @contextmanager
    def _turn(self, urgent: bool) -> Iterator[None]:
        """This process's turn to write. On a SQLite file, an urgent transaction that has to wait says
        so; the worker's (`urgent` False) first give way to any that does, in this process or another."""
        if self._priority is None:
            with self._writer:
                yield
            return
        lock = self._sqlite_lock
        if not urgent:
            self._priority.give_way()
            lock.acquire()
        elif not lock.acquire(blocking=False):
            with self._priority.waiting():
                lock.acquire()
        before = getattr(_urgency, "urgent", True)
        _urgency.urgent = urgent
        try:
            yield
        finally:
            _urgency.urgent = before
            lock.release()

    def __call__(self) -> Any:
        return self.transaction()

    def relaxed(self) -> Any:
        """Transactions for the worker: firing timers, leasing and recording pages, sealing the audit
        trail. Each is idempotent, so one lost in a database crash is redone (at worst a page is sent
        twice, never missed), and not waiting for each commit's flush keeps paging fast on PostgreSQL."""
        return self.transaction(durable=False)

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()
        if self._priority is not None:
            self._priority.close()
