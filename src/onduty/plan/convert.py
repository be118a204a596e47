"""Turn a validated plan into the domain's Directory (time off as aware instants, etc.)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from onduty.domain import model
from onduty.domain.comms import DEFAULT_AUDIENCE, DEFAULT_BANNED, Audience, BannedPhrase, CommsPolicy, TemplateSource
from onduty.domain.matchers import parse_matchers
from onduty.domain.runbooks import RunbookLink
from onduty.domain.severity import DEFAULT_LEVELS, Severity, SeverityPolicy
from onduty.plan import schema
from onduty.plan.alerting import alert_policy, feed_specs
from onduty.plan.detectors import detector_specs


def _instant(value: date | datetime, tz: ZoneInfo, *, end: bool) -> datetime:
    """A plan date or datetime as an aware instant; a date `end` means the end of that day."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    day = value + timedelta(days=1) if end else value
    return datetime.combine(day, time(), tzinfo=tz)


def _person(p: schema.Person) -> model.Person:
    tz = ZoneInfo(p.time_zone)
    return model.Person(
        id=p.id,
        name=p.name,
        time_zone=p.time_zone,
        roles=tuple(p.roles),
        contacts=tuple(model.ContactMethod(c.type, c.address, c.secret_env) for c in p.contact),
        time_off=tuple(
            model.TimeOff(_instant(t.start, tz, end=False), _instant(t.end, tz, end=True), t.reason)
            for t in p.time_off
        ),
        notification_rules=tuple(model.NotificationRule(r.after, r.contact) for r in p.notification_rules),
    )


def _communications(c: schema.Communications, organization: str) -> CommsPolicy:
    """The plan's section over onduty's defaults: extra banned phrases add to the default ones."""
    audience = dict(DEFAULT_AUDIENCE)
    for name, rule in c.recipients.items():
        audience[int(Severity.parse(name))] = Audience(rule.client_contacts, tuple(rule.internal), tuple(rule.people))
    extra = tuple(BannedPhrase(p, "the plan bans this phrase in client messages: say it another way")
                  for p in c.banned_phrases)
    templates: dict[str, TemplateSource] = {
        kind: TemplateSource(t.file or f"onduty.yaml:communications.templates.{kind}", t.text or "")
        for kind, t in c.templates.items()
    }
    return CommsPolicy(templates, DEFAULT_BANNED + extra, audience, organization)


def _days(names: Sequence[str]) -> frozenset[int]:
    return frozenset(schema.WEEKDAYS.index(name) for name in names)


def _coverage(client: schema.Client) -> model.Coverage:
    if client.coverage == "24x7":
        return model.Coverage(client.time_zone, always=True)
    c = client.coverage
    return model.Coverage(client.time_zone, _days(c.days), c.start, c.end)


def _layer(layer: schema.Layer) -> model.Layer:
    whole_weeks = layer.shift_length % timedelta(weeks=1) == timedelta(0)
    return model.Layer(
        name=layer.name,
        members=tuple(layer.members),
        start=layer.start,
        handoff_time=layer.handoff_time,
        shift_length=layer.shift_length,
        handoff_day=schema.WEEKDAYS.index(layer.handoff_day) if whole_weeks else None,
        restrictions=tuple(model.Restriction(_days(w.days), w.start, w.end) for w in layer.restrictions),
    )


def _policy(p: schema.EscalationPolicy) -> model.EscalationPolicy:
    levels = tuple(
        model.EscalationLevel(
            targets=tuple(
                model.Target("schedule", t.schedule) if t.schedule else model.Target("person", t.person or "")
                for t in level.targets
            ),
            ack_timeout=level.ack_timeout,
        )
        for level in p.levels
    )
    return model.EscalationPolicy(p.id, levels, p.resolve_timeout, p.repeats)


def _severity(p: schema.SeverityPolicy) -> SeverityPolicy:
    levels = dict(DEFAULT_LEVELS)
    for name, override in p.levels.items():
        sev = Severity.parse(name)
        levels[sev] = replace(levels[sev], **override.model_dump(exclude_none=True))
    base = SeverityPolicy(levels=levels)
    mapping = dict(base.event_severity)
    mapping.update({word.lower(): Severity.parse(sev) for word, sev in p.event_severity.items()})
    return SeverityPolicy(levels=levels, event_severity=mapping, reminder_lead=p.reminder_lead,
                          security_notification_deadline=p.security_notification_deadline)


def _channel(c: schema.IncidentChannel | None) -> model.IncidentChannel | None:
    return model.IncidentChannel(c.type, c.webhook, c.link) if c is not None else None


def to_directory(plan: schema.Plan) -> model.Directory:
    return model.Directory(
        people={p.id: _person(p) for p in plan.people},
        clients={
            c.id: model.Client(c.id, c.name, c.time_zone, c.account_manager, c.delivery_lead, c.tech_lead,
                               _coverage(c), tuple(model.ClientContact(k.name, k.email, k.phone, k.role)
                                                   for k in c.contacts), _channel(c.incident_channel))
            for c in plan.clients
        },
        services={
            s.id: model.Service(
                s.id, s.name or s.id, s.client, s.kind, s.escalation_policy,
                tuple(s.depends_on), tuple(s.runbooks), s.fallback.description if s.fallback else None,
                tuple(s.qualified), _fallback_webhook(s.fallback),
            )
            for s in plan.services
        },
        schedules={
            s.id: model.Schedule(s.id, s.name or s.id, s.time_zone, tuple(_layer(x) for x in s.layers))
            for s in plan.schedules
        },
        policies={p.id: _policy(p) for p in plan.escalation_policies},
        severity=_severity(plan.severity_policy),
        alerting=alert_policy(plan),
        compensation=model.Compensation(**plan.compensation.model_dump()),
        runbooks=tuple(
            RunbookLink(r.file, r.title, tuple(r.services), tuple(r.types), parse_matchers(r.match))
            for r in plan.runbooks
        ),
        feeds=feed_specs(plan),
        incident_channel=_channel(plan.organization.incident_channel),
        refused_root_causes=tuple(plan.reviews.refused_root_causes),
        communications=_communications(plan.communications, plan.organization.name),
        webhook_allow_private=plan.organization.allow_private_webhooks,
        webhook_allow_networks=tuple(plan.organization.webhook_allow_networks),
        detectors=detector_specs(plan),
    )


def _fallback_webhook(fallback: schema.Fallback | None) -> model.FallbackWebhook | None:
    hook = fallback.webhook if fallback else None
    return model.FallbackWebhook(hook.url, hook.secret_env, hook.method) if hook else None
