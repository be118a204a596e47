"""Group commit for ingest: requests queue their events and wait; one writer thread applies everything
queued in a single transaction, commits once, then answers each request. Under load a commit carries
dozens of requests, so the database sees one transaction where it would have seen dozens.

A failure does not spread: when a batch fails, each request in it is retried in a transaction of
its own, so only the request at fault gets the error and the others are stored.

On PostgreSQL several writer threads (`writers`) take batches in turn, so one batch's work overlaps
another's wait for its commit to reach the disk; the database's unique indexes and row locks keep
them correct, as they do for several server processes. SQLite has one writer at a time: one thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from onduty.app.ingest import IngestResult, ingest_events
from onduty.app.ports import Clock, Transactions, Unavailable
from onduty.domain.alerts import AlertEvent
from onduty.engine import metrics

log = logging.getLogger("onduty.ingest")
Items = Sequence[tuple[str, AlertEvent]]


class Overloaded(RuntimeError):
    """Too many events are waiting for the database; the caller answers 503 so the sender retries."""


@dataclass
class _Request:
    items: Items
    future: Future[list[IngestResult]]
    queued_at: float = field(default_factory=time.perf_counter)


class IngestWriter:
    def __init__(
        self, txs: Transactions, clock: Clock, *, on_commit: Callable[[list[IngestResult]], None] | None = None,
        max_batch_events: int = 2000, max_waiting_events: int = 50_000, autostart: bool = True,
        writers: int = 1,
    ):
        self.txs, self.clock, self.on_commit = txs, clock, on_commit
        self.writers = max(1, writers)
        self.max_batch_events, self.max_waiting_events = max_batch_events, max_waiting_events
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._waiting = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopped = False
        self._autostart = autostart

    def submit(self, items: Items) -> Future[list[IngestResult]]:
        """Queue one request's events; the future resolves after their transaction has committed."""
        with self._lock:
            if self._stopped:
                raise Unavailable("the server is shutting down")
            if self._waiting + len(items) > self.max_waiting_events:
                raise Overloaded(f"{self._waiting} events are waiting to be stored")
            self._waiting += len(items)
        request = _Request(items, Future())
        self._queue.put(request)
        if self._autostart:
            self.start()
        return request.future

    def start(self) -> None:
        """Start the writer threads (once); with autostart, the first submit does it."""
        if self._threads:  # started: no lock to take on every submit
            return
        with self._lock:
            if not self._threads:
                threads = [threading.Thread(target=self._run, name=f"onduty-ingest-writer-{n}", daemon=True)
                           for n in range(self.writers)]
                for thread in threads:
                    thread.start()
                self._threads = threads

    def stop(self, timeout: float = 10.0) -> None:
        """Store what is queued, then end the threads."""
        with self._lock:
            self._stopped = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, size, last = [first], len(first.items), False
            while size < self.max_batch_events:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    last = True
                    break
                batch.append(nxt)
                size += len(nxt.items)
            self._commit(batch)
            with self._lock:
                self._waiting -= size
            if last:
                return

    def _commit(self, batch: list[_Request]) -> None:
        now = self.clock.now()
        results: list[IngestResult] = []
        try:
            stored = ingest_events(self.txs, [item for r in batch for item in r.items], now)
        except Unavailable as exc:  # nothing can be stored: every request answers "retry"
            for request in batch:
                request.future.set_exception(exc)
            return
        except Exception:
            if len(batch) > 1:
                log.warning("a batch of %d requests failed; storing each on its own", len(batch), exc_info=True)
            for request in batch:
                try:
                    done = ingest_events(self.txs, request.items, now)
                except Exception as exc:
                    request.future.set_exception(exc)
                else:
                    self._answer(request, done)
                    results += done
        else:
            offset = 0
            for request in batch:
                self._answer(request, stored[offset: offset + len(request.items)])
                offset += len(request.items)
            results = stored
        if results and self.on_commit is not None:
            self.on_commit(results)

    @staticmethod
    def _answer(request: _Request, results: list[IngestResult]) -> None:
        metrics.INGEST_SECONDS.observe(time.perf_counter() - request.queued_at)
        request.future.set_result(results)
