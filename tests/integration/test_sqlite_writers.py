"""SQLite's one write lock and its log: urgent transactions go first, checkpoints stay off the commit."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from onduty.adapters.db import checkpoint
from onduty.adapters.db.checkpoint import WalCheckpointer
from onduty.adapters.db.database import Database
from onduty.adapters.db.writer_priority import WriterPriority


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/onduty.db")
    with database.transaction() as store:
        store.session.execute(text("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT)"))
    yield database
    database.dispose()


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll `condition` until it holds or `timeout` passes; its last answer."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.001)
    return condition()


def _write(db: Database, rows: int, durable: bool = True) -> None:
    with db.transaction(durable) as store:
        store.session.execute(text("INSERT INTO rows (body) VALUES (:b)"), [{"b": "x" * 3000}] * rows)


def _log_frames(path: Path) -> int:
    """Frames in the write-ahead log now (a PASSIVE checkpoint that copies what it can and reports)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return int(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
    finally:
        conn.close()


def test_commits_leave_the_log_to_the_background_checkpointer(db: Database) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL, as ever
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_the_checkpointer_copies_the_log_and_starts_a_long_one_over(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoint, "RESTART_AFTER_FRAMES", 50)
    path = tmp_path / "onduty.db"
    _write(db, 200)
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        frames, copied = WalCheckpointer(str(path)).checkpoint(conn)
    finally:
        conn.close()
    assert frames >= 50 and copied == frames
    _write(db, 1)  # the next writer starts the log over
    assert _log_frames(path) < 50
    with db.transaction() as store:
        assert store.session.execute(text("SELECT COUNT(*) FROM rows")).scalar() == 201


def test_the_checkpointer_never_creates_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "gone.db"
    worker = WalCheckpointer(str(missing), every=0.001)
    worker.start()
    time.sleep(0.05)
    worker.stop()
    assert not missing.exists()


def test_an_announced_wait_is_seen_from_another_open_file_until_it_ends(tmp_path: Path) -> None:
    ingest, worker = WriterPriority(str(tmp_path / "a.db")), WriterPriority(str(tmp_path / "a.db"))
    try:
        assert worker.anyone_waiting() is False
        with ingest.waiting(), ingest.waiting():  # two threads of one process waiting at once
            assert worker.anyone_waiting() is True
        assert worker.anyone_waiting() is False
    finally:
        ingest.close()
        worker.close()


def test_giving_way_waits_for_the_urgent_transaction_and_not_forever(tmp_path: Path) -> None:
    ingest = WriterPriority(str(tmp_path / "a.db"))
    worker = WriterPriority(str(tmp_path / "a.db"), defer_at_most=30.0)
    order: list[str] = []
    release = threading.Event()

    def urgent() -> None:
        with ingest.waiting():
            order.append("announced")
            release.wait(10)
            order.append("urgent done")

    thread = threading.Thread(target=urgent)
    thread.start()
    try:
        assert _until(lambda: order == ["announced"])
        threading.Timer(0.05, release.set).start()
        worker.give_way()
        order.append("worker")
        assert order == ["announced", "urgent done", "worker"]
        patient = WriterPriority(str(tmp_path / "a.db"), defer_at_most=0.01)
        with ingest.waiting():
            patient.give_way()  # returns although the wait is still announced
            assert patient.anyone_waiting() is True
        patient.close()
    finally:
        release.set()
        thread.join()
        ingest.close()
        worker.close()


def test_an_ingest_transaction_that_finds_the_lock_taken_says_so_and_the_worker_gives_way(
    db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "onduty.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    probe = WriterPriority(str(tmp_path / "onduty.db"))
    worker_process = Database(f"sqlite:///{tmp_path}/onduty.db")  # the worker's own process, as it were
    assert worker_process._priority is not None
    worker_process._priority.defer_at_most = 30.0
    order: list[str] = []
    ingest = threading.Thread(target=lambda: (_write(db, 1), order.append("ingest")))
    ingest.start()
    try:
        assert _until(probe.anyone_waiting)
        worker = threading.Thread(target=lambda: (_write(worker_process, 1, durable=False), order.append("worker")))
        worker.start()
        time.sleep(0.05)  # the worker's transaction now gives way (else it would poll for the lock too)
        other.execute("COMMIT")
        ingest.join(10)
        worker.join(10)
        assert order == ["ingest", "worker"]
        assert probe.anyone_waiting() is False
    finally:
        other.close()
        probe.close()
        worker_process.dispose()


def test_a_worker_transaction_that_finds_the_lock_taken_does_not_hold_ingest_back(
    db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "onduty.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    probe = WriterPriority(str(tmp_path / "onduty.db"))
    worker = threading.Thread(target=_write, args=(db, 1, False))
    worker.start()
    try:
        time.sleep(0.02)
        assert probe.anyone_waiting() is False  # the worker waits without announcing
    finally:
        other.execute("COMMIT")
        worker.join(10)
        other.close()
        probe.close()
