"""Group commit: many requests in one transaction, each answered after the commit; a bad request fails
alone and the others in its batch are stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from onduty.adapters.db.batch_store import batch_transactions
from onduty.app.ports import IncidentFilter
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent, AlertUpsert, Decision
from onduty.engine.ingest_writer import IngestWriter


class PoisonedStore:
    """Delegates to the real store, but fails any batch holding the key 'poison'."""

    def __init__(self, store: Any):
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def upsert_alerts(self, rows: Sequence[AlertUpsert], now: datetime) -> Any:
        if any(r.dedup_key == "poison" for r in rows):
            raise RuntimeError("this row breaks the database")
        return self._store.upsert_alerts(rows, now)

    def insert_alerts(self, rows: Sequence[AlertUpsert], now: datetime) -> None:
        if any(r.dedup_key == "poison" for r in rows):
            raise RuntimeError("this row breaks the database")
        self._store.insert_alerts(rows, now)


def trigger(key: str) -> AlertEvent:
    return AlertEvent("trigger", key, "relevance fell", "monitor", "error")


def counting(planned: Container, commits: list[int], poisoned: bool = False) -> Any:
    real = batch_transactions(planned.db)

    @contextmanager
    def txs() -> Iterator[Any]:
        with real() as store:
            yield PoisonedStore(store) if poisoned else store
        commits.append(1)

    return txs


def test_one_bad_request_fails_alone_and_the_rest_of_its_batch_is_stored(planned: Container) -> None:
    commits: list[int] = []
    writer = IngestWriter(counting(planned, commits, poisoned=True), planned.clock, autostart=False)
    futures = [writer.submit([("recs-model", trigger(key))]) for key in ("a", "poison", "b")]
    writer.start()  # everything is queued: the three requests meet in one batch
    with pytest.raises(RuntimeError):
        futures[1].result(timeout=10)
    assert futures[0].result(timeout=10)[0].decision is Decision.OPEN
    assert futures[2].result(timeout=10)[0].decision is Decision.OPEN
    writer.stop()
    assert len(commits) == 2  # the batch of three failed; "a" and "b" were then stored one by one
    with planned.db.transaction() as store:
        assert len(store.incidents(IncidentFilter())) == 2


def commit_sizes() -> tuple[float, float]:
    """(group commits, events they stored) so far, from the `onduty_ingest_commit_events` histogram."""
    count = REGISTRY.get_sample_value("onduty_ingest_commit_events_count") or 0.0
    return count, REGISTRY.get_sample_value("onduty_ingest_commit_events_sum") or 0.0


def test_concurrent_requests_share_one_commit(planned: Container) -> None:
    commits: list[int] = []
    writer = IngestWriter(counting(planned, commits), planned.clock, autostart=False)
    futures = [writer.submit([("recs-model", trigger(f"k{n}"))]) for n in range(20)]
    before = commit_sizes()
    writer.start()
    results = [f.result(timeout=10)[0] for f in futures]
    writer.stop()
    assert all(r.decision is Decision.OPEN for r in results)
    assert len({r.incident_id for r in results}) == 20
    after = commit_sizes()
    assert (after[0] - before[0], after[1] - before[1]) == (1, 20)  # /metrics shows one commit of 20 events
    assert len(commits) == 1  # twenty requests, one transaction


def test_requests_waiting_in_an_event_loop_are_answered_together_after_their_commit(planned: Container) -> None:
    commits: list[int] = []
    writer = IngestWriter(counting(planned, commits, poisoned=True), planned.clock, autostart=False)

    async def send() -> tuple[list[Any], int]:
        loop = asyncio.get_running_loop()
        calls: list[object] = []
        wake = loop.call_soon_threadsafe

        def counted(callback: Any, *args: Any) -> Any:
            calls.append(callback)
            return wake(callback, *args)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        waits = [writer.wait([("recs-model", trigger(key))]) for key in ("a", "b", "poison", "c")]
        writer.start()  # everything is queued: one batch, which fails, then each request on its own
        answers = await asyncio.gather(*waits, return_exceptions=True)
        return answers, len(calls)

    answers, wakeups = asyncio.run(send())
    writer.stop()
    assert isinstance(answers[2], RuntimeError)
    assert [a[0].decision for a in answers if not isinstance(a, BaseException)] == [Decision.OPEN] * 3
    assert wakeups == 1  # four answers, one call into the loop
    assert len(commits) == 3  # "a", "b" and "c" each stored in a commit of its own


def test_stopped_writer_refuses_new_events(planned: Container) -> None:
    from onduty.app.ports import Unavailable

    writer = IngestWriter(batch_transactions(planned.db), planned.clock)
    writer.stop()
    with pytest.raises(Unavailable):
        writer.submit([("recs-model", trigger("late"))])


def test_several_writer_threads_keep_one_incident_per_key(planned: Container) -> None:
    writer = IngestWriter(batch_transactions(planned.db), planned.clock, autostart=False, writers=4)
    futures = [writer.submit([("recs-model", trigger(f"hot{n % 3}"))]) for n in range(60)]
    futures += [writer.submit([("recs-model", trigger(f"fresh{n}"))]) for n in range(10)]
    writer.start()  # four threads take batches from one queue and commit them concurrently
    results = [f.result(timeout=30)[0] for f in futures]
    writer.stop()
    hot: dict[str, set[int | None]] = {r.dedup_key: set() for r in results[:60]}
    for r in results[:60]:
        hot[r.dedup_key].add(r.incident_id)
    assert all(len(ids) == 1 for ids in hot.values())  # racing commits joined the winner's incident
    assert sum(r.decision is Decision.OPEN for r in results) == 13
    with planned.db.transaction() as store:
        assert len(store.incidents(IncidentFilter())) == 13
