"""PagerDuty Events v2 dedup rules on a real database, including racing triggers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from onduty.app.ingest import ingest_event
from onduty.app.ports import IncidentFilter
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent, Decision
from tests.conftest import advance


def event(action: str, key: str = "feed/rows") -> AlertEvent:
    return AlertEvent(action, key, "catalog batch rows 12% of usual", "feed-check", "error")  # type: ignore[arg-type]


def test_trigger_on_an_open_key_joins_its_incident(planned: Container) -> None:
    first = ingest_event(planned.db, "catalog-feed", event("trigger"), planned.clock.now())
    second = ingest_event(planned.db, "catalog-feed", event("trigger"), planned.clock.now())
    assert second.decision is Decision.DEDUPLICATE
    assert second.incident_id == first.incident_id
    with planned.db.transaction() as store:
        (alert,) = store.alerts_of(first.incident_id or 0)
    assert alert.occurrences == 2


def test_trigger_after_resolve_reopens_while_monitored_and_opens_a_new_incident_once_closed(
    planned: Container
) -> None:
    first = ingest_event(planned.db, "catalog-feed", event("trigger"), planned.clock.now())
    resolved = ingest_event(planned.db, "catalog-feed", event("resolve"), planned.clock.now())
    with planned.db.transaction() as store:
        assert store.incident(first.incident_id or 0).status == "monitoring"  # type: ignore[union-attr]
    again = ingest_event(planned.db, "catalog-feed", event("trigger"), planned.clock.now())
    assert resolved.decision is Decision.RESOLVE
    assert again.decision is Decision.REOPEN and again.incident_id == first.incident_id
    ingest_event(planned.db, "catalog-feed", event("resolve"), planned.clock.now())
    advance(planned, planned.clock, timedelta(minutes=31))  # Sev2 monitors for 30 minutes
    with planned.db.transaction() as store:
        assert store.incident(first.incident_id or 0).status == "closed"  # type: ignore[union-attr]
    fresh = ingest_event(planned.db, "catalog-feed", event("trigger"), planned.clock.now())
    assert fresh.decision is Decision.OPEN and fresh.incident_id != first.incident_id


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_ack_or_resolve_on_an_unknown_key_is_dropped(planned: Container, action: str) -> None:
    result = ingest_event(planned.db, "catalog-feed", event(action, "never-seen"), planned.clock.now())
    assert result.decision is Decision.DROP
    with planned.db.transaction() as store:
        assert store.incidents(IncidentFilter()) == []


def test_acknowledge_event_acknowledges_the_incident(planned: Container) -> None:
    opened = ingest_event(planned.db, "catalog-feed", event("trigger"), planned.clock.now())
    ingest_event(planned.db, "catalog-feed", event("acknowledge"), planned.clock.now())
    with planned.db.transaction() as store:
        incident = store.incident(opened.incident_id or 0)
        assert incident is not None and incident.status == "acknowledged"
        assert incident.acknowledged_by == "feed-check"


def test_resolving_the_incident_by_hand_closes_its_alerts(planned: Container) -> None:
    from onduty.app.incidents import change_status

    opened = ingest_event(planned.db, "catalog-feed", event("trigger"), planned.clock.now())
    change_status(planned.db, opened.incident_id or 0, "resolved", "lucia", planned.clock.now())
    with planned.db.transaction() as store:
        assert [a.status for a in store.alerts_of(opened.incident_id or 0)] == ["resolved"]
    again = ingest_event(planned.db, "catalog-feed", event("trigger"), planned.clock.now())
    assert again.decision is Decision.REOPEN and again.incident_id == opened.incident_id
    with planned.db.transaction() as store:
        assert [a.status for a in store.alerts_of(opened.incident_id or 0)] == ["resolved", "triggered"]


def test_racing_triggers_on_one_new_key_open_exactly_one_incident(planned: Container) -> None:
    results = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def send() -> None:
        try:
            barrier.wait()
            results.append(ingest_event(planned.db, "catalog-feed", event("trigger", "race"), planned.clock.now()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r.incident_id for r in results}) == 1
    assert sorted(r.decision.value for r in results).count("open") == 1
    with planned.db.transaction() as store:
        assert len(store.incidents(IncidentFilter())) == 1
        (alert,) = store.alerts_of(results[0].incident_id or 0)
    assert alert.occurrences == 8
