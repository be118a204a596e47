"""The incident aggregate: its status rules, and the records the engine keeps beside it.

Transitions are small named rules (from → to); anything else is refused with a reason.
Every change returns the timeline entries it produced, so callers persist them in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["triggered", "acknowledged", "mitigated", "resolved", "monitoring", "closed"]

# `resolved` is a moment, not a resting place: the engine moves on to `monitoring` (for the severity's
# monitor period) or straight to `closed`. An alert during monitoring reopens (back to `triggered`).
ALLOWED: dict[str, frozenset[str]] = {
    "triggered": frozenset({"acknowledged", "mitigated", "resolved"}),
    "acknowledged": frozenset({"mitigated", "resolved"}),
    "mitigated": frozenset({"resolved"}),
    "resolved": frozenset({"monitoring", "closed"}),
    "monitoring": frozenset({"closed", "triggered"}),
    "closed": frozenset(),
}

VERBS = {"acknowledged": "acknowledge", "mitigated": "mitigate", "resolved": "resolve",
         "monitoring": "start monitoring", "closed": "close", "triggered": "reopen"}
OPEN_STATUSES: tuple[Status, ...] = ("triggered", "acknowledged", "mitigated")
STATUSES: tuple[Status, ...] = ("triggered", "acknowledged", "mitigated", "resolved", "monitoring", "closed")


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
    channel_link: str | None = None  # the dedicated incident channel (Sev1)
    reopen_count: int = 0  # pages after a reopen carry it in their idempotency keys
    clock_epoch: int = 0  # bumped whenever the clocks are re-planned: older clock timers are stale
    closed_at: datetime | None = None
    is_exercise: bool = False  # a drill or a test: kept apart from every report
    id: int | None = None

    @property
    def is_open(self) -> bool:
        """Open for paging, dedup and inhibition: not yet resolved (monitoring and closed are not open)."""
        return self.status in OPEN_STATUSES

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
            # After a reopen the first acknowledgement stays the one the acknowledge clock measured.
            self.acknowledged_at, self.acknowledged_by = self.acknowledged_at or now, actor
        elif to == "mitigated":
            self.mitigated_at = now
            self.acknowledged_at = self.acknowledged_at or now
        elif to == "resolved":
            self.resolved_at, self.resolved_by = now, actor
        elif to == "closed":
            self.closed_at = now
        elif to == "triggered":  # reopened during monitoring
            self.resolved_at = self.resolved_by = self.mitigated_at = None
            self.reopen_count += 1
            self.escalation_level = self.escalation_loop = 0
        if previous == "triggered" or to in ("resolved", "triggered"):
            self.epoch += 1  # stops the ack escalation (on resolve every timer; on reopen the close timer)
        if to == "triggered":
            return [TimelineEntry(now, "incident.reopened", f"Reopened: {note}" if note else "Reopened", actor,
                                  {"from": previous, "to": to, "reopen_count": self.reopen_count})]
        words = {"monitoring": "Monitoring", "closed": "Closed"}
        message = f"{words.get(to, to.capitalize())} by {actor}"
        if note:
            message += f": {note}"
        return [TimelineEntry(now, f"status.{to}", message, actor, {"from": previous, "to": to})]

    def change_severity(self, to: int, reason: str, actor: str, now: datetime) -> list[TimelineEntry]:
        """Raise or lower the severity with a reason; refused when closed, unchanged or unexplained."""
        if self.status == "closed":
            raise IllegalTransition(f"incident {self.id} is closed: its severity can no longer change")
        if not reason.strip():
            raise ValueError("a severity change needs a reason (what makes it more or less severe now)")
        if to == self.severity:
            raise ValueError(f"incident {self.id} is already Sev{to}")
        previous, self.severity = self.severity, to
        direction = "Raised" if to < previous else "Lowered"
        return [TimelineEntry(now, "incident.severity_changed",
                              f"{direction} from Sev{previous} to Sev{to} by {actor}: {reason.strip()}", actor,
                              {"from": previous, "to": to, "reason": reason.strip()})]


@dataclass
class Timer:
    """A durable due-time: the worker fires it once `due_at` has passed, if its epoch is current."""

    incident_id: int
    kind: str  # escalate, resolve_timeout, close (end of monitoring), engage, clocks
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
    status: Literal["pending", "delivering", "delivered", "failed", "cancelled"] = "pending"
    attempts: int = 0
    lease_until: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    id: int | None = None
