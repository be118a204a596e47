"""The playbook checklist as a table over incident type, severity and service; timeboxes in simulated time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from onduty.domain.changes import Change
from onduty.domain.client_requests import ClientRequest
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.model import FallbackWebhook, Service
from onduty.domain.playbook import (
    PlaybookInput,
    Step,
    Tick,
    Workaround,
    dependents,
    derive_playbook,
    effective_ticks,
    find_item,
    step_view,
    suggested_severity,
)
from onduty.domain.severity import Severity, SeverityPolicy

T0 = datetime(2026, 11, 20, 23, 46, tzinfo=UTC)
MIN = timedelta(minutes=1)

MODEL = Service("recs-model", "Recommendation engine", "northwind", "model", "ml", ("catalog-feed",),
                fallback="popularity-by-category", fallback_webhook=FallbackWebhook("https://ops.example/fb"))
BARE_MODEL = Service("eta-model", "ETA model", "tidewater", "model", "apac")
FEED = Service("catalog-feed", "Catalog feed", "northwind", "feed", "data")
API = Service("recs-api", "Recommendations API", "northwind", "api", "ml", ("recs-model",))
SERVICES = {s.id: s for s in (MODEL, FEED, API)}
DEPLOY = Change("recs-api", "deployed recs-api v42", "github", T0 - 40 * MIN, T0 - 40 * MIN, id=7)
UPSTREAM = Change("catalog-feed", "catalog batch 2211 published", "pipeline", T0 - 3 * 60 * MIN, T0, id=8)


def incident(severity: int = 1, kind: str = "model_degradation", service: Service = MODEL) -> Incident:
    i = Incident(service.id, service.client_id, "something is wrong", severity, T0, incident_type=kind)
    i.id = 1
    return i


def steps_for(severity: int = 1, kind: str = "model_degradation", service: Service = MODEL,
              **extra: object) -> list[Step]:
    given: dict[str, object] = {"dependents": dependents(SERVICES, service.id), **extra}
    return derive_playbook(PlaybookInput(incident(severity, kind, service), service, "Northwind Home",
                                         SeverityPolicy(), **given))  # type: ignore[arg-type]


def ids(steps: list[Step], number: int) -> list[str]:
    return [item.id for item in steps[number - 1].items]


def all_ids(steps: list[Step]) -> set[str]:
    return {item.id for step in steps for item in step.items}


@pytest.mark.parametrize(("severity", "kind", "service", "present", "absent"), [
    # Sev1 has a dedicated channel and a first notice; Sev2 only the notice; Sev3 decides; Sev4 pages nobody.
    (1, "model_degradation", MODEL, {"communicate.channel", "communicate.first-notice", "close.review"},
     {"communicate.client-relevant"}),
    (2, "model_degradation", MODEL, {"communicate.first-notice", "close.resolution-notice"}, {"communicate.channel"}),
    (3, "model_degradation", MODEL, {"communicate.client-relevant", "close.review"},
     {"communicate.channel", "communicate.first-notice", "close.resolution-notice"}),
    (4, "other", FEED, {"close.record"},
     {"communicate.channel", "communicate.first-notice", "communicate.client-relevant", "close.review",
      "verify.monitor"}),
    # Model degradation: the fallback first, then compare inputs; no fallback item without a fallback.
    (2, "model_degradation", BARE_MODEL, {"resolve.compare-inputs"}, {"resolve.fallback", "verify.fallback-off"}),
    # Pipeline failure: last good batch, blast radius, source format changes.
    (2, "pipeline_failure", FEED, {"resolve.last-good-batch", "resolve.blast-radius", "resolve.source-format"},
     {"resolve.compare-inputs", "resolve.fallback"}),
    # API availability without a recent deploy: infrastructure, but no rollback offered.
    (1, "api_availability", API, {"resolve.infrastructure"}, {"resolve.rollback", "resolve.contain"}),
    # Security: contain, revoke, isolate, legal, deadline, and the notifications at the close.
    (1, "security", API, {"resolve.contain", "resolve.revoke", "resolve.isolate", "communicate.legal",
                          "communicate.notification-deadline", "assess.exposure", "close.notifications-sent"},
     {"resolve.infrastructure"}),
    (2, "other", API, {"resolve.notes", "resolve.escalate", "resolve.restored"},
     {"resolve.contain", "resolve.compare-inputs", "resolve.infrastructure"}),
])
def test_checklist_follows_type_severity_and_service(
    severity: int, kind: str, service: Service, present: set[str], absent: set[str]
) -> None:
    found = all_ids(steps_for(severity, kind, service))
    assert present <= found, present - found
    assert not absent & found, absent & found


def test_model_degradation_offers_the_fallback_first_with_its_webhook() -> None:
    steps = steps_for(1, "model_degradation", MODEL)
    first = steps[2].items[0]
    assert first.id == "resolve.fallback" and first.kind == "fallback" and first.data == {"webhook": True}
    assert "popularity-by-category" in first.text
    assert ids(steps, 3)[1] == "resolve.compare-inputs"


def test_five_steps_have_the_spec_timeboxes_from_declaration() -> None:
    steps = steps_for(1)
    assert [s.key for s in steps] == ["assess", "communicate", "resolve", "verify", "close"]
    assert (steps[0].starts, steps[0].ends) == (T0, T0 + 15 * MIN)
    assert (steps[1].starts, steps[1].ends) == (T0 + 15 * MIN, T0 + 30 * MIN)
    assert steps[2].ends == T0 + 45 * MIN  # assessment plus the policy's resolve timeout
    assert steps[3].starts is None and steps[4].starts is None  # they wait for the resolution


def test_verify_and_close_timeboxes_start_at_resolution_for_the_monitor_period() -> None:
    i = incident(1)
    i.resolved_at = T0 + 50 * MIN
    steps = derive_playbook(PlaybookInput(i, MODEL, "Northwind Home", SeverityPolicy()))
    assert (steps[3].starts, steps[3].ends) == (T0 + 50 * MIN, T0 + 110 * MIN)  # Sev1 monitors 60 min
    assert (steps[4].starts, steps[4].ends) == (T0 + 110 * MIN, T0 + 140 * MIN)


def test_recent_changes_of_service_and_dependencies_are_candidate_causes() -> None:
    steps = steps_for(1, "api_availability", API, changes=[DEPLOY, UPSTREAM])
    assess = {i.id: i for i in steps[0].items}
    assert "assess.change.7" in assess and "assess.change.8" in assess
    assert "40 min before" in assess["assess.change.7"].text and "3 h before" in assess["assess.change.8"].text
    rollback = find_item(steps, "resolve.rollback")
    assert "v42" in rollback.text and rollback.data == {"change_id": 7}


def test_an_upstream_change_alone_does_not_offer_a_rollback_of_the_api() -> None:
    assert "resolve.rollback" not in all_ids(steps_for(1, "api_availability", API, changes=[UPSTREAM]))


def test_blast_radius_lists_dependents_nearest_first() -> None:
    assert dependents(SERVICES, "catalog-feed") == ["recs-model", "recs-api"]
    item = find_item(steps_for(2, "pipeline_failure", FEED), "resolve.blast-radius")
    assert item.data == {"services": ["recs-model", "recs-api"]}


def test_workarounds_are_listed_for_removal_in_step_four() -> None:
    steps = steps_for(2, workarounds=[Workaround(3, "feature store pinned to batch 2210", "aiko", T0)])
    assert "verify.workaround.3" in ids(steps, 4)
    assert "pinned to batch 2210" in find_item(steps, "verify.workaround.3").text


def test_assessment_questions_come_from_the_policy_and_suggest_the_most_severe_yes() -> None:
    steps = steps_for(2)
    questions = [i for i in steps[0].items if i.kind == "question"]
    assert [q.data["suggests"] for q in questions] == ["Sev1", "Sev2", "Sev3", "Sev4"]
    assert "client revenue or data integrity" in questions[0].text
    ticks = {q: Tick(q, True, "aiko", T0) for q in ("assess.q.sev3", "assess.q.sev2")}
    assert suggested_severity(ticks) == "Sev2"
    assert suggested_severity({}) is None


def test_unknown_item_is_refused_listing_the_items() -> None:
    with pytest.raises(ValueError, match=r"no playbook item 'assess\.nope'.*assess\.system"):
        find_item(steps_for(1), "assess.nope")


@pytest.mark.parametrize(("minute", "ticked_at", "expected", "left"), [
    (5, None, "running", 10),
    (20, None, "overrun", -5),
    (20, 10, "done", -5),
    (20, 17, "done_late", -5),
])
def test_step_timebox_state_from_declaration(minute: int, ticked_at: int | None, expected: str, left: int) -> None:
    step = steps_for(1)[0]
    ticks = {i.id: Tick(i.id, True, "aiko", T0 + ticked_at * MIN) for i in step.items} if ticked_at else {}
    view = step_view(step, ticks, T0 + minute * MIN)
    assert view.state == expected
    assert view.left == left * MIN
    assert view.done == (view.total if ticked_at else 0)


def test_step_two_is_upcoming_before_its_timebox() -> None:
    assert step_view(steps_for(1)[1], {}, T0 + 5 * MIN).state == "upcoming"


def test_acknowledgement_and_mitigation_tick_their_items_by_themselves() -> None:
    i = incident(1)
    i.acknowledged_at, i.acknowledged_by, i.mitigated_at = T0 + 4 * MIN, "aiko", T0 + 20 * MIN
    found = effective_ticks(i, [])
    assert found["assess.acknowledge"].by == "aiko" and found["assess.acknowledge"].at == T0 + 4 * MIN
    assert found["resolve.restored"].at == T0 + 20 * MIN


def test_notices_sent_to_the_client_tick_their_items_by_themselves() -> None:
    sent = [TimelineEntry(T0 + 40 * MIN, "comms.update", "Update", "maria"),
            TimelineEntry(T0 + 25 * MIN, "comms.initial", "Initial notice", "maria"),
            TimelineEntry(T0 + 90 * MIN, "comms.resolution", "Resolved", "lucia")]
    found = effective_ticks(incident(1), [], sent)
    assert (found["communicate.first-notice"].by, found["communicate.first-notice"].at) == ("maria", T0 + 25 * MIN)
    assert found["close.resolution-notice"].at == T0 + 90 * MIN
    assert "communicate.first-notice" not in effective_ticks(incident(1), [], sent[:1])
    # A stored tick (or untick) is the last word; the record does not override a person's choice.
    untick = Tick("communicate.first-notice", False, "aiko", T0 + 50 * MIN)
    assert not effective_ticks(incident(1), [untick], sent)["communicate.first-notice"].done


@pytest.mark.parametrize(("done_at", "now", "state", "record_miss"), [
    (None, 20, "running", False),
    (None, 31, "missed", True),
    (25, 40, "met", False),
    (35, 40, "met_late", True),
])
def test_client_request_state_follows_due_and_done_times(
    done_at: int | None, now: int, state: str, record_miss: bool
) -> None:
    request = ClientRequest(1, 1, "re-export the catalog", T0 + 30 * MIN, "aiko", T0,
                            T0 + done_at * MIN if done_at is not None else None)
    assert request.state(T0 + now * MIN) == state
    assert request.miss_to_record(T0 + now * MIN) is record_miss


def test_a_plan_that_gives_sev2_a_dedicated_channel_gets_the_channel_item() -> None:
    levels = dict(SeverityPolicy().levels)
    levels[Severity.SEV2] = replace(levels[Severity.SEV2], dedicated_channel=True, monitor_for=None)
    policy = SeverityPolicy(levels=levels)
    steps = derive_playbook(PlaybookInput(incident(2), MODEL, "Northwind Home", policy))
    assert "communicate.channel" in ids(steps, 2)
    assert "verify.monitor" not in ids(steps, 4)
    assert steps[3].starts is None
