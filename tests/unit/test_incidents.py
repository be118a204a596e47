"""The incident lifecycle as a table: every from → to pair, allowed or refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from onduty.domain.incidents import IllegalTransition, Incident, Status

DECLARED = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
EARLIER_ACK = DECLARED + timedelta(minutes=3)
NOW = DECLARED + timedelta(minutes=20)
STATUSES: tuple[Status, ...] = ("triggered", "acknowledged", "mitigated", "resolved", "monitoring", "closed")

# (from, to) → does the epoch (which stops pending timers) move on?
ALLOWED: dict[tuple[Status, Status], bool] = {
    ("triggered", "acknowledged"): True,
    ("triggered", "mitigated"): True,
    ("triggered", "resolved"): True,
    ("acknowledged", "mitigated"): False,  # the resolve-timeout timer must keep running
    ("acknowledged", "resolved"): True,
    ("mitigated", "resolved"): True,
    ("resolved", "monitoring"): False,  # the close timer carries the epoch the resolve gave
    ("resolved", "closed"): False,
    ("monitoring", "closed"): False,
    ("monitoring", "triggered"): True,  # a reopen: the close timer goes stale
}
ILLEGAL = [pair for pair in product(STATUSES, STATUSES) if pair not in ALLOWED]

# What each refusal must say is still possible from its status.
ALLOWED_VERBS = {
    "triggered": ["acknowledge", "mitigate", "resolve"],
    "acknowledged": ["mitigate", "resolve"],
    "mitigated": ["resolve"],
    "resolved": ["close", "start monitoring"],
    "monitoring": ["close", "reopen"],
    "closed": ["nothing"],
}

REFUSED_VERBS = {"acknowledged": "acknowledge", "mitigated": "mitigate", "resolved": "resolve",
                 "monitoring": "start monitoring", "closed": "close", "triggered": "reopen"}


def incident_in(status: Status) -> Incident:
    """An incident that reached `status` the normal way (acknowledged by ann 3 minutes in)."""
    incident = Incident("recs-model", "northwind", "Recommendations are nonsense", 1, DECLARED, id=7, epoch=2)
    incident.status = status
    if status != "triggered":
        incident.acknowledged_at, incident.acknowledged_by = EARLIER_ACK, "ann"
    if status == "mitigated":
        incident.mitigated_at = EARLIER_ACK
    if status in ("resolved", "monitoring", "closed"):
        incident.resolved_at, incident.resolved_by = EARLIER_ACK, "ann"
    if status == "closed":
        incident.closed_at = EARLIER_ACK
    return incident


def test_the_table_covers_every_pair() -> None:
    assert len(ALLOWED) + len(ILLEGAL) == len(STATUSES) ** 2


@pytest.mark.parametrize(("start", "to"), [pair for pair in ALLOWED if pair[1] != "triggered"])
def test_allowed_transition_changes_status_and_records_it(start: Status, to: Status) -> None:
    incident = incident_in(start)
    entries = incident.move_to(to, "bob", NOW, note="fallback model is live")

    assert incident.status == to
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.at, entry.kind, entry.actor) == (NOW, f"status.{to}", "bob")
    assert entry.data == {"from": start, "to": to}
    assert entry.message == f"{to.capitalize()} by bob: fallback model is live"


@pytest.mark.parametrize(("start", "to"), list(ALLOWED))
def test_epoch_moves_on_when_leaving_triggered_and_on_resolve_only(start: Status, to: Status) -> None:
    incident = incident_in(start)
    incident.move_to(to, "bob", NOW)
    assert incident.epoch == (3 if ALLOWED[(start, to)] else 2)


def test_acknowledge_sets_time_and_actor() -> None:
    incident = incident_in("triggered")
    incident.move_to("acknowledged", "bob", NOW)
    assert (incident.acknowledged_at, incident.acknowledged_by) == (NOW, "bob")
    assert incident.mitigated_at is None and incident.resolved_at is None


def test_mitigate_from_triggered_counts_as_acknowledged_now() -> None:
    incident = incident_in("triggered")
    incident.move_to("mitigated", "bob", NOW)
    assert incident.mitigated_at == NOW
    assert incident.acknowledged_at == NOW


def test_mitigate_after_acknowledge_keeps_the_original_acknowledgement() -> None:
    incident = incident_in("acknowledged")
    incident.move_to("mitigated", "bob", NOW)
    assert incident.mitigated_at == NOW
    assert (incident.acknowledged_at, incident.acknowledged_by) == (EARLIER_ACK, "ann")


@pytest.mark.parametrize("start", ["triggered", "acknowledged", "mitigated"])
def test_resolve_sets_time_and_actor_and_closes_the_incident(start: Status) -> None:
    incident = incident_in(start)
    assert incident.is_open
    incident.move_to("resolved", "bob", NOW)
    assert (incident.resolved_at, incident.resolved_by) == (NOW, "bob")
    assert not incident.is_open


def test_resolve_from_triggered_bumps_the_epoch_once() -> None:
    incident = incident_in("triggered")
    incident.move_to("resolved", "bob", NOW)
    assert incident.epoch == 3


def test_note_is_optional_in_the_timeline_message() -> None:
    entries = incident_in("triggered").move_to("acknowledged", "bob", NOW)
    assert entries[0].message == "Acknowledged by bob"


@pytest.mark.parametrize(("start", "to"), ILLEGAL)
def test_illegal_transition_is_refused_and_changes_nothing(start: Status, to: Status) -> None:
    incident = incident_in(start)
    before = vars(incident).copy()
    with pytest.raises(IllegalTransition) as caught:
        incident.move_to(to, "bob", NOW)
    assert vars(incident) == before
    message = str(caught.value)
    assert "incident 7" in message
    if start == to:
        assert f"already {to}" in message
    else:
        assert f"is {start}" in message
        assert f"cannot {REFUSED_VERBS[to]}" in message
        assert "allowed: " + ", ".join(ALLOWED_VERBS[start]) in message


def test_illegal_transition_is_a_value_error() -> None:
    assert issubclass(IllegalTransition, ValueError)


def test_monitoring_and_closed_are_not_open() -> None:
    assert [s for s in STATUSES if incident_in(s).is_open] == ["triggered", "acknowledged", "mitigated"]


def test_reopen_clears_the_resolution_keeps_the_first_ack_and_counts_the_round() -> None:
    incident = incident_in("monitoring")
    incident.escalation_level = 2
    entries = incident.move_to("triggered", "alertmanager", NOW, "alert recurred")
    assert incident.status == "triggered" and incident.resolved_at is None and incident.resolved_by is None
    assert incident.acknowledged_at == EARLIER_ACK and incident.reopen_count == 1
    assert incident.escalation_level == 0 and incident.epoch == 3
    assert (entries[0].kind, entries[0].data) == ("incident.reopened",
                                                  {"from": "monitoring", "to": "triggered", "reopen_count": 1})


def test_acknowledging_after_a_reopen_keeps_the_first_acknowledgement_time() -> None:
    incident = incident_in("monitoring")
    incident.move_to("triggered", "monitor", NOW)
    incident.move_to("acknowledged", "bob", NOW + timedelta(minutes=5))
    assert (incident.acknowledged_at, incident.acknowledged_by) == (EARLIER_ACK, "bob")


def test_close_records_when() -> None:
    incident = incident_in("monitoring")
    incident.move_to("closed", "onduty", NOW)
    assert incident.closed_at == NOW and not incident.is_open


@pytest.mark.parametrize(("severity", "to", "reason", "error"), [
    (2, 1, "", "needs a reason"),
    (2, 1, "   ", "needs a reason"),
    (2, 2, "still bad", "already Sev2"),
])
def test_severity_change_is_refused_without_reason_or_change(severity: int, to: int, reason: str, error: str) -> None:
    incident = incident_in("acknowledged")
    incident.severity = severity
    with pytest.raises(ValueError, match=error):
        incident.change_severity(to, reason, "bob", NOW)
    assert incident.severity == severity


def test_severity_change_of_a_closed_incident_is_an_illegal_transition() -> None:
    with pytest.raises(IllegalTransition, match="closed"):
        incident_in("closed").change_severity(2, "calmer now", "bob", NOW)


@pytest.mark.parametrize(("before", "after", "word"), [(3, 1, "Raised"), (1, 2, "Lowered")])
def test_severity_change_is_recorded_with_its_reason(before: int, after: int, word: str) -> None:
    incident = incident_in("triggered")
    incident.severity = before
    [entry] = incident.change_severity(after, " conversions down 19% ", "bob", NOW)
    assert incident.severity == after
    assert entry.kind == "incident.severity_changed"
    assert entry.message == f"{word} from Sev{before} to Sev{after} by bob: conversions down 19%"
    assert entry.data == {"from": before, "to": after, "reason": "conversions down 19%"}
