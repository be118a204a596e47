"""The lifecycle on a real database: monitoring and closing, reopening, severity changes, who is engaged
per severity, clock reminders and misses, roles, and security incidents."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from onduty.adapters.clock import SimulatedClock
from onduty.app.incidents import change_status
from onduty.app.ingest import ingest_event
from onduty.app.lifecycle import change_severity
from onduty.app.plans import apply_plan
from onduty.app.playbook import change_type
from onduty.app.roles import assign_role
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.domain.alerts import AlertEvent, Decision
from onduty.domain.incidents import IllegalTransition, Incident, TimelineEntry
from onduty.domain.severity import Severity
from onduty.plan.load import load_plan
from tests.conftest import SAMPLE_PLAN, RecordingChannel, advance
from tests.integration.test_escalation import trigger

CHANNELS = ("webhook", "email", "sms", "console", "slack", "teams")


@pytest.fixture
def full(database_url: str, clock: SimulatedClock, pager: RecordingChannel) -> Iterator[Container]:
    """The sample plan, with chat channels recorded too (the incident channel goes through them)."""
    c = build(Settings(database_url=database_url), clock=clock, channels={k: pager for k in CHANNELS})
    apply_plan(c.db, load_plan(SAMPLE_PLAN), str(SAMPLE_PLAN), clock.now())
    yield c
    c.db.dispose()


def incident(c: Container, incident_id: int) -> Incident:
    with c.db.transaction() as store:
        found = store.incident(incident_id)
        assert found is not None
        return found


def entries(c: Container, incident_id: int, kind: str) -> list[TimelineEntry]:
    with c.db.transaction() as store:
        return [e for e in store.timeline(incident_id) if e.kind == kind]


def sent(pager: RecordingChannel, event: str) -> list[tuple[str, str]]:
    """(person, clock or reason) of every message of one event kind, in order."""
    return [(m.person_id, m.payload["body"].get("clock", m.payload["body"].get("reason", "")))
            for m in pager.sent if m.payload["body"].get("event") == event]


# -- monitoring, closing, reopening ----------------------------------------------------------------

def test_resolved_sev1_is_monitored_for_an_hour_then_closed(full: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(full)
    change_status(full.db, incident_id, "resolved", "aiko", clock.now())
    assert incident(full, incident_id).status == "monitoring"
    advance(full, clock, timedelta(minutes=59))
    assert incident(full, incident_id).status == "monitoring"
    advance(full, clock, timedelta(minutes=1))
    closed = incident(full, incident_id)
    assert closed.status == "closed" and closed.closed_at == clock.now()
    assert entries(full, incident_id, "status.closed")[0].message.endswith("no recurrence during the monitor period")


def test_sev4_has_no_monitor_period_and_closes_on_resolve(full: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(full, severity="info")
    change_status(full.db, incident_id, "resolved", "aiko", clock.now())
    assert incident(full, incident_id).status == "closed"


def test_an_alert_during_monitoring_reopens_the_incident_and_pages_again(
    full: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    incident_id = trigger(full, key="relevance")
    full.worker.run_once(clock.now())
    change_status(full.db, incident_id, "acknowledged", "aiko", clock.now())
    change_status(full.db, incident_id, "resolved", "aiko", clock.now())
    advance(full, clock, timedelta(minutes=20))
    again = ingest_event(full.db, "recs-model", AlertEvent("trigger", "relevance", "relevance fell again", "monitor",
                                                           "critical"), clock.now())
    assert again.decision is Decision.REOPEN and again.incident_id == incident_id
    reopened = incident(full, incident_id)
    assert reopened.status == "triggered" and reopened.resolved_at is None and reopened.reopen_count == 1
    (entry,) = entries(full, incident_id, "incident.reopened")
    assert entry.data["dedup_key"] == "relevance" and entry.data["matched"] == "same alert key"
    advance(full, clock, timedelta(seconds=1))
    assert pager.people() == ["aiko", "aiko"]  # paging re-armed from level 1
    advance(full, clock, timedelta(minutes=45))  # the old close timer is stale: still open, escalating
    assert incident(full, incident_id).status == "triggered"
    assert pager.people()[:3] == ["aiko", "aiko", "lucia"]


def test_resolving_a_monitored_incident_is_refused_saying_what_is_allowed(full: Container,
                                                                          clock: SimulatedClock) -> None:
    incident_id = trigger(full)
    change_status(full.db, incident_id, "resolved", "aiko", clock.now())
    with pytest.raises(IllegalTransition, match="is monitoring: cannot resolve; allowed: close, reopen"):
        change_status(full.db, incident_id, "resolved", "aiko", clock.now())
    advance(full, clock, timedelta(hours=2))
    with pytest.raises(IllegalTransition, match="is closed: cannot acknowledge; allowed: nothing"):
        change_status(full.db, incident_id, "acknowledged", "aiko", clock.now())


# -- severity changes and who is engaged -------------------------------------------------------------

def test_raising_to_sev1_pages_all_hands_and_opens_the_incident_channel(
    full: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    incident_id = trigger(full, severity="warning")
    full.worker.run_once(clock.now())
    assert pager.everyone() == ["aiko"]  # Sev3: the on-call alone
    change_severity(full.db, incident_id, Severity.SEV1, "conversions down 19%", "aiko", clock.now())
    full.worker.run_once(clock.now())
    assert sent(pager, "incident.page") == [
        ("aiko", "new incident"), ("hannah", "Sev1 all hands: tech lead (raised from Sev3)"),
        ("dev", "Sev1 all hands: delivery lead (raised from Sev3)"),
        ("maria", "Sev1 all hands: account manager (raised from Sev3)")]
    (post,) = [m for m in pager.sent if m.person_id == "incident-channel"]
    assert post.channel == "slack" and "B0NORTHWIND" in post.address
    assert "Sev1 incident #1" in post.payload["body"]["text"]
    raised = incident(full, incident_id)
    assert raised.severity == 1 and raised.channel_link == "https://halyard.slack.example/archives/C0NORTHWIND"
    (change,) = entries(full, incident_id, "incident.severity_changed")
    assert change.data == {"from": 3, "to": 1, "reason": "conversions down 19%"}


def test_raising_from_a_tracked_only_severity_arms_paging(full: Container, pager: RecordingChannel,
                                                          clock: SimulatedClock) -> None:
    incident_id = trigger(full, severity="info")
    advance(full, clock, timedelta(minutes=5))
    assert pager.everyone() == []
    change_severity(full.db, incident_id, Severity.SEV2, "checkout affected", "aiko", clock.now())
    advance(full, clock, timedelta(seconds=1))
    assert pager.people() == ["aiko"]
    assert [p for p, _ in sent(pager, "incident.notification")] == ["maria", "dev"]
    assert all(m.payload["body"]["notification"] for m in pager.sent if m.person_id in ("maria", "dev"))


def test_lowering_to_a_tracked_only_severity_stops_paging_but_keeps_what_was_sent(
    full: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    incident_id = trigger(full, severity="error")
    full.worker.run_once(clock.now())
    change_severity(full.db, incident_id, Severity.SEV4, "false alarm: a test tenant", "aiko", clock.now())
    advance(full, clock, timedelta(hours=1))
    assert pager.people() == ["aiko"]
    assert "paging.stopped" in [e.kind for e in entries(full, incident_id, "paging.stopped")]


def test_a_severity_change_needs_a_reason(full: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(full)
    with pytest.raises(ValueError, match="needs a reason"):
        change_severity(full.db, incident_id, Severity.SEV2, " ", "aiko", clock.now())
    assert incident(full, incident_id).severity == 1


def test_sev2_notifications_wait_for_coverage_hours_like_its_pages(full: Container, pager: RecordingChannel,
                                                                   clock: SimulatedClock) -> None:
    clock.set(datetime(2026, 11, 20, 23, 0, tzinfo=ZoneInfo("America/Chicago")))  # Northwind: 07:00-22:00
    trigger(full, severity="error")
    advance(full, clock, timedelta(hours=7, minutes=59))
    assert pager.everyone() == []  # no notice reminder or missed-notice page in the night either
    advance(full, clock, timedelta(minutes=1))
    assert pager.people() == ["aiko"]
    assert [p for p, _ in sent(pager, "incident.notification")] == ["maria", "dev"]
    # The night's missed deadlines are flagged now, when the team is reachable again.
    assert ("dev", "first_notice") in sent(pager, "incident.clock_missed")


def test_a_channel_type_nobody_delivers_fails_cleanly(planned: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(planned)  # the default test channels have no slack
    report = planned.worker.run_once(clock.now())
    assert report.failed == 1
    failed = entries(planned, incident_id, "page.failed")
    assert failed and "no slack channel is set up here" in failed[0].message
    assert entries(planned, incident_id, "page.undeliverable")[0].data == {"person": "incident-channel"}
    assert incident(planned, incident_id).channel_link is not None


# -- clocks: reminders, misses, escalation to the delivery lead --------------------------------------

def test_missed_first_notice_reminds_the_comms_lead_then_escalates_to_delivery_lead(
    full: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    incident_id = trigger(full, severity="error")  # Sev2: first client notice due in 2 h
    advance(full, clock, timedelta(minutes=1))
    change_status(full.db, incident_id, "acknowledged", "aiko", clock.now())
    advance(full, clock, timedelta(minutes=113, seconds=59))
    assert ("maria", "first_notice") not in sent(pager, "incident.clock_reminder")
    advance(full, clock, timedelta(seconds=1))  # 1 h 55 in: five minutes before
    assert ("maria", "first_notice") in sent(pager, "incident.clock_reminder")
    advance(full, clock, timedelta(minutes=6))
    missed = [e.data for e in entries(full, incident_id, "clock.missed")]
    due = incident(full, incident_id).created_at + timedelta(hours=2)
    assert {"clock": "first_notice", "due": due.isoformat()} in missed
    assert ("dev", "first_notice") in sent(pager, "incident.clock_missed")
    advance(full, clock, timedelta(hours=3))
    again = [e.data["clock"] for e in entries(full, incident_id, "clock.missed")]
    assert again.count("first_notice") == 1  # once per clock occurrence
    assert sent(pager, "incident.clock_missed").count(("dev", "first_notice")) == 1


def test_a_notice_in_time_meets_the_clock_and_nobody_is_escalated(full: Container, pager: RecordingChannel,
                                                                  clock: SimulatedClock) -> None:
    incident_id = trigger(full, severity="error")
    change_status(full.db, incident_id, "acknowledged", "aiko", clock.now())
    advance(full, clock, timedelta(minutes=20))
    with full.db.transaction() as store:  # what the communications module writes when a notice goes out
        store.append(incident_id, [TimelineEntry(clock.now(), "comms.initial", "Initial notice sent")])
    change_status(full.db, incident_id, "resolved", "aiko", clock.now())
    advance(full, clock, timedelta(hours=3))
    assert [e.data["clock"] for e in entries(full, incident_id, "clock.missed")] == []
    assert sent(pager, "incident.clock_missed") == []


def test_an_assigned_communications_lead_gets_the_reminder(full: Container, pager: RecordingChannel,
                                                           clock: SimulatedClock) -> None:
    incident_id = trigger(full, severity="critical")
    change_status(full.db, incident_id, "acknowledged", "aiko", clock.now())
    assign_role(full.db, incident_id, "comms", "tomas", "hannah", clock.now())
    advance(full, clock, timedelta(minutes=26))
    assert ("tomas", "first_notice") in sent(pager, "incident.clock_reminder")
    assert ("maria", "first_notice") not in sent(pager, "incident.clock_reminder")


def test_clock_reminders_and_misses_survive_a_restart(database_url: str, full: Container,
                                                      clock: SimulatedClock) -> None:
    incident_id = trigger(full, severity="critical")
    change_status(full.db, incident_id, "acknowledged", "aiko", clock.now())
    advance(full, clock, timedelta(minutes=1))
    full.db.dispose()  # the process dies
    fresh = RecordingChannel()
    restarted = build(Settings(database_url=database_url), clock=clock, channels={k: fresh for k in CHANNELS})
    try:
        advance(restarted, clock, timedelta(minutes=31))
        assert ("maria", "first_notice") in sent(fresh, "incident.clock_reminder")
        assert ("dev", "first_notice") in sent(fresh, "incident.clock_missed")
    finally:
        restarted.db.dispose()


# -- roles and incident types -------------------------------------------------------------------------

def test_roles_are_assigned_and_handed_over_on_the_timeline(full: Container, clock: SimulatedClock) -> None:
    incident_id = trigger(full)
    assign_role(full.db, incident_id, "commander", "tomas", "hannah", clock.now())
    assign_role(full.db, incident_id, "commander", "Aiko Tanaka", "tomas", clock.now())
    changes = [(e.data["person"], e.data["previous"]) for e in entries(full, incident_id, "role.assigned")]
    assert changes == [("tomas", None), ("aiko", "tomas")]
    assert "handed over from tomas to Aiko Tanaka" in entries(full, incident_id, "role.assigned")[1].message
    with pytest.raises(ValueError, match="not in the applied plan"):
        assign_role(full.db, incident_id, "commander", "nobody", "hannah", clock.now())
    with pytest.raises(ValueError, match="is not one of"):
        assign_role(full.db, incident_id, "scribe", "tomas", "hannah", clock.now())


def test_becoming_a_security_incident_engages_legal_and_starts_its_deadline(
    full: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    incident_id = trigger(full, severity="error")
    change_type(full.db, incident_id, "security", "API keys found in a public repository", "hannah", clock.now())
    full.worker.run_once(clock.now())
    assert ("olga", "legal contact for a security incident") in sent(pager, "incident.page")
    assert [e.data for e in entries(full, incident_id, "legal.engaged")] == [{"person": "olga"}]
    with full.db.transaction() as store:
        from onduty.app.clocks import clocks_for

        clocks = {k.name: k.due for k in clocks_for(store.directory(), incident(full, incident_id),
                                                    store.timeline(incident_id), clock.now())}
    assert clocks["security_notice"] == incident(full, incident_id).created_at + timedelta(hours=72)
    with pytest.raises(ValueError, match="already of type security"):
        change_type(full.db, incident_id, "security", "API keys found in a public repository", "hannah", clock.now())


def test_recording_the_security_notification_meets_its_deadline(
    full: Container, pager: RecordingChannel, clock: SimulatedClock
) -> None:
    from onduty.app.clocks import clocks_for
    from onduty.app.incidents import record_security_notice

    incident_id = trigger(full, severity="error")
    change_type(full.db, incident_id, "security", "API keys found in a public repository", "hannah", clock.now())
    with pytest.raises(ValueError, match="say who was notified"):
        record_security_notice(full.db, incident_id, "  ", "hannah", clock.now())
    clock.advance(timedelta(hours=20))
    entry = record_security_notice(full.db, incident_id, "CNPD via the breach form, ref 2026-118", "hannah",
                                   clock.now())
    assert entry.kind == "security.notified" and "CNPD" in entry.message
    with full.db.transaction() as store:
        states = {k.name: k.state for k in clocks_for(store.directory(), incident(full, incident_id),
                                                      store.timeline(incident_id), clock.now())}
    assert states["security_notice"] == "met"
