"""A scripted Sev1 incident in simulated time, through the use cases, shared by the review tests."""

from __future__ import annotations

from datetime import timedelta

from onduty.adapters.clock import SimulatedClock
from onduty.app.incidents import add_note, change_status
from onduty.app.ingest import ingest_event
from onduty.app.roles import assign_role
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent
from onduty.domain.incidents import TimelineEntry
from tests.conftest import advance

NOTE = "batch 2026-11-20T22 truncated at row 5,812"


def scripted_incident(c: Container, clock: SimulatedClock, *, commander: str | None = None) -> int:
    """23:40 UTC alert (first signal 23:15): Sev1 all hands paged, Aiko does not acknowledge, Lucía is
    paged at 23:50 and acknowledges at 23:52, a note and the client's first notice at 23:57, resolved 00:10."""
    signal = clock.now() - timedelta(minutes=25)
    result = ingest_event(c.db, "recs-model", AlertEvent("trigger", "recs/relevance", "relevance collapsed",
                                                         "relevance-monitor", "critical", timestamp=signal),
                          clock.now())
    assert result.incident_id is not None
    incident_id = result.incident_id
    advance(c, clock, timedelta(minutes=12))
    change_status(c.db, incident_id, "acknowledged", "lucia", clock.now())
    advance(c, clock, timedelta(minutes=5))
    add_note(c.db, incident_id, NOTE, "lucia", clock.now())
    with c.db.transaction() as store:  # as the comms module records a message sent to the client
        store.append(incident_id, [TimelineEntry(clock.now(), "comms.initial",
                                                 "Initial notice sent to Rachel Kim (Northwind Home) by email",
                                                 "maria")])
    if commander:
        assign_role(c.db, incident_id, "commander", commander, "dev", clock.now())
    advance(c, clock, timedelta(minutes=13))
    change_status(c.db, incident_id, "resolved", "lucia", clock.now())
    return incident_id
