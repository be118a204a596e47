"""Escalate now: a responder pages the next level of the policy at once instead of waiting for its
timeout; the pending escalation timers go stale and the chain carries on from the new level."""

from __future__ import annotations

from datetime import datetime

from onduty.app.paging import page_level
from onduty.app.ports import NotFound, Transactions
from onduty.domain.escalation import Position, after_resolve_timeout, step_at
from onduty.domain.incidents import Incident, TimelineEntry, Timer


class CannotEscalate(ValueError):
    """The incident cannot be escalated now; the message says why and what to do instead."""


def escalate_now(txs: Transactions, incident_id: int, reason: str, actor: str, now: datetime,
                 client_id: str | None = None) -> Incident:
    """Page the next level now (level 1 if nobody has been paged yet), with the reason on the timeline."""
    if not reason.strip():
        raise CannotEscalate("say why you escalate (reason is required)")
    with txs() as store:
        incident = store.incident(incident_id, client_id)
        if incident is None or incident.id is None:
            raise NotFound(f"incident {incident_id} not found")
        if not incident.is_open:
            raise CannotEscalate(f"incident {incident_id} is {incident.status}: only an open incident is escalated")
        directory = store.directory()
        service = directory.services.get(incident.service_id)
        policy = directory.policies.get(service.escalation_policy_id) if service else None
        if policy is None:
            raise CannotEscalate(f"service {incident.service_id!r} has no escalation policy: nobody to page")
        paged = any(e.kind == "escalation.level" for e in store.timeline(incident.id))
        here = Position(incident.escalation_level, incident.escalation_loop)
        target = after_resolve_timeout(policy, here) if paged else Position(0, here.loop)
        if target is None:
            raise CannotEscalate(f"level {here.level + 1} is the last level of policy {policy.id!r}: there is no "
                                 "higher level to page; page people directly or raise the severity")
        incident.epoch += 1  # the pending escalation (or resolve-timeout) timer gives way to this page
        store.append(incident.id, [TimelineEntry(
            now, "escalation.manual", f"{actor} escalated to level {target.level + 1}: {reason.strip()}", actor,
            {"level": target.level + 1, "reason": reason.strip()})])
        page_level(store, directory, incident, target, policy.levels[target.level].targets, now, "manual",
                   f"escalated by {actor}")
        if incident.status == "triggered":
            step = step_at(policy, target, now)
            if step.next_position is not None and step.next_due is not None:
                store.add_timer(Timer(incident.id, "escalate", step.next_due, incident.epoch,
                                      step.next_position.level, step.next_position.loop))
        else:
            store.add_timer(Timer(incident.id, "resolve_timeout", now + policy.resolve_timeout, incident.epoch,
                                  target.level, target.loop))
        return incident
