"""Fire due timers: page the level that is due, and arm the next step of the policy."""

from __future__ import annotations

from datetime import datetime, timedelta

from onduty.app.ports import Store
from onduty.domain.escalation import Position, after_resolve_timeout, recipients_for, step_at
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry, Timer
from onduty.domain.model import Directory, NotificationRule, Target
from onduty.domain.severity import Severity


def _minutes(delta_seconds: float) -> str:
    minutes = round(delta_seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def fire_timer(store: Store, directory: Directory, timer: Timer, now: datetime) -> None:
    """Act on one due timer; a timer made stale by an ack or resolve only marks itself done."""
    timer.done = True
    incident = store.incident(timer.incident_id)
    if incident is None or incident.id is None or timer.epoch != incident.epoch or not incident.is_open:
        return
    service = directory.services.get(incident.service_id)
    policy = directory.policies.get(service.escalation_policy_id) if service else None
    if policy is None:
        store.append(incident.id, [TimelineEntry(
            now, "escalation.missing", "No escalation policy found for this service: nobody can be paged",
        )])
        return
    if timer.kind == "escalate":
        if incident.status != "triggered":
            return
        step = step_at(policy, Position(timer.level, timer.loop), now)
        first = timer.level == 0 and timer.loop == 0
        reason = "" if first else f"no acknowledgement within {_minutes(_ack_timeout(directory, incident))}"
        page_level(store, directory, incident, step.position, step.targets, now, timer.kind, reason)
        if step.next_position is not None and step.next_due is not None:
            store.add_timer(Timer(incident.id, "escalate", step.next_due, incident.epoch,
                                  step.next_position.level, step.next_position.loop))
        else:
            store.append(incident.id, [TimelineEntry(
                now, "escalation.last_level",
                f"Level {step.position.level + 1} is the policy's last: no further escalation if unacknowledged",
            )])
        return
    # resolve_timeout: acknowledged (or mitigated) but still not resolved.
    waited = _minutes(policy.resolve_timeout.total_seconds())
    nxt = after_resolve_timeout(policy, Position(timer.level, timer.loop))
    if nxt is None:
        store.append(incident.id, [TimelineEntry(
            now, "escalation.resolve_overdue",
            f"Not resolved within {waited} of acknowledgement, and no higher level to escalate to",
        )])
        return
    reason = f"not resolved within {waited} of acknowledgement"
    page_level(store, directory, incident, nxt, policy.levels[nxt.level].targets, now, timer.kind, reason)
    store.add_timer(Timer(incident.id, "resolve_timeout", now + policy.resolve_timeout, incident.epoch,
                          nxt.level, nxt.loop))


def _ack_timeout(directory: Directory, incident: Incident) -> float:
    service = directory.services[incident.service_id]
    policy = directory.policies[service.escalation_policy_id]
    return policy.levels[incident.escalation_level].ack_timeout.total_seconds()


def page_level(
    store: Store, directory: Directory, incident: Incident, position: Position,
    targets: tuple[Target, ...], now: datetime, cause: str, reason: str,
) -> None:
    """Queue one page per person the level resolves to now, each on the person's first contact."""
    assert incident.id is not None
    incident.escalation_level, incident.escalation_loop = position.level, position.loop
    service = directory.services.get(incident.service_id)
    recipients, unreachable = recipients_for(
        targets, directory.schedules, directory.people, now,
        store.overrides(None, now, now + timedelta(seconds=1)), service.qualified if service else (),
    )
    level_name = f"level {position.level + 1}" + (f" (loop {position.loop + 1})" if position.loop else "")
    headline = f"Escalated to {level_name}: {reason}" if reason else f"Paging {level_name}"
    entries = [TimelineEntry(now, "escalation.level", headline,
                             data={"level": position.level + 1, "loop": position.loop + 1})]
    for miss in unreachable:
        entries.append(TimelineEntry(
            now, "page.unreachable", f"{miss.target.kind} {miss.target.id}: {miss.reason}",
            data={"target": f"{miss.target.kind}:{miss.target.id}"},
        ))
    for recipient in recipients:
        person = directory.people[recipient.person_id]
        why = (f"on call for {recipient.target.id}" if recipient.target.kind == "schedule"
               else "named in the policy")
        if recipient.covering_for:
            owner = directory.people.get(recipient.covering_for)
            why += f", covering for {owner.name if owner else recipient.covering_for} ({recipient.cover_reason})"
        if not person.contacts:
            entries.append(TimelineEntry(now, "page.unreachable", f"{person.name} has no contact method"))
            continue
        base = f"page:{incident.id}:{cause}:{position.loop}:{position.level}:{person.id}"
        if incident.reopen_count:  # a reopened incident pages afresh
            base += f":r{incident.reopen_count}"
        rules = person.notification_rules or (NotificationRule(timedelta(0), 0),)
        for index, rule in enumerate(rules):
            key = base if index == 0 else f"{base}:n{index}"
            message = outbox_message(directory, incident, key, person.id, rule.contact, now,
                                     {"level": position.level + 1, "reason": reason or "new incident"})
            when = ""
            if rule.after > timedelta(0):  # a later step of the person's rules: dropped once acknowledged
                message.next_attempt_at = now + rule.after
                message.payload["cancel_on_ack"] = True
                when = f" at {message.next_attempt_at:%H:%M:%S} UTC unless acknowledged"
            if store.add_outbox(message):
                entries.append(TimelineEntry(
                    now, "page.queued", f"Paging {person.name} ({why}) via {message.channel}{when}",
                    data={"person": person.id, "channel": message.channel,
                          "idempotency_key": message.idempotency_key},
                ))
    store.append(incident.id, entries)


def outbox_message(
    directory: Directory, incident: Incident, base_key: str, person_id: str, contact_index: int,
    now: datetime, extra: dict[str, object],
) -> OutboxMessage:
    """The page for one person through their `contact_index`-th contact method."""
    assert incident.id is not None
    person = directory.people[person_id]
    contact = person.contacts[contact_index]
    service = directory.services.get(incident.service_id)
    client = directory.clients.get(incident.client_id)
    key = f"{base_key}:c{contact_index}"
    body = {
        "event": "incident.page",
        "idempotency_key": key,
        "incident": {
            "id": incident.id,
            "title": incident.title,
            "severity": Severity(incident.severity).label,
            "status": incident.status,
            "service": service.name if service else incident.service_id,
            "client": client.name if client else incident.client_id,
            "declared_at": incident.created_at.isoformat(),
        },
        "person": {"id": person.id, "name": person.name},
        **extra,
    }
    return OutboxMessage(
        idempotency_key=key, incident_id=incident.id, person_id=person.id, channel=contact.kind,
        address=contact.address, contact_index=contact_index,
        payload={"body": body, "secret_env": contact.secret_env,
                 "allow_private": directory.webhook_allow_private,
                 "allow_networks": list(directory.webhook_allow_networks)},
        created_at=now, next_attempt_at=now,
    )
