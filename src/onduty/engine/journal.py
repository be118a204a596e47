"""The delivery journal: pages a worker has sent but not yet recorded as delivered, in a file of its own.

A page is recorded in the database a few milliseconds after it leaves (a group commit). A worker killed in
between would leave the page claimed but unrecorded, and another worker re-sends it once the claim's lease
runs out. The journal closes that window: the sender appends a line the moment the channel accepts the page
(the kernel keeps it through a SIGKILL), and any worker sharing the directory records a dead worker's
lines at its next tick, long before the lease ends. A machine that loses power falls back on the lease:
a page may then go out twice, never zero times.

Each worker holds an exclusive `flock` on its own file while it lives; a file nobody holds is an orphan.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from onduty.app.delivery import Sent

log = logging.getLogger("onduty.worker")
SUFFIX = ".journal"
REWRITE_AFTER = 1000  # lines: a journal longer than this is rewritten with only its unrecorded pages


def _line(sent: Sent) -> bytes:
    return (json.dumps({
        "id": sent.message_id, "key": sent.idempotency_key, "attempt": sent.attempt,
        "lease_until": sent.lease_until.isoformat() if sent.lease_until else None, "receipt": sent.receipt[:500],
        "at": sent.at.isoformat() if sent.at else None,
    }) + "\n").encode()


def _parse(line: bytes) -> Sent | None:
    """A journal line, or None for a torn or foreign one (skipped: the lease covers it)."""
    try:
        row = json.loads(line)
        lease = datetime.fromisoformat(row["lease_until"]) if row["lease_until"] else None
        at = datetime.fromisoformat(row["at"]) if row.get("at") else None
        return Sent(int(row["id"]), str(row["key"]), int(row["attempt"]), lease, str(row["receipt"]), at)
    except (ValueError, KeyError, TypeError):
        return None


def read_entries(path: Path) -> list[Sent]:
    """Every whole line of a journal file, in the order written."""
    return [sent for line in path.read_bytes().splitlines() if (sent := _parse(line)) is not None]


class DeliveryJournal:
    """This worker's journal file, created on the first page it sends and removed when it stops."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / f"{uuid.uuid4().hex}{SUFFIX}"
        self._fd: int | None = None
        self._written = 0

    def _open(self) -> int:
        """Create the file under a name scanners ignore, lock it, then give it its real name: no scanner
        can take a live worker's new file for an orphan."""
        self.directory.mkdir(parents=True, exist_ok=True)
        hidden = self.directory / f".{self.path.name}.new"
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(hidden, self.path)
        return fd

    def add(self, sent: Sent) -> None:
        """Append one sent page; an error here is logged, not raised (the lease still covers the page)."""
        try:
            if self._fd is None:
                self._fd = self._open()
            os.write(self._fd, _line(sent))
            self._written += 1
        except OSError:
            log.exception("could not write the delivery journal %s; a crash now may re-send this page", self.path)

    def clear(self, keep: list[Sent]) -> None:
        """Everything written so far but `keep` is recorded in the database: start the file again, at once
        if nothing is kept, else once it has grown past REWRITE_AFTER lines (a steady storm is never idle)."""
        if self._fd is None or not self._written or (keep and self._written < REWRITE_AFTER):
            return
        try:
            os.ftruncate(self._fd, 0)
            self._written = 0
            for sent in keep:
                os.write(self._fd, _line(sent))
                self._written += 1
        except OSError:
            log.exception("could not truncate the delivery journal %s", self.path)

    def close(self, recorded: bool) -> None:
        """At a clean stop: remove the file if everything in it is recorded, else leave it to the others."""
        if self._fd is None:
            return
        if recorded:
            with contextlib.suppress(OSError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None

    @contextlib.contextmanager
    def orphans(self) -> Iterator[list[tuple[Path, list[Sent]]]]:
        """The files of workers that died, locked for the caller; a file is removed when the caller's block
        ends without an error (its pages recorded), and left for a later try otherwise."""
        taken: list[tuple[Path, int, list[Sent]]] = []
        try:
            for path in self._orphan_paths():
                fd = self._try_lock(path)
                if fd is not None:
                    try:
                        taken.append((path, fd, read_entries(path)))
                    except OSError:
                        os.close(fd)
            yield [(path, entries) for path, _, entries in taken]
            for path, _, _ in taken:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        finally:
            for _, fd, _ in taken:
                os.close(fd)

    def _orphan_paths(self) -> list[Path]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return [self.directory / name for name in names
                if name.endswith(SUFFIX) and not name.startswith(".") and name != self.path.name]

    @staticmethod
    def _try_lock(path: Path) -> int | None:
        """An open, locked descriptor if nobody holds `path`, else None (its worker is alive)."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None  # another worker recorded it and removed it just now
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        if not path.exists():  # recorded and removed between our open and our lock
            os.close(fd)
            return None
        return fd
