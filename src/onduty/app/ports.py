"""What the use cases need from the outside world, as Protocols the adapters implement."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from onduty.domain.alerts import Alert
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry, Timer
from onduty.domain.model import Directory, Override

Role = Literal["admin", "responder", "viewer"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class Conflict(Exception):
    """A uniqueness guard fired: another transaction got there first. Retry to see its result."""


class NotFound(LookupError):
    """The object does not exist, or is outside the caller's scope (the two look the same)."""


class Unavailable(RuntimeError):
    """The database cannot be reached; callers answer 503 so senders retry."""


@dataclass(frozen=True)
class ApiKey:
    role: Role
    client_id: str | None


@dataclass(frozen=True)
class IncidentFilter:
    status: str | None = None
    client_id: str | None = None
    service_id: str | None = None
    severity: int | None = None
    open_only: bool = False
    limit: int = 100


class Store(Protocol):
    """One transaction's view of the data. Changes commit when the transaction block ends."""

    def directory(self) -> Directory: ...
    def plan_sha(self) -> str | None: ...
    def save_plan(self, sha256: str, source: str, document: dict[str, Any], now: datetime) -> None: ...
    def sync_entities(self, clients: Sequence[dict[str, Any]], services: Sequence[dict[str, Any]],
                      people: Sequence[dict[str, Any]]) -> dict[str, int]: ...

    def add_override(self, override: Override, kind: str, swap_group: str | None, now: datetime) -> int: ...
    def overrides(self, schedule_id: str | None, start: datetime, end: datetime) -> list[Override]: ...
    def delete_override(self, override_id: int, by: str, now: datetime) -> str | None: ...
    def instance_secret(self, name: str, make: Callable[[], str], now: datetime) -> str: ...

    def add_integration_key(self, key_hash: str, service_id: str, now: datetime) -> None: ...
    def service_for_key(self, key_hash: str) -> str | None: ...
    def add_api_key(self, key_hash: str, role: Role, client_id: str | None, now: datetime) -> None: ...
    def api_key(self, key_hash: str) -> ApiKey | None: ...

    def open_alert(self, service_id: str, dedup_key: str) -> Alert | None: ...
    def add_alert(self, alert: Alert) -> None: ...
    def alerts_of(self, incident_id: int) -> list[Alert]: ...

    def add_incident(self, incident: Incident) -> None: ...
    def incident(self, incident_id: int, client_id: str | None = None) -> Incident | None: ...
    def incidents(self, query: IncidentFilter) -> list[Incident]: ...

    def append(self, incident_id: int, entries: Sequence[TimelineEntry]) -> None: ...
    def timeline(self, incident_id: int) -> list[TimelineEntry]: ...

    def add_timer(self, timer: Timer) -> None: ...
    def claim_due_timers(self, now: datetime, limit: int) -> list[Timer]: ...
    def next_timer_due(self) -> datetime | None: ...

    def add_outbox(self, message: OutboxMessage) -> bool: ...
    def claim_deliveries(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxMessage]: ...
    def next_delivery_due(self) -> datetime | None: ...
    def outbox_message(self, message_id: int) -> OutboxMessage | None: ...
    def outbox_depth(self) -> int: ...

    def pages_delivered(self, start: datetime, end: datetime) -> list[tuple[str, datetime]]: ...


class Transactions(Protocol):
    def __call__(self) -> AbstractContextManager[Store]: ...


class DeliveryError(Exception):
    """A channel could not deliver. `permanent` errors skip the retries and try the next contact."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Channel(Protocol):
    def send(self, message: OutboxMessage, now: datetime) -> str:
        """Deliver one page; return a short receipt, or raise DeliveryError."""
        ...
