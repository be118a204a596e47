"""SQLite's write-ahead log copied back into the database file by a background thread.

Left to SQLite, the writer whose commit takes the log past 1,000 pages copies it back (a checkpoint:
two fsyncs and a few megabytes written) before its commit returns. Under steady writes from two
processes (ingest and the worker) such a checkpoint rarely catches up, the log is never restarted, and
from then on every commit of either process runs one: each acknowledgement waited on the disk. Here
commits only append to the log, and this thread copies it back, without taking the write lock
(a PASSIVE checkpoint), ten times a second, and has the next writer start a long log over once all
of it is copied. Commits stay exactly as durable as before (synchronous=NORMAL, as ever): the
checkpoint only moves committed pages from the log into the database file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from urllib.parse import quote

log = logging.getLogger("onduty.db")
CHECKPOINT_EVERY = 0.1  # seconds between checkpoints (one finding nothing to copy costs microseconds)
RESTART_AFTER_FRAMES = 1000  # pages in the log (4 MB) past which it is started over when it can be


class WalCheckpointer:
    """A daemon thread that checkpoints the SQLite file at `path` every `every` seconds until stopped."""

    def __init__(self, path: str, every: float = CHECKPOINT_EVERY):
        self.path, self.every = path, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread (once)."""
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="onduty-wal-checkpoint", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """End the thread after its current checkpoint."""
        self._stop.set()

    def checkpoint(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """Copy the log into the database file without taking the write lock (PASSIVE), then, once the
        log is long and all copied, ask the next writer to start it over (RESTART, never waiting: the
        write lock is taken only if free, for the moment of the check). Returns (frames, copied)."""
        busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if not busy and frames >= RESTART_AFTER_FRAMES and copied == frames:
            conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        return int(frames), int(copied)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.every):
                try:
                    if conn is None:  # mode=rw: never create the file (a test's database may be gone)
                        conn = sqlite3.connect(f"file:{quote(self.path)}?mode=rw", uri=True, timeout=0,
                                               isolation_level=None, check_same_thread=False)
                    self.checkpoint(conn)
                except sqlite3.Error as exc:  # busy, or no database file (yet, or any more)
                    log.debug("WAL checkpoint skipped: %s", exc)
        finally:
            if conn is not None:
                conn.close()
