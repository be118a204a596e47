"""Incident commands: declare, change status, add notes. Each call is one transaction."""

from __future__ import annotations

from datetime import datetime

from onduty.app.clocks import arm_clocks, clocks_for
from onduty.app.lifecycle import after_resolve, arm_engagement, arm_paging
from onduty.app.ports import NotFound, Store, Transactions
from onduty.app.reviews import draft_on_resolve
from onduty.domain.incidents import Incident, Status, TimelineEntry, Timer
from onduty.domain.model import Directory, Service
from onduty.domain.severity import Severity

__all__ = ["add_note", "change_status", "clocks_for", "declare", "transition"]


def declare(
    store: Store, directory: Directory, service: Service, title: str, severity: Severity,
    now: datetime, actor: str, first_signal_at: datetime | None = None,
) -> Incident:
    """Open an incident and, when its severity pages, arm the first escalation step for now."""
    incident = Incident(
        service.id, service.client_id, title, int(severity), now, first_signal_at=first_signal_at
    )
    store.add_incident(incident)
    assert incident.id is not None
    client = directory.clients.get(service.client_id)
    entries = [TimelineEntry(
        now, "incident.declared",
        f"{severity.label} incident declared on {service.name}"
        f" ({client.name if client else service.client_id}): {title}",
        actor, {"severity": int(severity), "service": service.id},
    )]
    store.append(incident.id, entries)
    if directory.severity.level(severity).pages:
        arm_paging(store, directory, incident, now, announce=False)
    else:
        store.append(incident.id, [TimelineEntry(
            now, "paging.skipped", f"{severity.label} is tracked only: nobody is paged")])
    arm_engagement(store, incident, now)
    return incident


def transition(
    store: Store, directory: Directory, incident: Incident, to: Status, actor: str, now: datetime,
    note: str = "",
) -> None:
    """Move an incident's status; leaving `triggered` arms the resolve timeout of its policy, resolving
    starts the monitor period (or closes), and the clocks are planned again."""
    assert incident.id is not None
    previous = incident.status
    store.append(incident.id, incident.move_to(to, actor, now, note))
    arm_clocks(store, incident, now)
    if to == "resolved":
        for alert in store.alerts_of(incident.id):
            if alert.status != "resolved":
                alert.status, alert.resolved_at, alert.updated_at = "resolved", now, now
        after_resolve(store, directory, incident, now)
        draft_on_resolve(store, directory, incident, now)  # SPEC §7: the review is drafted at resolution
    if previous != "triggered" or to == "resolved":
        return
    service = directory.services.get(incident.service_id)
    policy = directory.policies.get(service.escalation_policy_id) if service else None
    if policy is not None:
        store.add_timer(Timer(
            incident.id, "resolve_timeout", now + policy.resolve_timeout, incident.epoch,
            level=incident.escalation_level, loop=incident.escalation_loop,
        ))


def change_status(
    txs: Transactions, incident_id: int, to: Status, actor: str, now: datetime,
    client_id: str | None = None, note: str = "",
) -> Incident:
    """A person acknowledges, mitigates or resolves; IllegalTransition says what is allowed instead."""
    with txs() as store:
        incident = store.incident(incident_id, client_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        transition(store, store.directory(), incident, to, actor, now, note)
        return incident


def add_note(
    txs: Transactions, incident_id: int, text: str, actor: str, now: datetime, client_id: str | None = None,
    kind: str = "note",
) -> TimelineEntry:
    if not text.strip():
        raise ValueError("a note needs some text")
    with txs() as store:
        if store.incident(incident_id, client_id) is None:
            raise NotFound(f"incident {incident_id} not found")
        entry = TimelineEntry(now, kind, text.strip(), actor)
        store.append(incident_id, [entry])
        return entry


def record_security_notice(
    txs: Transactions, incident_id: int, whom: str, actor: str, now: datetime, client_id: str | None = None
) -> TimelineEntry:
    """The authorities or the people whose data is affected were notified: this meets the security
    incident's notification deadline (its `security_notice` clock)."""
    if not whom.strip():
        raise ValueError("say who was notified, e.g. 'CNPD, by the breach form, reference 2026-118'")
    return add_note(txs, incident_id, f"Security notification sent: {whom.strip()}", actor, now, client_id,
                    kind="security.notified")
