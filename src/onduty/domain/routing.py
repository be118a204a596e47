"""Route and classify an alert: label rules pick the service (hence the client), the severity and the
incident type. Rules are compiled once per plan; the first matching rule wins, and when none matches
the defaults apply (the integration key's service; the event's own severity; a type from the
service's kind). Each answer carries a note saying why, for the timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from onduty.domain.heartbeats import HeartbeatCheck
from onduty.domain.matchers import Matcher, match_all
from onduty.domain.severity import Severity, SeverityPolicy
from onduty.domain.suppression import MaintenanceWindow

INCIDENT_TYPES = ("model_degradation", "pipeline_failure", "api_availability", "security", "other")
TYPE_BY_KIND = {
    "model": "model_degradation", "pipeline": "pipeline_failure", "feed": "pipeline_failure",
    "api": "api_availability", "dashboard": "other",
}
DEFAULT_GROUP_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class RoutingRule:
    """Events whose labels match go to `service`; `from_services` limits the rule to those services' keys."""

    name: str
    matchers: tuple[Matcher, ...]
    service: str
    from_services: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ClassificationRule:
    """Events whose labels match get this severity and/or incident type (None: left to later rules)."""

    name: str
    matchers: tuple[Matcher, ...]
    severity: Severity | None = None
    incident_type: str | None = None
    services: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ServiceAlerting:
    """Per-service alert handling: resolve the incident when all its alerts resolve; grouping window."""

    auto_resolve: bool = True
    group_window: timedelta = DEFAULT_GROUP_WINDOW


@dataclass(frozen=True)
class AlertPolicy:
    """The plan's alert-handling rules, compiled."""

    routes: tuple[RoutingRule, ...] = ()
    classes: tuple[ClassificationRule, ...] = ()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    heartbeats: Mapping[str, HeartbeatCheck] = field(default_factory=dict)
    services: Mapping[str, ServiceAlerting] = field(default_factory=dict)

    def for_service(self, service_id: str) -> ServiceAlerting:
        return self.services.get(service_id) or ServiceAlerting()


@dataclass(frozen=True)
class Route:
    service_id: str
    rule: str | None  # None: the integration key's own service

    @property
    def note(self) -> str:
        return f"routed to {self.service_id} by rule {self.rule!r}" if self.rule else \
            f"routed to {self.service_id} (the integration key's service)"


@dataclass(frozen=True)
class Classification:
    severity: Severity
    incident_type: str
    severity_rule: str | None
    type_rule: str | None

    @property
    def note(self) -> str:
        sev = f"by rule {self.severity_rule!r}" if self.severity_rule else "from the event's severity"
        kind = f"by rule {self.type_rule!r}" if self.type_rule else "from the event's class or the service's kind"
        return f"{self.severity.label} ({sev}), type {self.incident_type} ({kind})"


def route(policy: AlertPolicy, labels: Mapping[str, str], key_service: str) -> Route:
    """The first rule (open to this key's service) whose matchers all hold; else the key's service."""
    for rule in policy.routes:
        if (not rule.from_services or key_service in rule.from_services) and match_all(rule.matchers, labels):
            return Route(rule.service, rule.name)
    return Route(key_service, None)


def classify(
    policy: AlertPolicy, severity_policy: SeverityPolicy, labels: Mapping[str, str], service_id: str,
    service_kind: str, event_severity: str, event_class: str | None = None,
) -> Classification:
    """Severity and type from the first rules that set them; the defaults fill what no rule set (the
    event's own class when it names an incident type, else the service's kind)."""
    severity: Severity | None = None
    incident_type: str | None = None
    severity_rule = type_rule = None
    for rule in policy.classes:
        if rule.services and service_id not in rule.services:
            continue
        if not match_all(rule.matchers, labels):
            continue
        if severity is None and rule.severity is not None:
            severity, severity_rule = rule.severity, rule.name
        if incident_type is None and rule.incident_type is not None:
            incident_type, type_rule = rule.incident_type, rule.name
        if severity is not None and incident_type is not None:
            break
    return Classification(
        severity if severity is not None else severity_policy.from_event(event_severity),
        incident_type or (event_class if event_class in INCIDENT_TYPES else TYPE_BY_KIND.get(service_kind, "other")),
        severity_rule, type_rule,
    )
