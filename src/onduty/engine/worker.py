"""The worker: fire due timers, then deliver due pages. `run_once(now)` is one tick, on any clock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from onduty.app.audit import SEAL_BATCH, seal_audit
from onduty.app.client_requests import record_missed_requests
from onduty.app.delivery import Sent, cancel_if_acknowledged, record_delivered_many, record_failed
from onduty.app.heartbeats import check_heartbeats
from onduty.app.ports import Channel, Clock, DeliveryError, Transactions, Unavailable
from onduty.app.readiness import send_reminders
from onduty.app.reminders import send_review_reminders
from onduty.app.timers import fire
from onduty.domain.incidents import OutboxMessage
from onduty.engine import metrics
from onduty.engine.journal import DeliveryJournal

log = logging.getLogger("onduty.worker")
READINESS_CHECK_EVERY = timedelta(hours=1)
REMINDER_CHECK_EVERY = timedelta(minutes=5)
SEAL_EVERY = timedelta(seconds=5)
# Missed heartbeats and client requests, and dead workers' journals, are looked for at most this often:
# an idle worker ticks every poll (a second by default) anyway, but a storm's ticks follow each other
# every few milliseconds, and these checks (a transaction each) cost as much as the paging they delay.
HOUSEKEEPING_EVERY = timedelta(seconds=1)
LAG_EVERY = 1.0  # seconds: how often back-to-back busy ticks update the lag gauges
MIN_IDLE_WAIT = 0.1  # seconds: the shortest sleep before work due soon (each tick costs a few queries)
IDLE_SEAL_BATCHES = 20  # batches of audit rows sealed after an idle tick (a few milliseconds each)


@dataclass(frozen=True)
class Kept:
    """Transactions on a connection the loop's thread keeps from one to the next (on PostgreSQL: no pool
    checkout, ping and reset for each of a storm's hundreds of ticks), and how to give it back."""

    txs: Transactions
    bulk: Transactions
    release: Callable[[], None]


@dataclass
class TickReport:
    timers_fired: int = 0
    delivered: int = 0
    failed: int = 0
    heartbeats_missed: int = 0
    requests_missed: int = 0
    reminders: int = 0
    sealed: int = 0


class Worker:
    def __init__(
        self, txs: Transactions, channels: Mapping[str, Channel], *,
        batch: int = 100, lease: timedelta = timedelta(seconds=60), senders: int = 1,
        bulk: Transactions | None = None, journal_dir: Path | None = None, kept: Kept | None = None,
    ):
        self.txs = txs
        # Transactions that write timeline rows and timers in bulk at the end (firing timers, recording
        # delivered pages): a batch is a few statements instead of a few per timer or page.
        self.bulk = bulk or txs
        # The tick's own transactions (not the senders'): on a kept connection while `run_forever` runs.
        self.kept = kept
        self._tick_txs, self._tick_bulk = self.txs, self.bulk
        self.channels = channels
        self.batch = batch
        # Pages claimed at once: enough to keep every sender busy while the slowest answers.
        self.claim = max(batch, 2 * senders)
        self.lease = lease
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._reminders_checked: datetime | None = None
        self._housekept: datetime | None = None
        self._next_due: datetime | None = None  # the soonest timer or page seen by `lag_seconds`
        self._last_seal: datetime | None = None
        self._seal_behind = False  # the last pass left unsealed rows: seal more at the next idle tick
        self._count = threading.Lock()
        self._delivered: list[Sent] = []  # sent, not yet recorded
        # A running worker (`run_forever`) journals each sent page at once, so a crash before the page is
        # recorded does not re-send it: the other workers record it from the journal.
        self.journal_dir = journal_dir
        self.journal: DeliveryJournal | None = None
        # The wall clock while `run_forever` runs: a page is recorded as delivered when its channel accepted
        # it, not at the start of a tick that may have taken seconds. Without it, the tick's `now`.
        self._clock: Clock | None = None
        self._recording = threading.Lock()
        # Several senders overlap the round trips of sending and recording pages, so a slow channel holds
        # one sender, not every page; with one, pages go out in claim order.
        self._pool = ThreadPoolExecutor(senders, thread_name_prefix="onduty-sender") if senders > 1 else None

    def run_once(self, now: datetime) -> TickReport:
        """Fire every timer due by `now`, then try every page due by `now`."""
        started = time.monotonic()
        report = TickReport()
        last = self._housekept
        if last is None or not last <= now < last + HOUSEKEEPING_EVERY:
            self._recover_orphans(now)  # first: a dead worker's sent pages, before their leases run out
            report.heartbeats_missed = check_heartbeats(self._tick_txs, now)  # first: a missed beat may page at once
            report.requests_missed = record_missed_requests(self._tick_txs, now)
            self._housekept = now
        last = self._reminders_checked
        if last is None or not last <= now < last + REMINDER_CHECK_EVERY:
            report.reminders = send_review_reminders(self._tick_txs, now)  # overdue reviews and actions, once a day
            self._reminders_checked = now
        while True:
            with self._tick_bulk() as store:
                directory = store.directory()
                timers = store.claim_due_timers(now, self.batch)
                store.lock_incidents([timer.incident_id for timer in timers])
                for timer in timers:
                    fire(store, directory, timer, now)
            report.timers_fired += len(timers)
            if len(timers) < self.batch or self._stopping.is_set():
                break
        while True:
            failed = report.failed
            with self._tick_txs() as store:
                # The lease runs from the moment of the claim, not from the tick's `now`: a long tick
                # must not hand out leases that have already run out, or two workers send one page.
                elapsed = timedelta(seconds=time.monotonic() - started)
                claimed = store.claim_deliveries(now, now + elapsed + self.lease, self.claim)
            deadline = time.monotonic() + self.lease.total_seconds() / 2
            try:
                if self._pool is None:
                    for message in claimed:
                        self._deliver(message, now, deadline, report)
                else:
                    list(self._pool.map(self._deliver, claimed, [now] * len(claimed),
                                        [deadline] * len(claimed), [report] * len(claimed)))
            finally:
                self._record_delivered(now)  # whatever a failed recording left behind
            if not claimed or self._stopping.is_set():
                break
            if len(claimed) < self.claim and report.failed == failed:
                break  # every page due by `now` was claimed and none failed: no fallback can be due yet
        self._seal(now, report)
        return report

    def _deliver(self, message: OutboxMessage, now: datetime, deadline: float, report: TickReport) -> None:
        """Send one claimed page and record the outcome: a failure in a transaction of its own, a delivery
        with whatever else was delivered meanwhile (`_record_delivered`), before sending the next."""
        assert message.id is not None
        if self._stopping.is_set():
            return  # unsent claims come back when their lease ends
        if time.monotonic() > deadline:
            return  # past half the lease another worker may take it: leave it to them, not send it twice
        if message.payload.get("cancel_on_ack") and cancel_if_acknowledged(self.txs, message.id, now):
            return
        channel = self.channels.get(message.channel)
        try:
            if channel is None:
                raise DeliveryError(f"no {message.channel} channel is set up here", permanent=True)
            receipt = channel.send(message, now)
        except DeliveryError as exc:
            with self._count:
                report.failed += 1
            metrics.DELIVERY_FAILURES.labels(message.channel).inc()
            record_failed(self.txs, message.id, str(exc), exc.permanent, now)
        else:
            metrics.PAGES_DELIVERED.labels(message.channel).inc()
            at = max(now, self._clock.now()) if self._clock is not None else now
            sent = Sent(message.id, message.idempotency_key, message.attempts, message.lease_until, receipt, at)
            with self._count:
                if self.journal is not None:
                    self.journal.add(sent)
                report.delivered += 1
                self._delivered.append(sent)
            self._record_delivered(now, message.id)

    def _record_delivered(self, now: datetime, mine: int | None = None) -> None:
        """Group commit: a sender waits until its page (`mine`) is recorded; whoever records takes every page
        sent so far into one transaction. So at most one page per sender is sent and not yet recorded (and
        journaled: a crash re-sends none); with `mine` None, record whatever is left."""
        with self._recording:
            with self._count:
                if mine is not None and all(sent.message_id != mine for sent in self._delivered):
                    return  # recorded by another sender's transaction while this one waited
                outcomes, self._delivered = self._delivered, []
            if not outcomes:
                return
            try:
                record_delivered_many(self.bulk, outcomes, now)
            except Exception:
                with self._count:  # sent all the same: record them at the next chance, not send them again
                    self._delivered[:0] = outcomes
                raise
            with self._count:
                if self.journal is not None:
                    self.journal.clear(keep=self._delivered)  # the rest of the file is recorded

    def _recover_orphans(self, now: datetime) -> None:
        """Record the pages in the journals of workers that died (SIGKILL, crash): they were sent."""
        if self.journal is None:
            return
        try:
            with self.journal.orphans() as orphans:
                for path, entries in orphans:
                    marked = record_delivered_many(self.bulk, entries, now, replay=True)
                    if entries:
                        log.warning("recorded %d of %d sent pages from %s, the journal of a worker that stopped",
                                    marked, len(entries), path.name)
        except Unavailable:
            raise
        except Exception:
            log.exception("could not record a stopped worker's delivery journal; the next tick tries again")

    def _seal(self, now: datetime, report: TickReport) -> None:
        """Chain new audit rows every few seconds, never long in the way of paging: after a tick that
        paged, one batch at most (a storm's pages do not wait for its seals); after an idle tick a few,
        and again at the next tick while rows are left over."""
        busy = bool(report.timers_fired or report.delivered or report.failed)
        due = self._last_seal is None or now - self._last_seal >= SEAL_EVERY
        if not (due or (self._seal_behind and not busy)):
            return
        self._last_seal = now
        batches = 1 if busy else IDLE_SEAL_BATCHES
        try:
            report.sealed = seal_audit(self._tick_txs, now, max_batches=batches)
        except Unavailable:
            raise
        except Exception:
            log.exception("sealing the audit trail failed; the next pass retries")
            return
        self._seal_behind = report.sealed >= batches * SEAL_BATCH  # every batch was full: maybe more

    def lag_seconds(self, now: datetime, txs: Transactions | None = None) -> float:
        """How far the oldest due work (an unfired timer, a page due to be sent) is behind `now`."""
        with (txs or self.txs)() as store:
            state = store.engine_state()
        timer_due, delivery_due, depth, failed = state.timer_due, state.delivery_due, state.depth, state.failed
        timer_lag = max((now - timer_due).total_seconds(), 0.0) if timer_due else 0.0
        delivery_lag = max((now - delivery_due).total_seconds(), 0.0) if delivery_due else 0.0
        self._next_due = min((d for d in (timer_due, delivery_due) if d is not None), default=None)
        metrics.OUTBOX_DEPTH.set(depth)
        metrics.OUTBOX_FAILED.set(failed)
        metrics.TIMER_LAG.set(timer_lag)
        metrics.DELIVERY_LAG.set(delivery_lag)
        lag = max(timer_lag, delivery_lag)
        metrics.ENGINE_LAG.set(lag)
        return lag

    def wake(self) -> None:
        """Ask the loop to tick now (an alert just arrived) instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the page in hand and leave the loop; claimed pages come back after their lease."""
        self._stopping.set()
        self._wake.set()

    def run_forever(self, clock: Clock, stop: threading.Event, poll: float = 1.0) -> None:
        """Tick on the wall clock until `stop` is set; errors are logged and the loop goes on."""
        self._clock = clock
        if self.journal_dir is not None and self.journal is None:
            self.journal = DeliveryJournal(self.journal_dir)
        if self.kept is not None:
            self._tick_txs, self._tick_bulk = self.kept.txs, self.kept.bulk
        try:
            self._loop(clock, stop, poll)
        finally:
            self._tick_txs, self._tick_bulk = self.txs, self.bulk
            if self.kept is not None:
                self.kept.release()
        self.close(clock.now())

    def _loop(self, clock: Clock, stop: threading.Event, poll: float) -> None:
        reminders_due = clock.now() + READINESS_CHECK_EVERY  # not at start: a restart must not nag
        lag_read = float("-inf")
        while not stop.is_set() and not self._stopping.is_set():
            busy = False
            ticked = clock.now()
            try:
                if ticked >= reminders_due:
                    reminders_due = ticked + READINESS_CHECK_EVERY
                    send_reminders(self.txs, self.channels, ticked)
                report = self.run_once(ticked)
                # Work may have fallen due while this tick ran: after a busy tick, tick again at once.
                busy = bool(report.timers_fired or report.delivered or report.failed)
                # Before a wait, read when work falls due next; during a storm, for the gauges once a second.
                if not busy or time.monotonic() >= lag_read + LAG_EVERY:
                    self.lag_seconds(clock.now(), self._tick_txs)
                    lag_read = time.monotonic()
                metrics.LAST_TICK.set_to_current_time()
            except Unavailable as exc:
                log.warning("database unavailable, retrying: %s", exc)
            except Exception:
                log.exception("worker tick failed; retrying")
            if not busy:
                self._wake.wait(idle_wait(self._next_due, ticked, clock.now(), poll))
            self._wake.clear()

    def close(self, now: datetime) -> None:
        """Record what is left and remove the journal; if recording fails, the journal stays for the others."""
        try:
            self._record_delivered(now)
        except Exception:
            log.exception("could not record the last sent pages; another worker records them from the journal")
        if self.journal is not None:
            with self._count:
                self.journal.close(recorded=not self._delivered)
            self.journal = None


def idle_wait(next_due: datetime | None, ticked: datetime, now: datetime, poll: float) -> float:
    """Seconds to sleep after an idle tick that looked for work due by `ticked`: none if more fell due
    since, else until the next timer or page falls due but at least MIN_IDLE_WAIT (work falling due
    every few milliseconds is taken a few at a time, not one tick each), and at most `poll`. Work that
    was due when the tick looked and is still there is another worker's (claimed or leased): wait a poll."""
    if next_due is None or next_due <= ticked:
        return poll
    if next_due <= now:
        return 0.0
    return min(poll, max((next_due - now).total_seconds() + 0.005, MIN_IDLE_WAIT))
