"""The outbox: retries with backoff, fallback to the next contact, and re-sending after a crash."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from onduty.adapters.clock import SimulatedClock
from onduty.app.delivery import Sent, record_delivered_many
from onduty.app.ports import DeliveryError, Transactions, Unavailable
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.domain.incidents import OutboxMessage
from onduty.engine import worker as worker_module
from tests.conftest import RecordingChannel, advance
from tests.integration.test_escalation import kinds, trigger


def test_failed_delivery_retries_with_backoff_then_succeeds(planned: Container, pager: RecordingChannel,
                                                           clock: SimulatedClock) -> None:
    pager.fail_with = DeliveryError("HTTP 503")
    incident_id = trigger(planned, severity="warning")  # Sev3: the on-call alone is paged
    planned.worker.run_once(clock.now())
    advance(planned, clock, timedelta(seconds=9))
    assert pager.attempts == 1  # the first retry waits 10 s
    pager.fail_with = None
    advance(planned, clock, timedelta(seconds=1))
    assert pager.people() == ["aiko"]
    assert kinds(planned, incident_id).count("page.retry") == 1
    assert "page.delivered" in kinds(planned, incident_id)


def test_exhausted_retries_fall_back_to_the_next_contact_method(planned: Container, pager: RecordingChannel,
                                                                clock: SimulatedClock) -> None:
    pager.fail_with, pager.fail_only = DeliveryError("connection refused"), {"webhook"}
    incident_id = trigger(planned, severity="warning")
    advance(planned, clock, timedelta(seconds=69))  # webhook attempts at 0, 10, 30 s
    assert pager.sent == []
    advance(planned, clock, timedelta(seconds=1))  # the 4th and last at 70 s, then email at once
    # Aiko's contacts: webhook first, then email.
    assert [(m.person_id, m.channel) for m in pager.sent] == [("aiko", "email")]
    timeline = kinds(planned, incident_id)
    assert timeline.count("page.retry") == 3 and "page.fallback" in timeline


def test_permanent_error_skips_retries(planned: Container, pager: RecordingChannel,
                                       clock: SimulatedClock) -> None:
    pager.fail_with = DeliveryError("HTTP 404", permanent=True)
    incident_id = trigger(planned, severity="warning")
    planned.worker.run_once(clock.now())
    assert pager.attempts == 2  # webhook refused for good, email tried in the same tick
    assert "page.retry" not in kinds(planned, incident_id)


def test_a_tick_that_sent_every_due_page_does_not_claim_again(
    planned: Container, pager: RecordingChannel, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onduty.adapters.db.store import SqlStore

    claims: list[int] = []
    claim = SqlStore.claim_deliveries

    def counted(self: SqlStore, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMessage]:
        claimed = claim(self, now, lease_until, limit)
        claims.append(len(claimed))
        return claimed

    monkeypatch.setattr(SqlStore, "claim_deliveries", counted)
    trigger(planned, severity="warning")
    planned.worker.run_once(clock.now())
    assert pager.people() == ["aiko"] and claims == [1]  # fewer than a claim's worth, none failed: done
    claims.clear()
    pager.fail_with = DeliveryError("HTTP 404", permanent=True)
    trigger(planned, key="k2", severity="warning")
    planned.worker.run_once(clock.now())
    assert claims == [1, 1, 0]  # the failure queued a fallback, claimed in the same tick


def test_page_cut_off_mid_delivery_is_resent_with_the_same_key(
    planned: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    trigger(planned, severity="warning")
    with planned.db.transaction() as store:
        from onduty.app.timers import fire

        directory = store.directory()
        for timer in store.claim_due_timers(clock.now(), 10):
            fire(store, directory, timer, clock.now())
    # A worker leases the page and dies before recording any result.
    with planned.db.transaction() as store:
        (leased,) = store.claim_deliveries(clock.now(), clock.now() + timedelta(seconds=60), 10)
    planned.worker.run_once(clock.now() + timedelta(seconds=30))
    assert pager.sent == []  # the lease still holds
    advance(planned, clock, timedelta(seconds=61))
    assert [m.idempotency_key for m in pager.sent] == [leased.idempotency_key]


def test_timers_survive_a_restart(database_url: str, planned: Container, clock: SimulatedClock) -> None:
    trigger(planned)
    planned.worker.run_once(clock.now())
    planned.db.dispose()  # the process dies; nothing in memory survives
    fresh_pager = RecordingChannel()
    restarted = build(Settings(database_url=database_url), clock=clock,
                      channels={k: fresh_pager for k in ("webhook", "email", "sms", "console")})
    try:
        advance(restarted, clock, timedelta(minutes=10))
        assert fresh_pager.people() == ["lucia"]  # level 2, on time, and Aiko's page not repeated
    finally:
        restarted.db.dispose()


def test_several_senders_send_each_page_once_and_record_each_delivery_once(
    database_url: str, planned: Container, clock: SimulatedClock
) -> None:
    incidents = [trigger(planned, key=f"k{i}") for i in range(12)]
    pager = RecordingChannel()
    busy = build(Settings(database_url=database_url, delivery_threads=4), clock=clock,
                 channels={k: pager for k in ("webhook", "email", "sms", "console")})
    try:
        busy.worker.run_once(clock.now())
        keys = [m.idempotency_key for m in pager.sent]
        assert len(keys) > len(incidents) and len(set(keys)) == len(keys)
        with busy.db.transaction() as store:
            delivered = [e.data["idempotency_key"] for i in incidents for e in store.timeline(i)
                         if e.kind.endswith(".delivered")]
            statuses = {m.idempotency_key: m.status for m in store.outbox_by_prefix("")}
        assert sorted(delivered) == sorted(keys)  # each sent page on its timeline exactly once
        assert {statuses[k] for k in keys} == {"delivered"}
        assert not {"pending", "delivering"} & set(statuses.values())  # nothing left leased or waiting
    finally:
        busy.db.dispose()


def test_a_page_queued_twice_under_one_key_is_stored_once(planned: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(planned)
    planned.worker.run_once(clock.now())
    with planned.db.transaction() as store:
        (first, *_) = store.outbox_by_prefix(f"page:{incident_id}:")
        again = OutboxMessage(first.idempotency_key, incident_id, first.person_id, first.channel, first.address,
                              first.contact_index, first.payload, clock.now(), clock.now())
        assert store.add_outbox(again) is False
    with planned.db.transaction() as store:
        rows = store.outbox_by_prefix(first.idempotency_key)
    assert [(m.idempotency_key, m.status) for m in rows] == [(first.idempotency_key, "delivered")]


def test_a_delivery_whose_recording_failed_is_recorded_later_and_not_sent_again(
    planned: Container, pager: RecordingChannel, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    incident_id = trigger(planned, severity="warning")
    attempts: list[list[Sent]] = []

    def flaky(txs: Transactions, outcomes: Sequence[Sent], now: datetime, *, replay: bool = False) -> int:
        attempts.append(list(outcomes))
        if len(attempts) == 1:
            raise Unavailable("the database went away")
        return record_delivered_many(txs, outcomes, now, replay=replay)

    monkeypatch.setattr(worker_module, "record_delivered_many", flaky)
    with pytest.raises(Unavailable):
        planned.worker.run_once(clock.now())
    assert len(attempts) == 2 and attempts[0] == attempts[1]  # the same pages, tried again
    assert kinds(planned, incident_id).count("page.delivered") == 1
    advance(planned, clock, timedelta(seconds=120))  # well past the page's lease
    assert pager.people() == ["aiko"]  # sent once


def test_a_running_worker_records_a_page_delivered_when_its_channel_accepted_it(
    planned: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    import threading

    stop = threading.Event()
    ticked = clock.now()

    class SlowChannel:
        """Takes 7 s of the clock to accept a page, then stops the worker."""

        def send(self, message: OutboxMessage, now: datetime) -> str:
            clock.set(clock.now() + timedelta(seconds=7))
            stop.set()
            return pager.send(message, now)

    incident_id = trigger(planned, severity="warning")
    slow = SlowChannel()
    planned.worker.channels = {kind: slow for kind in ("webhook", "email", "sms", "console")}
    planned.worker.run_forever(clock, stop, poll=0.01)
    assert pager.people() == ["aiko"]
    with planned.db.transaction() as store:
        delivered = [e for e in store.timeline(incident_id) if e.kind == "page.delivered"]
        page = store.outbox_message(pager.sent[0].id or 0)
    assert page is not None and page.delivered_at == ticked + timedelta(seconds=7)
    assert [e.at for e in delivered] == [ticked + timedelta(seconds=7)]  # not the tick's start


def test_the_engine_state_read_after_each_tick_agrees_with_its_single_reads(
    planned: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    def both() -> tuple[tuple[object, ...], tuple[object, ...]]:
        with planned.db.transaction() as store:
            state = store.engine_state()
            single = (store.next_timer_due(), store.next_delivery_due(), store.outbox_depth(), store.outbox_failed())
        return (state.timer_due, state.delivery_due, state.depth, state.failed), single

    now = clock.now()
    combined, single = both()
    assert combined == single == (None, None, 0, 0)
    trigger(planned)  # Sev1: its first escalation is due at once
    combined, single = both()
    assert combined == single and combined[0] == now
    pager.fail_with = DeliveryError("HTTP 503")
    planned.worker.run_once(now)  # pages queued, every one failed once: retried in 10 s
    combined, single = both()
    assert combined == single and combined[1] == now + timedelta(seconds=10) and combined[2] >= 2
    with planned.db.transaction() as store:  # one page leased until a minute later: not the soonest
        store.claim_deliveries(now + timedelta(seconds=10), now + timedelta(seconds=70), 1)
    combined, single = both()
    assert combined == single and combined[1] == now + timedelta(seconds=10)
    pager.fail_with = DeliveryError("HTTP 410", permanent=True)
    planned.worker.run_once(now + timedelta(seconds=10))  # the others fail for good; the leased one waits
    combined, single = both()
    assert combined == single and combined[1] == now + timedelta(seconds=70) and combined[3] >= 1
    assert planned.worker.lag_seconds(now + timedelta(seconds=100)) >= 30.0


def test_a_running_worker_ticks_on_its_kept_transactions_and_gives_them_back(
    planned: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    import threading

    from onduty.engine.worker import Kept

    used: list[str] = []
    released: list[bool] = []

    def counting(name: str, txs: Transactions) -> Transactions:
        def transaction():  # type: ignore[no-untyped-def]
            used.append(name)
            return txs()
        return transaction

    worker = planned.worker
    worker.kept = Kept(counting("kept", worker.txs), counting("kept bulk", worker.bulk), lambda: released.append(True))
    trigger(planned, severity="warning")
    stop = threading.Event()
    loop = threading.Thread(target=worker.run_forever, args=(clock, stop, 0.05))
    loop.start()
    try:
        for _ in range(200):
            if pager.people():
                break
            threading.Event().wait(0.01)
    finally:
        stop.set()
        worker.wake()
        loop.join(10)
    assert pager.people() == ["aiko"]
    assert "kept" in used and "kept bulk" in used and released == [True]
    used.clear()
    worker.run_once(clock.now())  # outside the loop: the plain transactions again
    assert used == []
