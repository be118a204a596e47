"""The engine on a real database: who gets paged, when, and what stops it."""

from __future__ import annotations

from datetime import timedelta

from onduty.adapters.clock import SimulatedClock
from onduty.app.incidents import change_status
from onduty.app.ingest import ingest_event
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent
from tests.conftest import RecordingChannel, advance


def trigger(c: Container, service: str = "recs-model", key: str = "k1", severity: str = "critical") -> int:
    result = ingest_event(c.db, service, AlertEvent("trigger", key, "relevance collapsed", "monitor", severity),
                          c.clock.now())
    assert result.incident_id is not None
    return result.incident_id


def kinds(c: Container, incident_id: int) -> list[str]:
    with c.db.transaction() as store:
        return [e.kind for e in store.timeline(incident_id)]


def test_first_page_skips_the_owner_on_vacation(planned: Container, pager: RecordingChannel,
                                                clock: SimulatedClock) -> None:
    incident_id = trigger(planned)
    planned.worker.run_once(clock.now())
    assert pager.people() == ["aiko"]  # priya owns ml-primary this week but is on vacation
    with planned.db.transaction() as store:
        queued = [e for e in store.timeline(incident_id) if e.kind == "page.queued"]
    assert "covering for Priya Raman (vacation)" in queued[0].message


def test_no_ack_within_timeout_pages_level_two(planned: Container, pager: RecordingChannel,
                                               clock: SimulatedClock) -> None:
    trigger(planned)
    advance(planned, clock, timedelta(minutes=9, seconds=59))
    assert pager.people() == ["aiko"]
    advance(planned, clock, timedelta(seconds=1))
    assert pager.people() == ["aiko", "lucia"]


def test_ack_within_timeout_stops_escalation(planned: Container, pager: RecordingChannel,
                                             clock: SimulatedClock) -> None:
    incident_id = trigger(planned)
    advance(planned, clock, timedelta(minutes=5))
    change_status(planned.db, incident_id, "acknowledged", "aiko", clock.now())
    advance(planned, clock, timedelta(minutes=20))
    assert pager.people() == ["aiko"]


def test_ack_without_resolve_within_timeout_pages_next_level(planned: Container, pager: RecordingChannel,
                                                             clock: SimulatedClock) -> None:
    incident_id = trigger(planned)
    advance(planned, clock, timedelta(minutes=2))
    change_status(planned.db, incident_id, "acknowledged", "aiko", clock.now())
    advance(planned, clock, timedelta(minutes=29))
    assert pager.people() == ["aiko"]
    advance(planned, clock, timedelta(minutes=1))
    assert pager.people() == ["aiko", "lucia"]
    assert "escalation.level" in kinds(planned, incident_id)


def test_mitigating_keeps_the_resolve_timeout_running(planned: Container, pager: RecordingChannel,
                                                      clock: SimulatedClock) -> None:
    incident_id = trigger(planned)
    planned.worker.run_once(clock.now())
    change_status(planned.db, incident_id, "acknowledged", "aiko", clock.now())
    advance(planned, clock, timedelta(minutes=10))
    change_status(planned.db, incident_id, "mitigated", "aiko", clock.now())
    advance(planned, clock, timedelta(minutes=21))
    assert pager.people() == ["aiko", "lucia"]


def test_resolve_stops_every_timer(planned: Container, pager: RecordingChannel, clock: SimulatedClock) -> None:
    incident_id = trigger(planned)
    planned.worker.run_once(clock.now())
    change_status(planned.db, incident_id, "resolved", "aiko", clock.now())
    advance(planned, clock, timedelta(hours=3))
    assert pager.people() == ["aiko"]


def test_unacknowledged_incident_walks_every_level_then_repeats_once(
    planned: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    incident_id = trigger(planned)
    advance(planned, clock, timedelta(hours=4))
    # ml-standard: ml-primary (10m) → ml-secondary (15m) → hannah + dev (15m), repeats: 1
    assert pager.people() == ["aiko", "lucia", "hannah", "dev", "aiko", "lucia", "hannah", "dev"]
    assert kinds(planned, incident_id).count("escalation.last_level") == 1


def test_sev4_is_tracked_without_a_page(planned: Container, pager: RecordingChannel,
                                        clock: SimulatedClock) -> None:
    incident_id = trigger(planned, severity="info")
    advance(planned, clock, timedelta(hours=1))
    assert pager.sent == []
    assert "paging.skipped" in kinds(planned, incident_id)


def test_a_page_delivered_is_not_sent_again(planned: Container, pager: RecordingChannel,
                                            clock: SimulatedClock) -> None:
    trigger(planned)
    for _ in range(3):
        planned.worker.run_once(clock.now())
    advance(planned, clock, timedelta(minutes=2))
    assert pager.people() == ["aiko"]
