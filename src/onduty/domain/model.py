"""The plan's entities as the engine sees them: frozen, validated elsewhere, cheap to pass around."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from onduty.domain.comms import CommsPolicy
from onduty.domain.detectors import DetectorSpec
from onduty.domain.feeds import FeedSpec
from onduty.domain.review import REFUSED_ROOT_CAUSES
from onduty.domain.severity import SeverityPolicy

if TYPE_CHECKING:
    from onduty.domain.routing import AlertPolicy
    from onduty.domain.runbooks import RunbookLink

ContactKind = Literal["console", "webhook", "email", "sms", "slack", "teams", "apprise"]
TargetKind = Literal["schedule", "person"]


@dataclass(frozen=True)
class ContactMethod:
    """One way to reach a person; tried in the order the plan lists them."""

    kind: ContactKind
    address: str = ""
    secret_env: str | None = None


@dataclass(frozen=True)
class TimeOff:
    """A span (aware datetimes, end exclusive) in which a person is never paged."""

    start: datetime
    end: datetime
    reason: str = "time off"

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class NotificationRule:
    """Page through contact method `contact` once `after` has passed since the page without an ack."""

    after: timedelta
    contact: int


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    time_zone: str
    roles: tuple[str, ...] = ()
    contacts: tuple[ContactMethod, ...] = ()
    time_off: tuple[TimeOff, ...] = ()
    notification_rules: tuple[NotificationRule, ...] = ()  # empty: first contact at once, the rest on failure

    def away_at(self, at: datetime) -> TimeOff | None:
        """The time off that covers `at`, if any."""
        return next((span for span in self.time_off if span.covers(at)), None)


@dataclass(frozen=True)
class ClientContact:
    """Someone on the client's side to call or write to during an incident."""

    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class IncidentChannel:
    """Where a Sev1 incident's dedicated channel lives: a Slack or Teams incoming webhook and its link."""

    kind: Literal["slack", "teams"]
    webhook: str
    link: str | None = None


@dataclass(frozen=True)
class Client:
    id: str
    name: str
    time_zone: str
    account_manager: str
    delivery_lead: str
    tech_lead: str | None = None
    coverage: Coverage | None = None  # None: the default 07:00-22:00 every day in the client's zone
    contacts: tuple[ClientContact, ...] = ()
    incident_channel: IncidentChannel | None = None  # None: the organization's default


@dataclass(frozen=True)
class FallbackWebhook:
    """Where a service's fallback is switched on: POSTed, signed, never redirected."""

    url: str
    secret_env: str | None = None
    method: str = "POST"


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    client_id: str
    kind: str
    escalation_policy_id: str
    depends_on: tuple[str, ...] = ()
    runbooks: tuple[str, ...] = ()
    fallback: str | None = None
    qualified: tuple[str, ...] = ()  # who may be paged for it; empty means anyone
    fallback_webhook: FallbackWebhook | None = None  # set when the fallback can be switched on remotely


@dataclass(frozen=True)
class Restriction:
    """A daily window on some days of the week, in the schedule's zone; `end <= start` wraps midnight."""

    days: frozenset[int]  # Monday=0
    start: time
    end: time

    def active(self, local: datetime) -> bool:
        """Whether naive local time `local` falls inside the window."""
        moment, day = local.time(), local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= moment < self.end
        return (day in self.days and moment >= self.start) or ((day - 1) % 7 in self.days and moment < self.end)


@dataclass(frozen=True)
class Layer:
    """One rotation layer: members take turns, handing off at a wall-clock day and time."""

    name: str
    members: tuple[str, ...]
    start: date
    handoff_time: time
    shift_length: timedelta = timedelta(weeks=1)
    handoff_day: int | None = 0  # Monday=0; None for shifts that are not whole weeks
    restrictions: tuple[Restriction, ...] = ()
    anchor: datetime = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # The naive local start of the first shift: the first handoff on or after `start`.
        anchor = datetime.combine(self.start, self.handoff_time)
        if self.handoff_day is not None:
            anchor += timedelta(days=(self.handoff_day - anchor.weekday()) % 7)
        object.__setattr__(self, "anchor", anchor)


@dataclass(frozen=True)
class Override:
    """`person_id` is on call for the schedule from `start` to `end` (for `replaces` only, if set)."""

    schedule_id: str
    person_id: str
    start: datetime
    end: datetime
    replaces: str | None = None
    created_by: str = ""
    reason: str = "override"
    id: int | None = None

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


@dataclass(frozen=True)
class Coverage:
    """Hours in which a client expects non-critical pages (their zone); `always` means 24x7."""

    time_zone: str
    days: frozenset[int] = frozenset(range(7))
    start: time = time(7, 0)
    end: time = time(22, 0)
    always: bool = False


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    time_zone: str
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: str


@dataclass(frozen=True)
class EscalationLevel:
    targets: tuple[Target, ...]
    ack_timeout: timedelta


@dataclass(frozen=True)
class EscalationPolicy:
    id: str
    levels: tuple[EscalationLevel, ...]
    resolve_timeout: timedelta = timedelta(minutes=30)
    repeats: int = 0


@dataclass(frozen=True)
class Compensation:
    """Comp-time units the plan grants: per hour on call (inside or outside coverage) and per page.

    A page delivered at night (22:00-07:00 in the person's zone) earns `per_night_page` instead of `per_page`.
    """

    per_hour_in_coverage: float = 0.0
    per_hour_outside_coverage: float = 0.1
    per_page: float = 0.25
    per_night_page: float = 1.0


@dataclass(frozen=True)
class Directory:
    """Everything the engine needs from an applied plan, keyed by id."""

    people: Mapping[str, Person] = field(default_factory=dict)
    clients: Mapping[str, Client] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    policies: Mapping[str, EscalationPolicy] = field(default_factory=dict)
    severity: SeverityPolicy = field(default_factory=SeverityPolicy)
    alerting: AlertPolicy | None = None  # routing, classification, maintenance, heartbeats (None: defaults)
    compensation: Compensation = field(default_factory=Compensation)
    runbooks: tuple[RunbookLink, ...] = ()  # the plan's `runbooks` section
    feeds: Mapping[str, FeedSpec] = field(default_factory=dict)
    incident_channel: IncidentChannel | None = None  # the organization-wide default for Sev1 channels
    refused_root_causes: tuple[str, ...] = REFUSED_ROOT_CAUSES  # a review's root cause must say more than these
    communications: CommsPolicy = field(default_factory=CommsPolicy)
    webhook_allow_private: bool = False  # plan: organization.allow_private_webhooks
    webhook_allow_networks: tuple[str, ...] = ()  # plan: organization.webhook_allow_networks (CIDRs)
    detectors: Mapping[str, tuple[DetectorSpec, ...]] = field(default_factory=dict)  # by service
