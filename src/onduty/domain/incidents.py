"""The incident aggregate: its status rules, and the records the engine keeps beside it.

Transitions are small named rules (from → to); anything else is refused with a reason.
Every change returns the timeline entries it produced, so callers persist them in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["triggered", "acknowledged", "mitigated", "resolved"]

ALLOWED: dict[str, frozenset[str]] = {
    "triggered": frozenset({"acknowledged", "mitigated", "resolved"}),
    "acknowledged": frozenset({"mitigated", "resolved"}),
    "mitigated": frozenset({"resolved"}),
    "resolved": frozenset(),
}

VERBS = {"acknowledged": "acknowledge", "mitigated": "mitigate", "resolved": "resolve"}


class IllegalTransition(ValueError):
    """A status change the lifecycle does not allow; the message says why and what is allowed."""


@dataclass
class TimelineEntry:
    """One line of an incident's append-only record."""

    at: datetime
    kind: str
    message: str
    actor: str = "onduty"
    data: dict[str, Any] = field(default_factory=dict)
    incident_id: int | None = None
    id: int | None = None


@dataclass
class Incident:
    service_id: str
    client_id: str
    title: str
    severity: int
    created_at: datetime
    status: Status = "triggered"
    first_signal_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    escalation_level: int = 0
    escalation_loop: int = 0
    epoch: int = 0  # bumped on ack/resolve: timers of an older epoch are stale and do nothing
    incident_type: str = "other"  # model_degradation, pipeline_failure, api_availability, security, other
    id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    def move_to(self, to: Status, actor: str, now: datetime, note: str = "") -> list[TimelineEntry]:
        """Apply a status change, or raise IllegalTransition naming what is allowed from here."""
        if to == self.status:
            raise IllegalTransition(f"incident {self.id} is already {to}")
        if to not in ALLOWED[self.status]:
            allowed = ", ".join(sorted(VERBS[s] for s in ALLOWED[self.status])) or "nothing"
            raise IllegalTransition(
                f"incident {self.id} is {self.status}: cannot {VERBS.get(to, 'move to ' + to)}; allowed: {allowed}"
            )
        previous = self.status
        self.status = to
        if to == "acknowledged":
            self.acknowledged_at, self.acknowledged_by = now, actor
        elif to == "mitigated":
            self.mitigated_at = now
            self.acknowledged_at = self.acknowledged_at or now
        elif to == "resolved":
            self.resolved_at, self.resolved_by = now, actor
        if previous == "triggered" or to == "resolved":
            self.epoch += 1  # stops the ack escalation (and, on resolve, every timer)
        message = f"{to.capitalize()} by {actor}"
        if note:
            message += f": {note}"
        return [TimelineEntry(now, f"status.{to}", message, actor, {"from": previous, "to": to})]


@dataclass
class Timer:
    """A durable due-time: the worker fires it once `due_at` has passed, if its epoch is current."""

    incident_id: int
    kind: Literal["escalate", "resolve_timeout"]
    due_at: datetime
    epoch: int
    level: int = 0
    loop: int = 0
    done: bool = False
    id: int | None = None


@dataclass
class OutboxMessage:
    """A page to deliver through one contact method; the idempotency key makes it unique."""

    idempotency_key: str
    incident_id: int
    person_id: str
    channel: str
    address: str
    contact_index: int
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    status: Literal["pending", "delivering", "delivered", "failed"] = "pending"
    attempts: int = 0
    lease_until: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    id: int | None = None
