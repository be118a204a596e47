"""The delivery journal: a page sent by a worker that died before recording it is recorded by another
worker from the dead worker's journal, not sent a second time when the claim's lease runs out."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from onduty.adapters.clock import SimulatedClock
from onduty.app.delivery import Sent
from onduty.app.ports import Transactions, Unavailable
from onduty.bootstrap import Container
from onduty.engine import worker as worker_module
from onduty.engine.journal import DeliveryJournal
from tests.conftest import RecordingChannel, advance, worker_container
from tests.integration.test_escalation import trigger


@pytest.fixture
def peer(database_url: str, clock: SimulatedClock, pager: RecordingChannel) -> Iterator[Container]:
    """A second worker process on the same database, sending through the same channels."""
    yield from worker_container(database_url, clock, pager)


def unreachable(txs: Transactions, outcomes: Sequence[Sent], now: datetime, *, replay: bool = False) -> int:
    raise Unavailable("the database went away")


@pytest.fixture
def journals(tmp_path: Path) -> Path:
    return tmp_path / "journals"


@pytest.fixture
def sent_by_dead_worker(planned: Container, clock: SimulatedClock, journals: Path,
                        monkeypatch: pytest.MonkeyPatch) -> int:
    """The first worker sends a Sev3 page, cannot record it, and is killed: its journal is all that is left.
    Returns the incident."""
    incident_id = trigger(planned, severity="warning")
    planned.worker.journal = DeliveryJournal(journals)
    with monkeypatch.context() as patch:
        patch.setattr(worker_module, "record_delivered_many", unreachable)
        with pytest.raises(Unavailable):
            planned.worker.run_once(clock.now())
    planned.worker.journal.close(recorded=False)  # the process is gone: its lock with it, the file stays
    return incident_id


def delivered_entries(c: Container, incident_id: int) -> list[dict[str, object]]:
    with c.db.transaction() as store:
        return [e.data for e in store.timeline(incident_id) if e.kind == "page.delivered"]


def test_a_page_sent_by_a_worker_killed_before_recording_it_is_recorded_by_another_and_not_resent(
    sent_by_dead_worker: int, peer: Container, pager: RecordingChannel, clock: SimulatedClock, journals: Path,
) -> None:
    incident_id = sent_by_dead_worker
    assert pager.people() == ["aiko"]
    assert delivered_entries(peer, incident_id) == []  # sent, not recorded

    peer.worker.journal = DeliveryJournal(journals)
    peer.worker.run_once(clock.now())
    (entry,) = delivered_entries(peer, incident_id)
    assert entry["recorded_from"] == "the delivery journal of a worker that stopped"
    assert list(journals.glob("*.journal")) == []  # recorded, so removed

    advance(peer, clock, timedelta(minutes=3))  # well past the dead worker's 60 s lease
    assert pager.people() == ["aiko"]  # sent once
    with peer.db.transaction() as store:
        assert [m.status for m in store.outbox_by_prefix(f"page:{incident_id}:")] == ["delivered"]


def test_a_journaled_page_claimed_again_after_its_lease_is_left_to_its_new_owner(
    sent_by_dead_worker: int, peer: Container, clock: SimulatedClock, journals: Path,
) -> None:
    incident_id = sent_by_dead_worker
    clock.advance(timedelta(seconds=61))
    with peer.db.transaction() as store:  # a worker elsewhere claims the page once the lease has run out
        (reclaimed,) = store.claim_deliveries(clock.now(), clock.now() + timedelta(seconds=60), 10)
    assert reclaimed.attempts == 2

    peer.worker.journal = DeliveryJournal(journals)
    peer.worker.run_once(clock.now())
    assert delivered_entries(peer, incident_id) == []  # the journal's claim (attempt 1) is not this one
    with peer.db.transaction() as store:
        (row,) = store.outbox_by_prefix(f"page:{incident_id}:")
    assert (row.status, row.attempts) == ("delivering", 2)


def test_a_journal_whose_recording_fails_stays_for_the_next_tick(
    sent_by_dead_worker: int, peer: Container, clock: SimulatedClock, journals: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    peer.worker.journal = DeliveryJournal(journals)
    with monkeypatch.context() as patch:
        patch.setattr(worker_module, "record_delivered_many", unreachable)
        with pytest.raises(Unavailable):
            peer.worker.run_once(clock.now())
    assert len(list(journals.glob("*.journal"))) == 1
    peer.worker.run_once(clock.now())
    assert len(delivered_entries(peer, sent_by_dead_worker)) == 1
    assert list(journals.glob("*.journal")) == []
