"""Who goes first for SQLite's one write lock: a transaction someone is waiting on before the worker's.

SQLite hands its write lock to whoever asks first once it is free, and a writer that found it taken
polls for it. The worker runs its transactions back to back (a batch of timers, then the next), so
an ingest request that arrived meanwhile could poll through a dozen of them, each one long enough to
miss. Here a waiting urgent transaction (ingest's, an API request's) says so with a shared `flock` on
a file beside the database, seen by every process; before each of its transactions the worker waits
(a little while at most) until nobody says so. The kernel drops the lock of a process that dies.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("onduty.db")
DEFER_AT_MOST = 0.05  # seconds the worker gives way before it asks for the lock all the same
POLL = 0.0005  # seconds between looks while giving way
ANNOUNCE_WITHIN = 0.01  # seconds an announcement keeps trying past a worker's look


def _try_lock(fd: int, kind: int) -> bool:
    """Take a flock without waiting: False if another open file holds a conflicting one."""
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock_soon(fd: int, kind: int, within: float = ANNOUNCE_WITHIN) -> bool:
    """Take a flock, trying again for `within` seconds: a worker's look holds the file exclusively for a
    few microseconds, and an announcement lost to it would leave this wait unseen for its whole length."""
    deadline = time.monotonic() + within
    while not _try_lock(fd, kind):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL / 10)
    return True


class WriterPriority:
    """Urgent transactions announce that they wait for the write lock; the worker's give way to them."""

    def __init__(self, database_path: str, defer_at_most: float = DEFER_AT_MOST):
        self.path = f"{database_path}-priority"
        self.defer_at_most = defer_at_most
        self._lock = threading.Lock()
        self._waiting = 0  # this process's urgent transactions waiting now
        self._announce: int | None = None  # holds the shared lock while any of them waits
        self._held = False  # whether it does: never blocked on (a worker's look holds it exclusively for a moment)
        self._probe: int | None = None  # tries the exclusive lock: free means nobody waits
        self._broken = False  # the file cannot be opened (a read-only directory): no priority, as before

    def _open(self) -> int | None:
        if self._broken:
            return None
        try:
            return os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)  # flock needs no write
        except OSError as exc:
            log.warning("no write priority for ingest: cannot open %s: %s", self.path, exc)
            self._broken = True
            return None

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Announce, for the length of the block, that an urgent transaction waits for the write lock."""
        with self._lock:
            if self._waiting == 0:
                if self._announce is None:
                    self._announce = self._open()
                self._held = self._announce is not None and _lock_soon(self._announce, fcntl.LOCK_SH)
            self._waiting += 1
        try:
            yield
        finally:
            with self._lock:
                self._waiting -= 1
                if self._waiting == 0 and self._held and self._announce is not None:
                    fcntl.flock(self._announce, fcntl.LOCK_UN)
                    self._held = False

    def anyone_waiting(self) -> bool:
        """Whether an urgent transaction of any process waits for the write lock now."""
        with self._lock:
            if self._probe is None:
                self._probe = self._open()
            if self._probe is None:
                return False
            if not _try_lock(self._probe, fcntl.LOCK_EX):
                return True
            fcntl.flock(self._probe, fcntl.LOCK_UN)
            return False

    def give_way(self) -> None:
        """Wait while urgent transactions wait, for `defer_at_most` seconds at most."""
        if not self.anyone_waiting():
            return
        deadline = time.monotonic() + self.defer_at_most
        while time.monotonic() < deadline:
            time.sleep(POLL)
            if not self.anyone_waiting():
                return

    def close(self) -> None:
        """Close the files (a shared lock still held goes with them)."""
        with self._lock:
            for fd in (self._announce, self._probe):
                if fd is not None:
                    os.close(fd)
            self._announce = self._probe = None
