"""Post-incident reviews on a real database: the draft written at resolution, edits with a change log,
root-cause refusal, completion, overdue reminders in simulated time, and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from onduty.adapters.clock import SimulatedClock
from onduty.app.incidents import change_status, declare
from onduty.app.ingest import ingest_event
from onduty.app.reviews import (
    ReviewIncomplete,
    RootCauseRefused,
    add_action,
    complete_review,
    edit_review,
    review_bundle,
    update_action,
)
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent
from onduty.domain.severity import Severity
from tests.conftest import RecordingChannel, advance
from tests.integration.review_story import NOTE, scripted_incident

RESOLVED = datetime(2026, 11, 21, 0, 10, tzinfo=UTC)
ROOT_CAUSE = ("Catalog batches reach the recommendation model with no schema or row-count check, "
              "so a truncated batch was served as if it were complete.")

TIMELINE = [
    "- 2026-11-20 23:40 Sev1 incident declared on Northwind recommendation engine (Northwind Home): "
    "relevance collapsed",
    "- 2026-11-20 23:40 Alert from relevance-monitor: relevance collapsed",
    "- 2026-11-20 23:40 Routed to recs-model (the integration key's service); Sev1 (from the event's severity), "
    "type model_degradation (from the event's class or the service's kind)",
    "- 2026-11-20 23:40 Paging level 1",
    "- 2026-11-20 23:40 Incident channel opened on slack: https://halyard.slack.example/archives/C0NORTHWIND",
    "- 2026-11-20 23:40 Page delivered to Aiko Tanaka via webhook (attempt 1): recorded",
    "- 2026-11-20 23:40 Page delivered to Hannah Weiss via webhook (attempt 1): recorded",
    "- 2026-11-20 23:40 Page delivered to Dev Patel via webhook (attempt 1): recorded",
    "- 2026-11-20 23:40 Page delivered to Maria Costa via email (attempt 1): recorded",
    "- 2026-11-20 23:40 Page to incident-channel via slack failed for good: no slack channel is set up here",
    "- 2026-11-20 23:40 Could not reach incident-channel through any contact method",
    "- 2026-11-20 23:50 Escalated to level 2: no acknowledgement within 10 min",
    "- 2026-11-20 23:50 Notifying Aiko Tanaka (acknowledge due in 5 min, at 23:55 UTC) via webhook",
    "- 2026-11-20 23:50 Notifying Lucía Navarro (acknowledge due in 5 min, at 23:55 UTC) via webhook",
    "- 2026-11-20 23:50 Page delivered to Lucía Navarro via webhook (attempt 1): recorded",
    "- 2026-11-20 23:50 Page delivered to Aiko Tanaka via webhook (attempt 1): recorded",
    "- 2026-11-20 23:50 Page delivered to Lucía Navarro via webhook (attempt 1): recorded",
    "- 2026-11-20 23:52 Acknowledged by lucia",
    f"- 2026-11-20 23:57 {NOTE}",
    "- 2026-11-20 23:57 Initial notice sent to Rachel Kim (Northwind Home) by email",
    "- 2026-11-21 00:10 Resolved by lucia",
    "- 2026-11-21 00:10 Monitoring by onduty: watching for recurrence for 60 min, until 01:10 UTC",
]


def test_resolving_drafts_a_review_from_the_timeline(planned: Container, clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock)
    bundle = review_bundle(planned.db, incident_id, clock.now())
    review = bundle.review
    assert (review.status, review.owner, review.owner_reason) == ("draft", "lucia", "first responder who acknowledged")
    assert review.required and review.due_at == RESOLVED + timedelta(hours=48)  # Sev1: 48 h after resolution
    sections = review.sections
    assert sections["summary"] == (
        "Sev1 model degradation incident on Northwind recommendation engine (Northwind Home): relevance collapsed. "
        "Declared 2026-11-20 23:40 UTC, resolved 2026-11-21 00:10 UTC after 30 min 00 s.")
    assert sections["timeline"].split("\n") == TIMELINE
    assert sections["detection"].split("\n") == [
        "- How: by an alert from relevance-monitor: relevance collapsed",
        "- First abnormal signal: 2026-11-20 23:15 UTC (the incident's first signal)",
        "- Time to detect: 25 min 00 s",
        "- Could it have been caught sooner? Yes: the first abnormal signal (the incident's first signal) came "
        "25 min 00 s before the incident was declared; alerting on that signal at once would have caught it up to "
        "25 min 00 s sooner.",
    ]
    assert sections["response"].split("\n") == [
        "- Time to engage (first page delivered): < 1 s",
        "- Time to acknowledge: 12 min 00 s",
        "- Time to resolve: 30 min 00 s",
        "- Escalations: 1",
        "- Waited 10 min 00 s before 2026-11-20 23:50 UTC: Escalated to level 2: no acknowledgement within 10 min",
        "- Waited 5 min 00 s before 2026-11-20 23:57 UTC: Initial notice sent to Rachel Kim (Northwind Home) by email",
        "- Waited 13 min 00 s before 2026-11-21 00:10 UTC: Resolved by lucia",
        "- Clocks:",
        "  - acknowledge: met (2026-11-20 23:52 UTC, due 2026-11-20 23:55 UTC)",
        "  - first client notice: met (2026-11-20 23:57 UTC, due 2026-11-21 00:10 UTC)",
        "  - resolve after acknowledgement: met (2026-11-21 00:10 UTC, due 2026-11-21 00:22 UTC)",
    ]
    assert sections["impact"].split("\n") == [
        "- Duration (first abnormal signal to resolution): 55 min 00 s",
        "- Clients: Northwind Home",
        "- Services: Northwind recommendation engine",
        "- Business metric: none is known for this incident (no metric was stored)",
    ]
    assert sections["root_cause"] == sections["preventive_actions"] == ""
    assert bundle.problems == [
        "the root cause section is empty",
        "no preventive action: add one (onduty pir ID actions add) or say in the preventive actions section "
        "why none is needed",
    ]
    assert [(c.by, c.what) for c in bundle.changes] == [("onduty", "draft")]


def test_the_incident_commander_owns_the_review(planned: Container, clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock, commander="hannah")
    review = review_bundle(planned.db, incident_id, clock.now()).review
    assert (review.owner, review.owner_reason) == ("hannah", "incident commander")


def test_without_an_acknowledgement_the_first_on_call_owns_the_review(planned: Container,
                                                                      clock: SimulatedClock) -> None:
    result = ingest_event(planned.db, "recs-model", AlertEvent("trigger", "k", "relevance collapsed", "monitor",
                                                               "critical"), clock.now())
    assert result.incident_id is not None
    ingest_event(planned.db, "recs-model", AlertEvent("resolve", "k"), clock.now() + timedelta(minutes=3))
    review = review_bundle(planned.db, result.incident_id, clock.now()).review  # auto-resolved: drafted too
    assert (review.owner, review.owner_reason) == ("aiko", "first on call in the escalation policy")


@pytest.mark.parametrize(("severity", "due"), [(Severity.SEV2, timedelta(days=7)), (Severity.SEV3, None)])
def test_review_due_follows_the_severity_policy(planned: Container, clock: SimulatedClock, severity: Severity,
                                               due: timedelta | None) -> None:
    with planned.db.transaction() as store:
        directory = store.directory()
        incident = declare(store, directory, directory.services["recs-model"], "slow", severity, clock.now(), "aiko")
    assert incident.id is not None
    change_status(planned.db, incident.id, "resolved", "aiko", clock.now())
    review = review_bundle(planned.db, incident.id, clock.now()).review
    assert review.due_at == (clock.now() + due if due else None)
    assert review.required is (severity == Severity.SEV2)


def test_sev4_incidents_get_no_review(planned: Container, clock: SimulatedClock) -> None:
    with planned.db.transaction() as store:
        directory = store.directory()
        incident = declare(store, directory, directory.services["recs-model"], "typo", Severity.SEV4, clock.now(), "x")
    assert incident.id is not None
    change_status(planned.db, incident.id, "resolved", "aiko", clock.now())
    with pytest.raises(LookupError, match="has no review"):
        review_bundle(planned.db, incident.id, clock.now())


def test_human_error_alone_is_refused_and_changes_nothing(planned: Container, clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock)
    with pytest.raises(RootCauseRefused, match="systemic") as refused:
        edit_review(planned.db, incident_id, {"root_cause": "Human error."}, "hannah", clock.now())
    assert "no schema or distribution check" in str(refused.value)  # says what a systemic cause looks like
    bundle = review_bundle(planned.db, incident_id, clock.now())
    assert bundle.review.sections["root_cause"] == ""
    assert [c.what for c in bundle.changes] == ["draft"]


def test_edits_and_actions_are_kept_with_who_and_when_and_completion_is_recorded(
        planned: Container, clock: SimulatedClock) -> None:
    incident_id = scripted_incident(planned, clock)
    with pytest.raises(ReviewIncomplete):
        complete_review(planned.db, incident_id, "hannah", clock.now())
    edit_review(planned.db, incident_id, {"root_cause": ROOT_CAUSE}, "hannah", clock.now())
    action = add_action(planned.db, incident_id, "Row-count and schema check before the model reads a batch",
                        "aiko", clock.now() + timedelta(days=14), "hannah", clock.now(),
                        "https://tracker.example/ML-42")
    assert action.id is not None
    with pytest.raises(ValueError, match="status 'finished' is not one of open, in_progress, done, wont_do"):
        update_action(planned.db, incident_id, action.id, "aiko", clock.now(), status="finished")
    update_action(planned.db, incident_id, action.id, "aiko", clock.now(), status="in_progress")
    review = complete_review(planned.db, incident_id, "hannah", clock.now())
    assert (review.status, review.completed_by) == ("completed", "hannah")
    bundle = review_bundle(planned.db, incident_id, clock.now())
    assert [(c.by, c.what, c.after) for c in bundle.changes] == [
        ("onduty", "draft", "drafted from the timeline"),
        ("hannah", "root_cause", ROOT_CAUSE),
        ("hannah", f"action {action.id}", "Row-count and schema check before the model reads a batch "
                                          "(owner aiko, due 2026-12-05)"),
        ("aiko", f"action {action.id} status", "in_progress"),
        ("hannah", "status", "completed"),
    ]
    completed = [e for e in bundle.facts.timeline if e.kind == "review.completed"]
    assert len(completed) == 1 and completed[0].data == {"on_time": True}


def test_overdue_reviews_and_actions_remind_their_owners_once_a_day(
        planned: Container, clock: SimulatedClock, pager: RecordingChannel) -> None:
    incident_id = scripted_incident(planned, clock)
    add_action(planned.db, incident_id, "Schema check on catalog batches", "aiko", RESOLVED + timedelta(hours=24),
               "hannah", clock.now())
    pager.sent.clear()

    def reminders() -> list[tuple[str, str]]:
        return [(m.person_id, m.idempotency_key.split(":")[0]) for m in pager.sent
                if m.payload["body"]["event"] == "review.reminder"]

    advance(planned, clock, timedelta(hours=23))
    assert reminders() == []  # nothing is overdue yet
    advance(planned, clock, timedelta(hours=2))  # the action was due 24 h after resolution
    assert reminders() == [("aiko", "action-reminder")]
    for _ in range(6):
        advance(planned, clock, timedelta(minutes=10))  # many worker ticks the same day: still one reminder
    assert reminders() == [("aiko", "action-reminder")]
    clock.set(RESOLVED + timedelta(hours=48, minutes=1))  # the review is now overdue too (Sev1: 48 h)
    planned.worker.run_once(clock.now())
    planned.worker.run_once(clock.now())
    assert sorted(reminders()) == [("aiko", "action-reminder"), ("aiko", "action-reminder"),
                                   ("lucia", "review-reminder")]
    with planned.db.transaction() as store:
        kinds = [e.kind for e in store.timeline(incident_id)]
    assert kinds.count("reminder.delivered") == 3  # recorded as reminders, not as pages
