"""The `onduty.yaml` schema: pydantic models that refuse unknown keys and say what they expect."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from onduty.domain.review import REFUSED_ROOT_CAUSES
from onduty.plan.detector_schema import Detector

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_duration(value: object) -> timedelta:
    """'90s', '15m', '2h', '7d', '1w' → timedelta; the error says the accepted form."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(str(value))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a positive duration like 15m, 2h, 7d or 1w, got {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"expected an IANA time zone such as Europe/Lisbon, got {name!r}") from None
    return name


def parse_clock_time(value: object) -> time:
    """'09:00' → time(9, 0); YAML's bare 9:00 arrives as text too (see load.py)."""
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not match:
        raise ValueError(f"expected a time of day as HH:MM (e.g. \"09:00\"), got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def format_duration(value: timedelta) -> str:
    """The plan's own form, so a stored plan reads back exactly: 600 s → '10m'."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, when_used="json")
]
TimeZone = Annotated[str, AfterValidator(check_time_zone)]
ClockTime = Annotated[
    time, BeforeValidator(parse_clock_time), PlainSerializer(lambda value: value.strftime("%H:%M"), when_used="json")
]
Ident = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactMethod(Strict):
    type: Literal["console", "webhook", "email", "sms", "slack", "teams", "apprise"]
    address: str = Field("", description="URL for webhook/slack/teams, an Apprise URL, e-mail address, phone number")
    secret_env: str | None = Field(None, description="environment variable holding the webhook secret")

    @model_validator(mode="after")
    def _address_needed(self) -> ContactMethod:
        if self.type != "console" and not self.address:
            raise ValueError(f"a {self.type} contact needs an address")
        if self.type in ("webhook", "slack", "teams") and not self.address.startswith(("http://", "https://")):
            raise ValueError(f"a {self.type} address must be an http(s) URL, got {self.address!r}")
        if self.type == "apprise" and "://" not in self.address:
            raise ValueError(f"an apprise address is an Apprise URL such as ntfy://…, got {self.address!r}")
        return self


def parse_delay(value: object) -> timedelta:
    """Like parse_duration, but zero ('0m') is allowed: 'at once'."""
    if isinstance(value, timedelta):
        return value
    if re.fullmatch(r"\s*0+\s*[smhdw]?\s*", str(value)):
        return timedelta(0)
    return parse_duration(value)


Delay = Annotated[timedelta, BeforeValidator(parse_delay), PlainSerializer(
    lambda value: format_duration(value) if value else "0m", when_used="json")]


class NotificationRule(Strict):
    """Use contact method number `contact` (0 = the first listed) once `after` has passed without an ack."""

    after: Delay = timedelta(0)
    contact: int = Field(0, ge=0)


class TimeOff(Strict):
    start: date | datetime
    end: date | datetime = Field(description="inclusive when a date, exclusive when a date and time")
    reason: str = "time off"

    @model_validator(mode="after")
    def _ordered(self) -> TimeOff:
        start, end = _as_datetime(self.start, end=False), _as_datetime(self.end, end=True)
        if (start.tzinfo is None) == (end.tzinfo is None) and end <= start:
            raise ValueError("time off must end after it starts")
        return self


def _as_datetime(value: date | datetime, *, end: bool) -> datetime:
    """A date as the start of that day (or of the next, for an inclusive end); offsets are kept."""
    if isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1) if end else value, time())


Role = Literal["engineer", "tech_lead", "account_manager", "delivery_lead", "legal", "manager"]


class Person(Strict):
    id: Ident
    name: str
    time_zone: TimeZone
    roles: list[Role] = Field(default_factory=lambda: ["engineer"])  # type: ignore[arg-type]
    contact: list[ContactMethod] = Field(default_factory=lambda: [ContactMethod(type="console")])
    time_off: list[TimeOff] = Field(default_factory=list)
    notification_rules: list[NotificationRule] = Field(
        default_factory=list, description="when to use which contact while a page is unacknowledged; empty: the "
        "first contact at once, the next ones only when delivery fails")


class ClientContact(Strict):
    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


class Window(Strict):
    """A daily window on some weekdays; an `end` at or before `start` runs past midnight."""

    start: ClockTime = time(7, 0)
    end: ClockTime = time(22, 0)
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS))  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _not_empty(self) -> Window:
        if self.start == self.end:
            raise ValueError("a window needs different start and end times (use 24x7 for all day)")
        if not self.days:
            raise ValueError("a window needs at least one day")
        return self


class Coverage(Window):
    """Coverage hours of a client, in the client's time zone (default 07:00-22:00 every day)."""


class IncidentChannel(Strict):
    """A Sev1 incident's dedicated channel: a Slack or Teams incoming webhook, and a link people open."""

    type: Literal["slack", "teams"]
    webhook: str = Field(description="the incoming-webhook URL onduty posts the opening message to")
    link: str | None = Field(None, description="the channel's URL, shown on the incident")

    @model_validator(mode="after")
    def _urls(self) -> IncidentChannel:
        for name, value in (("webhook", self.webhook), ("link", self.link)):
            if value is not None and not value.startswith(("http://", "https://")):
                raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
        return self


class Client(Strict):
    id: Ident
    name: str
    time_zone: TimeZone
    coverage: Coverage | Literal["24x7"] = Field(default_factory=Coverage)
    contacts: list[ClientContact] = Field(default_factory=list)
    account_manager: Ident
    delivery_lead: Ident
    tech_lead: Ident | None = None
    incident_channel: IncidentChannel | None = Field(None, description="default: the organization's")


class FallbackWebhook(Strict):
    """Where the fallback is switched on: a POST signed with Standard Webhooks headers, no redirects."""

    url: str
    secret_env: str | None = Field(None, description="environment variable holding the signing secret")
    method: Literal["POST"] = "POST"

    @model_validator(mode="after")
    def _http(self) -> FallbackWebhook:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"a fallback webhook url must be an http(s) URL, got {self.url!r}")
        return self


class Fallback(Strict):
    """A service's restore-first action, e.g. "switch recommendations to the popularity model"."""

    description: str = Field(min_length=1)
    webhook: FallbackWebhook | None = None


def _fallback_from_text(value: object) -> object:
    """The older plan form, a bare sentence, is a fallback without a webhook."""
    return {"description": value} if isinstance(value, str) else value


class Service(Strict):
    id: Ident
    name: str | None = None
    client: Ident
    kind: Literal["model", "pipeline", "api", "feed", "dashboard"]
    depends_on: list[Ident] = Field(default_factory=list)
    escalation_policy: Ident
    runbooks: list[str] = Field(default_factory=list)
    fallback: Annotated[Fallback | None, BeforeValidator(_fallback_from_text)] = None
    qualified: list[Ident] = Field(default_factory=list, description="who may be paged for it; empty: anyone")
    auto_resolve: bool = Field(True, description="resolve the incident when every one of its alerts has resolved")
    group_window: Duration = Field(timedelta(minutes=5), description="alerts of a group within it join one incident")
    heartbeats: list[Heartbeat] = Field(default_factory=list)
    detectors: list[Detector] = Field(default_factory=list, description="KPI, relevance, SLO and output monitors")


class Layer(Strict):
    name: str = "primary"
    members: list[Ident] = Field(min_length=1)
    start: date
    handoff_day: Weekday = "monday"
    handoff_time: ClockTime = time(9, 0)
    shift_length: Duration = timedelta(weeks=1)
    restrictions: list[Window] = Field(default_factory=list, description="when the layer applies; empty: always")

    @model_validator(mode="after")
    def _length(self) -> Layer:
        if self.shift_length < timedelta(hours=1):
            raise ValueError("shift_length must be at least 1h")
        return self


class Schedule(Strict):
    id: Ident
    name: str | None = None
    time_zone: TimeZone
    layers: list[Layer] = Field(min_length=1)


class Target(Strict):
    schedule: Ident | None = None
    person: Ident | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        if (self.schedule is None) == (self.person is None):
            raise ValueError("a target names exactly one of `schedule` or `person`")
        return self


class EscalationLevel(Strict):
    targets: list[Target] = Field(min_length=1)
    ack_timeout: Duration = timedelta(minutes=15)


class EscalationPolicy(Strict):
    id: Ident
    levels: list[EscalationLevel] = Field(min_length=1)
    resolve_timeout: Duration = timedelta(minutes=30)
    repeats: int = Field(0, ge=0, le=10)


class SeverityLevel(Strict):
    """Overrides of one level's defaults; anything left out keeps SPEC §2's value."""

    paging: Literal["all_hands", "on_call", "assess", "none"] | None = None
    first_notice: Duration | None = None
    update_every: Duration | None = None
    dedicated_channel: bool | None = None
    monitor_for: Duration | None = None
    review: Literal["mandatory", "recommended", "optional", "none"] | None = None
    review_due: Duration | None = None


SevName = Literal["sev1", "sev2", "sev3", "sev4"]


class SeverityPolicy(Strict):
    levels: dict[SevName, SeverityLevel] = Field(default_factory=dict)
    event_severity: dict[str, SevName] = Field(default_factory=dict)
    reminder_lead: Duration = Field(timedelta(minutes=5), description="remind a clock's owner this long before")
    security_notification_deadline: Duration = Field(
        timedelta(hours=72), description="a security incident's notification deadline, from declaration")


class Compensation(Strict):
    """Comp-time units for the on-call report: per hour on call and per page."""

    per_hour_in_coverage: float = Field(0.0, ge=0)
    per_hour_outside_coverage: float = Field(0.1, ge=0)
    per_page: float = Field(0.25, ge=0)
    per_night_page: float = Field(1.0, ge=0)


# -- alert handling: heartbeats, routing, classification, maintenance windows ------------------------

def _check_matchers(texts: list[str]) -> list[str]:
    from onduty.domain.matchers import parse_matcher

    for text in texts:
        parse_matcher(text)  # BadMatcher is a ValueError: pydantic reports it on this field
    return texts


Matchers = Annotated[list[str], AfterValidator(_check_matchers)]
IncidentType = Literal["model_degradation", "pipeline_failure", "api_availability", "security", "other"]


class Heartbeat(Strict):
    """A job that pings `POST /api/v1/heartbeats/{key}` every `period`; silence past `grace` alerts."""

    id: Ident
    period: Duration
    grace: Duration = timedelta(minutes=5)
    severity: Literal["critical", "error", "warning", "info"] = "error"


class RoutingRule(Strict):
    """Alerts whose labels match every matcher go to `service` (and so to its client)."""

    name: str = Field(min_length=1)
    match: Matchers = Field(min_length=1)
    service: Ident
    from_services: list[Ident] = Field(default_factory=list, description="only alerts sent with these services' keys")


class ClassificationRule(Strict):
    """Alerts whose labels match get this severity and/or incident type."""

    name: str = Field(min_length=1)
    match: Matchers = Field(min_length=1)
    severity: SevName | None = None
    type: IncidentType | None = None
    services: list[Ident] = Field(default_factory=list, description="only alerts of these services; empty: all")

    @model_validator(mode="after")
    def _sets_something(self) -> ClassificationRule:
        if self.severity is None and self.type is None:
            raise ValueError("a classification rule sets `severity`, `type` or both")
        return self


class MaintenanceWindow(Window):
    """A recurring window in which matching alerts are stored but do not page (e.g. Sundays 02:00-04:00)."""

    id: Ident
    start: ClockTime
    end: ClockTime
    services: list[Ident] = Field(default_factory=list)
    clients: list[Ident] = Field(default_factory=list)
    match: Matchers = Field(default_factory=list)
    time_zone: TimeZone | None = Field(None, description="default: the time zone of the alert's client")


class RunbookLink(Strict):
    """A runbook shown with incidents that meet every criterion given (services, types, alert labels)."""

    file: str = Field(min_length=1, description="path relative to the plan file, e.g. runbooks/feed.md")
    title: str | None = Field(None, description="default: the file's first heading")
    services: list[Ident] = Field(default_factory=list)
    types: list[IncidentType] = Field(default_factory=list)
    match: Matchers = Field(default_factory=list, description="label matchers; one alert must match all")

    @model_validator(mode="after")
    def _linked_somehow(self) -> RunbookLink:
        if not (self.services or self.types or self.match):
            raise ValueError("a runbook link names `services`, `types` or `match` (or several)")
        return self


# -- data feeds -----------------------------------------------------------------------------------

DriftMethod = Literal["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"]


def _pair(value: object) -> tuple[str, str]:
    if isinstance(value, str) and value.count(":") == 1 and all(value.split(":")):
        a, b = value.split(":")
        return a.strip(), b.strip()
    if isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, str) and v for v in value):
        return str(value[0]), str(value[1])
    raise ValueError(f"expected a column pair as \"category:brand\" or [category, brand], got {value!r}")


ColumnPair = Annotated[tuple[str, str], BeforeValidator(_pair)]


class FeedThresholds(Strict):
    """When a batch is held; the defaults are Evidently's for drift and deliberately strict for the rest."""

    drift_share: float = Field(0.5, gt=0, le=1, description="dataset drift when this share of columns drifted")
    method: DriftMethod | None = Field(None, description="one drift method for every column (default: per column)")
    method_threshold: float | None = Field(None, gt=0, description="its threshold (default: the method's own)")
    block_on_column_drift: bool = Field(False, description="one drifted column holds the batch")
    null_share_increase: float = Field(0.1, ge=0, le=1)
    out_of_range_share: float = Field(0.01, ge=0, le=1)
    new_category_share: float = Field(0.01, ge=0, le=1)
    vanished_category_share: float = Field(0.01, ge=0, le=1)
    new_pair_share: float = Field(0.01, ge=0, le=1)
    churn_floor: float = Field(0.01, ge=0, le=1, description="changed-key share always tolerated")
    churn_factor: float = Field(3.0, ge=1, description="times the feed's normal churn tolerated")
    churn_unlearnt: float = Field(0.2, ge=0, le=1, description="the limit until three batches were compared")


class Feed(Strict):
    """A data feed whose batches are checked at `POST /api/v1/feeds/{id}/batches` before they are used."""

    id: Ident
    service: Ident
    format: Literal["csv", "jsonl", "parquet"] | None = None
    key: str | None = Field(None, description="key column of a keyed feed, e.g. product_id")
    attributes: list[str] = Field(default_factory=list, description="a key's attributes; empty: every other column")
    pairs: list[ColumnPair] = Field(default_factory=list, description="column pairs, e.g. category:brand")
    columns: list[str] = Field(default_factory=list, description="columns checked for drift; empty: all")
    multivariate: bool = Field(False, description="also check PCA reconstruction error (joint structure)")
    severity: SevName = "sev2"
    reference: Literal["first_batch", "explicit"] = "first_batch"
    thresholds: FeedThresholds = Field(default_factory=FeedThresholds)


class ReviewPolicy(Strict):
    """Post-incident reviews: root causes refused when they name nothing beyond a person's slip."""

    refused_root_causes: list[str] = Field(
        default_factory=lambda: list(REFUSED_ROOT_CAUSES),
        description="phrases that alone are not a root cause (e.g. human error); replaces the defaults",
    )


# -- client communications ------------------------------------------------------------------------

def _template_ref(value: object) -> object:
    return {"file": value} if isinstance(value, str) else value


class MessageTemplate(Strict):
    """A Jinja2 template file, relative to the plan's folder: a `Subject:` line, a blank line, the body."""

    file: str | None = None
    text: str | None = Field(None, description="the template itself; read from `file` when the plan is loaded")

    @model_validator(mode="after")
    def _one_source(self) -> MessageTemplate:
        if not self.file and self.text is None:
            raise ValueError("a template names a `file` (relative to the plan) or gives its `text`")
        return self


class Recipients(Strict):
    """Who receives client messages at one severity."""

    client_contacts: bool = Field(True, description="the client's contacts (by e-mail)")
    internal: list[Literal["account_manager", "delivery_lead", "tech_lead"]] = Field(default_factory=list)
    people: list[Ident] = Field(default_factory=list, description="anyone else, by person id")


class Communications(Strict):
    templates: dict[Literal["initial", "update", "resolution"],
                    Annotated[MessageTemplate, BeforeValidator(_template_ref)]] = Field(default_factory=dict)
    banned_phrases: list[Annotated[str, Field(min_length=3)]] = Field(
        default_factory=list, description="refused in any client message, on top of onduty's defaults")
    recipients: dict[SevName, Recipients] = Field(default_factory=dict)


class Organization(Strict):
    name: str
    time_zone: TimeZone = "UTC"
    reviewed: date | None = Field(None, description="when the team last reviewed this plan together")
    incident_channel: IncidentChannel | None = Field(None, description="default channel target for Sev1")
    # Outbound webhooks refuse private, loopback and link-local targets unless opened here.
    allow_private_webhooks: bool = False
    webhook_allow_networks: list[str] = Field(default_factory=list)

    @field_validator("webhook_allow_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not a network (write e.g. 10.1.0.0/16 or ::1/128)") from None
        return value


class Plan(Strict):
    version: Literal[1] = 1
    organization: Organization
    people: list[Person] = Field(min_length=1)
    clients: list[Client] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    escalation_policies: list[EscalationPolicy] = Field(default_factory=list)
    severity_policy: SeverityPolicy = Field(default_factory=SeverityPolicy)
    compensation: Compensation = Field(default_factory=Compensation)
    routing: list[RoutingRule] = Field(default_factory=list)
    classification: list[ClassificationRule] = Field(default_factory=list)
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)
    runbooks: list[RunbookLink] = Field(default_factory=list)
    feeds: list[Feed] = Field(default_factory=list)
    reviews: ReviewPolicy = Field(default_factory=ReviewPolicy)
    communications: Communications = Field(default_factory=Communications)
