"""Compile the plan's alert-handling sections (routing, classification, maintenance windows, heartbeats,
per-service settings) into the domain's AlertPolicy, once per plan."""

from __future__ import annotations

from onduty.domain.feeds import FeedSpec
from onduty.domain.heartbeats import HeartbeatCheck
from onduty.domain.matchers import parse_matchers
from onduty.domain.model import Restriction
from onduty.domain.routing import AlertPolicy, ClassificationRule, RoutingRule, ServiceAlerting
from onduty.domain.severity import Severity
from onduty.domain.suppression import MaintenanceWindow
from onduty.plan import schema


def alert_policy(plan: schema.Plan) -> AlertPolicy:
    return AlertPolicy(
        routes=tuple(
            RoutingRule(r.name, parse_matchers(r.match), r.service, frozenset(r.from_services))
            for r in plan.routing
        ),
        classes=feed_rules(plan) + tuple(
            ClassificationRule(
                c.name, parse_matchers(c.match), Severity.parse(c.severity) if c.severity else None,
                c.type, frozenset(c.services),
            )
            for c in plan.classification
        ),
        maintenance=tuple(
            MaintenanceWindow(
                w.id, Restriction(frozenset(schema.WEEKDAYS.index(d) for d in w.days), w.start, w.end),
                frozenset(w.services), frozenset(w.clients), parse_matchers(w.match), w.time_zone,
            )
            for w in plan.maintenance_windows
        ),
        heartbeats={
            h.id: HeartbeatCheck(h.id, s.id, h.period, h.grace, h.severity)
            for s in plan.services for h in s.heartbeats
        },
        services={s.id: ServiceAlerting(s.auto_resolve, s.group_window) for s in plan.services},
    )


def feed_rules(plan: schema.Plan) -> tuple[ClassificationRule, ...]:
    """A quarantined batch is a pipeline failure at its feed's severity, whatever later rules say."""
    return tuple(
        ClassificationRule(f"feed {f.id}", parse_matchers([f'feed="{f.id}"', 'detector="feed"']),
                           Severity.parse(f.severity), "pipeline_failure", frozenset({f.service}))
        for f in plan.feeds
    )


def feed_specs(plan: schema.Plan) -> dict[str, FeedSpec]:
    return {
        f.id: FeedSpec(f.id, f.service, Severity.parse(f.severity), f.format, f.key, tuple(f.attributes),
                       tuple(f.pairs), tuple(f.columns), f.multivariate, f.reference, f.thresholds.model_dump())
        for f in plan.feeds
    }
