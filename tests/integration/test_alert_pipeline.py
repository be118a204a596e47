"""Routing, classification, grouping, inhibition, silences, maintenance windows, auto-resolve and
heartbeats on a real database, through the bulk (group-commit) store the HTTP path uses."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from onduty.adapters.db.batch_store import batch_transactions
from onduty.app.heartbeats import check_heartbeats, create_heartbeat_key, record_beat
from onduty.app.incidents import change_status
from onduty.app.ingest import IngestResult, ingest_events
from onduty.app.ports import AlertFilter, Conflict, IncidentFilter, Transactions
from onduty.app.silences import create_silence, expire_silence
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent, AlertUpsert, Decision
from tests.conftest import advance
from tests.integration.alerting_plan import apply_alerting_plan


@pytest.fixture
def txs(container: Container, tmp_path: Path) -> Transactions:
    apply_alerting_plan(container, tmp_path)
    return batch_transactions(container.db)


def trigger(key: str, summary: str = "relevance fell", group: str | None = None, severity: str = "error",
            **labels: str) -> AlertEvent:
    return AlertEvent("trigger", key, summary, "monitor", severity, group=group, labels=labels)


def send(txs: Transactions, container: Container, service: str, *events: AlertEvent) -> list[IngestResult]:
    return ingest_events(txs, [(service, e) for e in events], container.clock.now())


def kinds(container: Container, incident_id: int | None) -> list[str]:
    with container.db.transaction() as store:
        return [e.kind for e in store.timeline(incident_id or 0)]


def test_alerts_of_one_group_within_the_window_join_one_incident(txs: Transactions, container: Container) -> None:
    first = send(txs, container, "recs-model", trigger("a", group="g"), trigger("b", group="g"), trigger("c"))
    assert [r.decision for r in first] == [Decision.OPEN, Decision.GROUP, Decision.OPEN]
    assert first[0].incident_id == first[1].incident_id != first[2].incident_id
    container.clock.advance(timedelta(minutes=4))
    assert send(txs, container, "recs-model", trigger("d", group="g"))[0].decision is Decision.GROUP
    container.clock.advance(timedelta(minutes=2))  # the group's 5-minute window is over
    late = send(txs, container, "recs-model", trigger("e", group="g"))[0]
    assert late.decision is Decision.OPEN and late.incident_id != first[0].incident_id
    assert "alert.grouped" in kinds(container, first[0].incident_id)


def test_a_group_alert_during_monitoring_reopens_and_after_closing_opens_a_new_incident(
    txs: Transactions, container: Container
) -> None:
    opened = send(txs, container, "recs-model", trigger("a", group="g"))[0]
    change_status(container.db, opened.incident_id or 0, "resolved", "aiko", container.clock.now())
    container.clock.advance(timedelta(minutes=10))  # the group's window is long over; monitoring is not
    again = send(txs, container, "recs-model", trigger("b", group="g"))[0]
    assert again.decision is Decision.REOPEN and again.incident_id == opened.incident_id
    change_status(container.db, opened.incident_id or 0, "resolved", "aiko", container.clock.now())
    advance(container, container.clock, timedelta(minutes=31))  # Sev2 monitors for 30 minutes, then closes
    later = send(txs, container, "recs-model", trigger("c", group="g"))[0]
    assert later.decision is Decision.OPEN and later.incident_id != opened.incident_id


def test_dependent_services_join_the_upstream_incident_instead_of_paging(
    txs: Transactions, container: Container
) -> None:
    feed = send(txs, container, "catalog-feed", trigger("rows", "catalog rows 12% of usual"))[0]
    model, api = send(txs, container, "recs-model", trigger("relevance")) + \
        send(txs, container, "recs-api", trigger("errors"))
    assert model.decision is api.decision is Decision.INHIBIT
    assert model.incident_id == api.incident_id == feed.incident_id
    with container.db.transaction() as store:
        assert len(store.incidents(IncidentFilter())) == 1
        affected = [(s, r) for s, r, _ in store.affected_services(feed.incident_id or 0)]
    assert affected[0] == ("catalog-feed", "origin")
    assert set(affected[1:]) == {("recs-model", "inhibit"), ("recs-api", "inhibit")}
    assert kinds(container, feed.incident_id).count("alert.inhibited") == 2
    change_status(container.db, feed.incident_id or 0, "resolved", "lucia", container.clock.now())
    advance(container, container.clock, timedelta(minutes=31))  # monitored, then closed
    after = send(txs, container, "recs-api", trigger("errors"))[0]
    assert after.decision is Decision.OPEN and after.incident_id != feed.incident_id


def test_a_monitored_incident_does_not_take_in_its_dependents(txs: Transactions, container: Container) -> None:
    feed = send(txs, container, "catalog-feed", trigger("rows", "catalog rows 12% of usual"))[0]
    change_status(container.db, feed.incident_id or 0, "resolved", "lucia", container.clock.now())
    model = send(txs, container, "recs-model", trigger("relevance"))[0]
    assert model.decision is Decision.OPEN and model.incident_id != feed.incident_id


def test_an_upstream_incident_opened_in_the_same_batch_takes_in_its_dependents(
    txs: Transactions, container: Container
) -> None:
    results = ingest_events(txs, [("catalog-feed", trigger("rows")), ("recs-model", trigger("relevance"))],
                            container.clock.now())
    assert [r.decision for r in results] == [Decision.OPEN, Decision.INHIBIT]


def test_silenced_alert_is_stored_not_paged_and_pages_once_the_silence_ends(
    txs: Transactions, container: Container
) -> None:
    now = container.clock.now()
    silence = create_silence(container.db, ['alertname="Drift"'], now, now + timedelta(hours=1), "aiko",
                             "retraining", now, "recs-model")
    held = send(txs, container, "recs-model", trigger("drift", alertname="Drift"), trigger("drift", alertname="Drift"))
    assert [r.decision for r in held] == [Decision.SUPPRESS, Decision.SUPPRESS]
    other = send(txs, container, "recs-model", trigger("latency", alertname="Latency"))[0]
    assert other.decision is Decision.OPEN
    with container.db.transaction() as store:
        (alert,) = store.alerts(AlertFilter(status="suppressed"))
        assert store.incidents(IncidentFilter()) == [store.incident(other.incident_id or 0)]
    assert alert.incident_id is None and alert.details["suppressed_by"] == f"silence {silence.id}"
    assert alert.occurrences == 2
    expire_silence(container.db, silence.id or 0, "aiko", container.clock.advance(timedelta(minutes=5)))
    promoted = send(txs, container, "recs-model", trigger("drift", alertname="Drift"))[0]
    assert promoted.decision is Decision.OPEN and promoted.incident_id is not None
    resolved = ingest_events(txs, [("recs-model", AlertEvent("resolve", "drift"))], container.clock.now())[0]
    assert resolved.decision is Decision.RESOLVE and resolved.incident_id == promoted.incident_id


def test_maintenance_window_holds_alerts_in_the_clients_zone(txs: Transactions, container: Container) -> None:
    container.clock.set(datetime(2026, 11, 22, 2, 30, tzinfo=ZoneInfo("Australia/Sydney")))  # Sunday 02:30
    held = send(txs, container, "eta-model", trigger("eta-drift"))[0]
    assert held.decision is Decision.SUPPRESS
    with container.db.transaction() as store:
        (alert,) = store.alerts(AlertFilter(status="suppressed"))
    assert alert.details["suppressed_by"] == "maintenance window 'sunday-reindex'"
    container.clock.set(datetime(2026, 11, 22, 4, 0, tzinfo=ZoneInfo("Australia/Sydney")))
    assert send(txs, container, "eta-model", trigger("eta-other"))[0].decision is Decision.OPEN


@pytest.mark.parametrize(("service", "status"), [("recs-model", "monitoring"), ("claims-triage", "triggered")])
def test_auto_resolve_follows_the_services_setting(
    txs: Transactions, container: Container, service: str, status: str
) -> None:
    opened = send(txs, container, service, trigger("a", group="g"), trigger("b", group="g"))[0]
    for key in ("a", "b"):
        ingest_events(txs, [(service, AlertEvent("resolve", key))], container.clock.now())
    with container.db.transaction() as store:
        incident = store.incident(opened.incident_id or 0)
        assert incident is not None and incident.status == status
    if status == "triggered":
        assert "alert.all_resolved" in kinds(container, opened.incident_id)


def test_routing_rule_reroutes_cluster_alerts_and_the_timeline_says_why(
    txs: Transactions, container: Container
) -> None:
    routed, default = send(txs, container, "telemetry-pipeline",
                           trigger("r1", namespace="northwind", app="recs-web"),
                           trigger("r2", namespace="northwind", app="billing"))
    assert routed.service_id == "recs-api" and default.service_id == "telemetry-pipeline"
    with container.db.transaction() as store:
        routed_incident = store.incident(routed.incident_id or 0)
        notes = [e.message for e in store.timeline(routed.incident_id or 0) if e.kind == "alert.classified"]
        default_notes = [e.message for e in store.timeline(default.incident_id or 0) if e.kind == "alert.classified"]
    assert routed_incident is not None and routed_incident.client_id == "northwind"
    assert "by rule 'cluster namespaces'" in notes[0]
    assert "integration key's service" in default_notes[0] and "the service's kind" in default_notes[0]


def test_classification_rule_sets_severity_and_incident_type(txs: Transactions, container: Container) -> None:
    result = send(txs, container, "recs-api", trigger("leak", severity="info", alertname="CredentialLeak"))[0]
    with container.db.transaction() as store:
        incident = store.incident(result.incident_id or 0)
    assert incident is not None and incident.severity == 1 and incident.incident_type == "security"


def test_events_of_one_key_apply_in_order_within_a_batch(txs: Transactions, container: Container) -> None:
    results = ingest_events(txs, [("recs-model", trigger("k")), ("recs-model", trigger("k")),
                                  ("recs-model", AlertEvent("resolve", "k")), ("recs-model", trigger("k"))],
                            container.clock.now())
    # The last trigger is a new alert; its incident was being monitored, so it reopens.
    assert [r.decision for r in results] == [Decision.OPEN, Decision.DEDUPLICATE, Decision.RESOLVE, Decision.REOPEN]
    assert results[0].incident_id == results[2].incident_id == results[3].incident_id
    with container.db.transaction() as store:
        counts = sorted(a.occurrences for a in store.alerts(AlertFilter()))
    assert counts == [1, 2]


def test_missed_heartbeat_raises_an_alert_and_the_next_ping_resolves_it(
    txs: Transactions, container: Container
) -> None:
    start = container.clock.now()
    record_beat(container.db, "catalog-hourly", start)
    assert check_heartbeats(container.db, start + timedelta(minutes=69)) == 0  # period 1h + grace 10m
    container.clock.set(start + timedelta(minutes=71))
    report = container.worker.run_once(container.clock.now())
    assert report.heartbeats_missed == 1 and report.timers_fired == 2  # Sev1: the on-call paged, all hands engaged
    assert check_heartbeats(container.db, start + timedelta(minutes=90)) == 0  # reported once
    with container.db.transaction() as store:
        (incident,) = store.incidents(IncidentFilter())
        (alert,) = store.alerts_of(incident.id or 0)
    assert incident.service_id == "catalog-feed" and incident.severity == 1
    assert alert.dedup_key == "heartbeat:catalog-hourly" and "missed" in alert.summary
    beat = record_beat(container.db, "catalog-hourly", start + timedelta(minutes=95))
    assert beat.resolved_incident == incident.id
    with container.db.transaction() as store:
        assert store.incident(incident.id or 0).status == "monitoring"  # type: ignore[union-attr]


def test_a_job_that_never_pings_misses_its_first_beat(txs: Transactions, container: Container) -> None:
    issued = container.clock.now()
    create_heartbeat_key(container.db, "catalog-hourly", issued)
    assert check_heartbeats(container.db, issued + timedelta(minutes=69)) == 0
    assert check_heartbeats(container.db, issued + timedelta(minutes=71)) == 1
    with container.db.transaction() as store:
        (incident,) = store.incidents(IncidentFilter())
    assert incident.service_id == "catalog-feed"


def test_racing_alerts_of_one_new_group_open_exactly_one_incident(txs: Transactions, container: Container) -> None:
    results: list[IngestResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def send_one(n: int) -> None:
        try:
            barrier.wait()
            results.extend(send(txs, container, "recs-model", trigger(f"k{n}", group="storm")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.decision.value for r in results) == ["group"] * 7 + ["open"]
    with container.db.transaction() as store:
        (incident,) = store.incidents(IncidentFilter())
        assert len(store.alerts_of(incident.id or 0)) == 8


def test_order_holds_on_the_plain_store_too(container: Container, tmp_path: Path) -> None:
    apply_alerting_plan(container, tmp_path)
    results = ingest_events(container.db, [("recs-model", trigger("k")), ("recs-model", AlertEvent("resolve", "k")),
                                           ("recs-model", trigger("k"))], container.clock.now())
    assert [r.decision for r in results] == [Decision.OPEN, Decision.RESOLVE, Decision.REOPEN]
    with container.db.transaction() as store:
        assert sorted(a.status for a in store.alerts(AlertFilter())) == ["resolved", "triggered"]


def race(count: int, job: Callable[[int], list[IngestResult]]) -> list[IngestResult]:
    """Run `job(n)` for n in range(count) on threads released together; every result, or the first error."""
    results: list[IngestResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            barrier.wait()
            results.extend(job(n))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_racing_batches_of_one_new_group_open_exactly_one_incident(txs: Transactions, container: Container) -> None:
    results = race(6, lambda n: send(txs, container, "recs-model",
                                     *[trigger(f"b{n}-{i}", group="storm") for i in range(40)]))
    assert sorted(r.decision.value for r in results) == ["group"] * 239 + ["open"]
    with container.db.transaction() as store:
        (incident,) = store.incidents(IncidentFilter())
        assert len(store.alerts_of(incident.id or 0)) == 240


@pytest.mark.parametrize("group", ["storm", None])
def test_racing_copies_of_one_batch_store_each_alert_once(
    txs: Transactions, container: Container, group: str | None
) -> None:
    # an Alertmanager pair in high availability sends every notification from both members; without a
    # group, the racing inserts meet on the open-alert index, not on the group's
    results = race(4, lambda n: send(txs, container, "recs-model", *[trigger(f"k{i}", group=group) for i in range(40)]))
    opened = 1 if group else 40
    assert len(results) == 160 and [r.decision.value for r in results].count("open") == opened
    with container.db.transaction() as store:
        assert len(store.incidents(IncidentFilter())) == opened
        alerts = store.alerts(AlertFilter())
    assert len(alerts) == 40 and {a.occurrences for a in alerts} == {4}
    assert len({a.incident_id for a in alerts}) == opened and None not in {a.incident_id for a in alerts}


class LateReader:
    """A store whose first read of open alert keys misses them all, as when another writer opens the
    same keys between that read and this transaction's insert."""

    def __init__(self, store: Any, missed: list[int]):
        self._store, self._missed = store, missed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def open_alert_keys(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        if not self._missed:
            self._missed.append(1)
            return set()
        return self._store.open_alert_keys(keys)


def test_a_key_opened_after_the_read_retries_the_batch_and_counts_into_the_open_alert(
    txs: Transactions, container: Container
) -> None:
    opened = send(txs, container, "recs-model", trigger("k1", group="storm"))[0]
    missed: list[int] = []

    @contextmanager
    def late() -> Iterator[Any]:
        with txs() as store:
            yield LateReader(store, missed)

    results = ingest_events(late, [("recs-model", trigger("k1", group="storm")), ("recs-model", trigger("k2"))],
                            container.clock.now())
    assert missed == [1]  # the first attempt read too early, lost on the unique index and was retried
    assert results[0].decision is Decision.DEDUPLICATE and results[0].incident_id == opened.incident_id
    assert results[1].decision is Decision.OPEN
    with container.db.transaction() as store:
        assert [a.occurrences for a in store.alerts_of(opened.incident_id or 0)] == [2]
        assert len(store.incidents(IncidentFilter())) == 2


def test_inserting_an_alert_whose_key_is_open_is_a_conflict(txs: Transactions, container: Container) -> None:
    send(txs, container, "recs-model", trigger("k1"))
    row = AlertUpsert("recs-model", "k1", "relevance fell", "monitor", "error", 1, None, {})
    with pytest.raises(Conflict), txs() as store:
        store.insert_alerts([row], container.clock.now())


def test_back_to_back_ticks_look_for_missed_heartbeats_at_most_once_a_second(
    txs: Transactions, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onduty.engine import worker as worker_module

    calls: list[datetime] = []

    def counted(txs: Transactions, now: datetime) -> int:
        calls.append(now)
        return check_heartbeats(txs, now)

    monkeypatch.setattr(worker_module, "check_heartbeats", counted)
    start = container.clock.now()
    record_beat(container.db, "catalog-hourly", start)
    late = start + timedelta(minutes=71)
    assert container.worker.run_once(late - timedelta(milliseconds=100)).heartbeats_missed == 1
    # A storm's ticks follow each other closely: the next check is a second after the last one.
    assert container.worker.run_once(late).heartbeats_missed == 0
    assert len(calls) == 1
    container.worker.run_once(late + timedelta(milliseconds=900))
    assert len(calls) == 2
    container.worker.run_once(start)  # a clock set back checks at once
    assert len(calls) == 3
    with container.db.transaction() as store:
        assert len(store.incidents(IncidentFilter())) == 1  # reported once
