"""Per-person notification rules: chat at once, a second channel after five minutes unless acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from onduty.adapters.clock import SimulatedClock
from onduty.app.incidents import change_status
from onduty.bootstrap import Container
from tests.conftest import advance
from tests.integration.comms_plan import apply_text, comms_container, comms_plan_text
from tests.integration.receivers import HttpReceiver, SmtpReceiver, http_receiver, smtp_receiver  # noqa: F401
from tests.integration.test_escalation import kinds, trigger

RULES = "    notification_rules:\n      - {after: 0m, contact: 0}\n      - {after: 5m, contact: 1}\n"


@pytest.fixture
def ruled(database_url: str, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
          http_receiver: HttpReceiver, tmp_path: Path) -> Iterator[Container]:  # noqa: F811
    container = comms_container(database_url, clock, smtp_receiver.port)
    apply_text(container, tmp_path / "plan", comms_plan_text(http_receiver.base, ana_rules=RULES))
    yield container
    container.db.dispose()


def test_second_rule_pages_the_next_channel_after_five_minutes_without_ack(
    ruled: Container, clock: SimulatedClock, smtp_receiver: SmtpReceiver, http_receiver: HttpReceiver,  # noqa: F811
) -> None:
    incident_id = trigger(ruled)
    advance(ruled, clock, timedelta(minutes=4, seconds=59))
    assert len(http_receiver.at("/slack/ana")) == 1 and smtp_receiver.to("ana@halyard.example") == []
    advance(ruled, clock, timedelta(seconds=1))
    assert len(smtp_receiver.to("ana@halyard.example")) == 1
    queued = [e.data["channel"] for e in _entries(ruled, incident_id, "page.queued") if e.data["person"] == "ana"]
    assert queued == ["slack", "email"]


def test_acknowledging_cancels_the_later_rules(
    ruled: Container, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
) -> None:
    incident_id = trigger(ruled)
    advance(ruled, clock, timedelta(minutes=3))
    change_status(ruled.db, incident_id, "acknowledged", "ana", clock.now())
    advance(ruled, clock, timedelta(minutes=10))
    assert smtp_receiver.to("ana@halyard.example") == []
    (cancelled,) = _entries(ruled, incident_id, "page.cancelled")
    assert "Ana Souza via email" in cancelled.message and "acknowledged" in cancelled.message
    assert "page.delivered" in kinds(ruled, incident_id)


def test_without_rules_only_the_first_contact_is_paged(
    database_url: str, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
    http_receiver: HttpReceiver, tmp_path: Path,  # noqa: F811
) -> None:
    container = comms_container(database_url, clock, smtp_receiver.port)
    try:
        apply_text(container, tmp_path / "plan", comms_plan_text(http_receiver.base))
        trigger(container)
        advance(container, clock, timedelta(minutes=9))
        assert len(http_receiver.at("/slack/ana")) == 1 and smtp_receiver.to("ana@halyard.example") == []
    finally:
        container.db.dispose()


def _entries(container: Container, incident_id: int, kind: str) -> list:  # type: ignore[type-arg]
    with container.db.transaction() as store:
        return [e for e in store.timeline(incident_id) if e.kind == kind]
