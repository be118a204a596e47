"""The incident lifecycle as a table: every from → to pair, allowed or refused with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from onduty.domain.incidents import IllegalTransition, Incident, Status

DECLARED = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
EARLIER_ACK = DECLARED + timedelta(minutes=3)
NOW = DECLARED + timedelta(minutes=20)
STATUSES: tuple[Status, ...] = ("triggered", "acknowledged", "mitigated", "resolved")

# (from, to) → does the epoch (which stops pending timers) move on?
ALLOWED: dict[tuple[Status, Status], bool] = {
    ("triggered", "acknowledged"): True,
    ("triggered", "mitigated"): True,
    ("triggered", "resolved"): True,
    ("acknowledged", "mitigated"): False,  # the resolve-timeout timer must keep running
    ("acknowledged", "resolved"): True,
    ("mitigated", "resolved"): True,
}
ILLEGAL = [pair for pair in product(STATUSES, STATUSES) if pair not in ALLOWED]

# What each refusal must say is still possible from its status.
ALLOWED_VERBS = {
    "triggered": ["acknowledge", "mitigate", "resolve"],
    "acknowledged": ["mitigate", "resolve"],
    "mitigated": ["resolve"],
    "resolved": ["nothing"],
}

REFUSED_VERBS = {"acknowledged": "acknowledge", "mitigated": "mitigate", "resolved": "resolve"}


def incident_in(status: Status) -> Incident:
    """An incident that reached `status` the normal way (acknowledged by ann 3 minutes in)."""
    incident = Incident("recs-model", "northwind", "Recommendations are nonsense", 1, DECLARED, id=7, epoch=2)
    incident.status = status
    if status != "triggered":
        incident.acknowledged_at, incident.acknowledged_by = EARLIER_ACK, "ann"
    if status == "mitigated":
        incident.mitigated_at = EARLIER_ACK
    if status == "resolved":
        incident.resolved_at, incident.resolved_by = EARLIER_ACK, "ann"
    return incident


def test_the_table_covers_every_pair() -> None:
    assert len(ALLOWED) + len(ILLEGAL) == len(STATUSES) ** 2


@pytest.mark.parametrize(("start", "to"), list(ALLOWED))
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
        if to != "triggered":
            assert f"cannot {REFUSED_VERBS[to]}" in message
        assert "allowed: " + ", ".join(ALLOWED_VERBS[start]) in message


def test_illegal_transition_is_a_value_error() -> None:
    assert issubclass(IllegalTransition, ValueError)
