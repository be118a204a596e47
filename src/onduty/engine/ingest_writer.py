"""Group commit for ingest: requests queue their events and wait; one writer thread applies everything
queued in a single transaction, commits once, then answers each request. Under load a commit carries
dozens of requests, so the database sees one transaction where it would have seen dozens.

A failure does not spread: when a batch fails, each request in it is retried in a transaction of
its own, so only the request at fault gets the error and the others are stored.

On PostgreSQL several writer threads (`writers`) take batches in turn, so one batch's work overlaps
another's wait for its commit to reach the disk; the database's unique indexes and row locks keep
them correct, as they do for several server processes. SQLite has one writer at a time: one thread.

Requests from an asyncio event loop (`wait`) are answered with one call into their loop per batch,
not one per request: each call wakes the loop through its self-pipe and takes the GIL back and forth,
which for single events cost the server as much as a request's own parsing.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from onduty.app.ingest import IngestResult, ingest_events
from onduty.app.ports import Clock, Transactions, Unavailable
from onduty.domain.alerts import AlertEvent
from onduty.engine import metrics

log = logging.getLogger("onduty.ingest")
Items = Sequence[tuple[str, AlertEvent]]


class Overloaded(RuntimeError):
    """Too many events are waiting for the database; the caller answers 503 so the sender retries."""


@dataclass(slots=True)
class _Request:
    """One request's events; `loop` is set when `future` is an asyncio future of that loop."""

    items: Items
    future: Future[list[IngestResult]] | asyncio.Future[list[IngestResult]]
    loop: asyncio.AbstractEventLoop | None = None
    queued_at: float = field(default_factory=time.perf_counter)


# (future, results, error) for one event loop: set there, in one call per batch
Answers = list[tuple["asyncio.Future[list[IngestResult]]", "list[IngestResult] | None", "BaseException | None"]]


def _settle(answers: Answers) -> None:
    """Runs in the requests' event loop: resolve each waiting request (one that gave up is skipped)."""
    for future, results, error in answers:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(results)  # type: ignore[arg-type]


class IngestWriter:
    def __init__(
        self, txs: Transactions, clock: Clock, *, on_commit: Callable[[list[IngestResult]], None] | None = None,
        max_batch_events: int = 2000, max_waiting_events: int = 50_000, autostart: bool = True,
        writers: int = 1, on_thread_end: Callable[[], None] | None = None,
    ):
        """`on_thread_end` runs in each writer thread as it ends (one that kept a connection gives it back)."""
        self.txs, self.clock, self.on_commit = txs, clock, on_commit
        self.on_thread_end = on_thread_end
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
        future: Future[list[IngestResult]] = Future()
        self._enqueue(_Request(items, future))
        return future

    def wait(self, items: Items) -> asyncio.Future[list[IngestResult]]:
        """As `submit`, from a coroutine: the running loop's future, resolved with the rest of its batch."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[IngestResult]] = loop.create_future()
        self._enqueue(_Request(items, future, loop))
        return future

    def _enqueue(self, request: _Request) -> None:
        items = request.items
        with self._lock:
            if self._stopped:
                raise Unavailable("the server is shutting down")
            if self._waiting + len(items) > self.max_waiting_events:
                raise Overloaded(f"{self._waiting} events are waiting to be stored")
            self._waiting += len(items)
        self._queue.put(request)
        if self._autostart:
            self.start()

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
        try:
            self._loop()
        finally:
            if self.on_thread_end is not None:
                self.on_thread_end()

    def _loop(self) -> None:
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
        loops: dict[Any, Answers] = {}
        try:
            stored = ingest_events(self.txs, [item for r in batch for item in r.items], now)
        except Unavailable as exc:  # nothing can be stored: every request answers "retry"
            for request in batch:
                self._answer(loops, request, None, exc)
            self._deliver(loops)
            return
        except Exception:
            if len(batch) > 1:
                log.warning("a batch of %d requests failed; storing each on its own", len(batch), exc_info=True)
            for request in batch:
                try:
                    done = ingest_events(self.txs, request.items, now)
                except Exception as exc:
                    self._answer(loops, request, None, exc)
                else:
                    metrics.INGEST_COMMIT_EVENTS.observe(len(done))
                    self._answer(loops, request, done, None)
                    results += done
        else:
            metrics.INGEST_COMMIT_EVENTS.observe(len(stored))
            offset = 0
            for request in batch:
                self._answer(loops, request, stored[offset: offset + len(request.items)], None)
                offset += len(request.items)
            results = stored
        self._deliver(loops)
        if results and self.on_commit is not None:
            self.on_commit(results)

    @staticmethod
    def _answer(loops: dict[Any, Answers], request: _Request, results: list[IngestResult] | None,
                error: BaseException | None) -> None:
        """Answer a thread's request now; gather an event loop's for `_deliver`."""
        if error is None:
            metrics.INGEST_SECONDS.observe(time.perf_counter() - request.queued_at)
        if request.loop is not None:
            loops.setdefault(request.loop, []).append((request.future, results, error))  # type: ignore[arg-type]
        elif error is not None:
            request.future.set_exception(error)
        else:
            request.future.set_result(results)  # type: ignore[arg-type]

    @staticmethod
    def _deliver(loops: dict[Any, Answers]) -> None:
        """One call into each event loop for all its requests of the batch."""
        for loop, answers in loops.items():
            try:
                loop.call_soon_threadsafe(_settle, answers)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                log.debug("an event loop closed before %d answers reached it", len(answers))
