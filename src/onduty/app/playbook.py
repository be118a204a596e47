"""The playbook of an incident: read it, tick items, record workarounds, change the incident's type.

The checklist is derived on every read (domain/playbook.py); only ticks are stored, and every tick,
un-tick, workaround and type change goes on the timeline with who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from onduty.app.changes import RECENT
from onduty.app.client_requests import note_missed
from onduty.app.lifecycle import type_changed
from onduty.app.ports import NotFound, Store, Transactions
from onduty.app.runbooks import RunbookView, runbook_views
from onduty.domain.changes import Change
from onduty.domain.client_requests import ClientRequest
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.model import Directory
from onduty.domain.playbook import (
    INCIDENT_TYPES,
    PlaybookInput,
    Step,
    StepView,
    Tick,
    Workaround,
    dependents,
    derive_playbook,
    effective_ticks,
    find_item,
    step_view,
    suggested_severity,
)
from onduty.domain.suppression import upstream


class PlaybookConflict(ValueError):
    """The request asks for what already holds (an item already ticked, the type already set)."""


@dataclass(frozen=True)
class PlaybookReport:
    incident: Incident
    steps: list[StepView]
    ticks: dict[str, Tick]
    suggested_severity: str | None
    changes: list[Change]
    blast_radius: list[str]
    requests: list[ClientRequest]
    workarounds: list[Workaround]
    runbooks: list[RunbookView]
    now: datetime


@dataclass(frozen=True)
class _Gathered:
    steps: list[Step]
    changes: list[Change]
    blast_radius: list[str]
    workarounds: list[Workaround]
    runbooks: list[RunbookView]


def _incident(store: Store, incident_id: int, client_id: str | None) -> Incident:
    incident = store.incident(incident_id, client_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def _gather(store: Store, directory: Directory, incident: Incident) -> _Gathered:
    """Read what the checklist depends on and derive it."""
    assert incident.id is not None
    service = directory.services.get(incident.service_id)
    client = directory.clients.get(incident.client_id)
    policy = directory.policies.get(service.escalation_policy_id) if service else None
    wanted = [incident.service_id, *upstream(directory.services, incident.service_id)]
    changes = store.changes(wanted, incident.created_at - RECENT)
    radius = dependents(directory.services, incident.service_id)
    workarounds = store.workarounds(incident.id)
    runbooks = runbook_views(store, directory, incident)
    steps = derive_playbook(PlaybookInput(
        incident=incident, service=service, client_name=client.name if client else incident.client_id,
        policy=directory.severity, resolve_timeout=policy.resolve_timeout if policy else timedelta(minutes=30),
        changes=changes, dependents=radius, workarounds=workarounds,
        runbook_titles=[r.title for r in runbooks],
        legal_contacts=[p.name for p in directory.people.values() if "legal" in p.roles],
    ))
    return _Gathered(steps, changes, radius, workarounds, runbooks)


def playbook(txs: Transactions, incident_id: int, now: datetime, client_id: str | None = None) -> PlaybookReport:
    """The incident's five steps with ticks and timebox state at `now`; a request found missed is recorded."""
    with txs() as store:
        incident = _incident(store, incident_id, client_id)
        gathered = _gather(store, store.directory(), incident)
        ticks = effective_ticks(incident, store.ticks(incident_id), store.timeline(incident_id))
        requests = note_missed(store, incident_id, now)
    return PlaybookReport(
        incident=incident, steps=[step_view(s, ticks, now) for s in gathered.steps], ticks=ticks,
        suggested_severity=suggested_severity(ticks), changes=gathered.changes, blast_radius=gathered.blast_radius,
        requests=requests, workarounds=gathered.workarounds, runbooks=gathered.runbooks, now=now,
    )


def tick(
    txs: Transactions, incident_id: int, item_id: str, by: str, now: datetime, *, done: bool = True,
    note: str = "", client_id: str | None = None,
) -> Tick:
    """Tick (or un-tick) one item; ValueError names the items there are, PlaybookConflict a no-op."""
    with txs() as store:
        incident = _incident(store, incident_id, client_id)
        steps = _gather(store, store.directory(), incident).steps
        item = find_item(steps, item_id)
        step = next(s for s in steps if item in s.items)
        current = effective_ticks(incident, store.ticks(incident_id), store.timeline(incident_id)).get(item_id)
        if (current is not None and current.done) == done:
            state = "ticked" if done else "not ticked"
            raise PlaybookConflict(f"item {item_id!r} of incident {incident_id} is already {state}")
        result = Tick(item_id, done, by, now, note.strip())
        store.save_tick(incident_id, result)
        verb = "Ticked" if done else "Unticked"
        message = f"{verb} step {step.number} item: {item.text}" + (f" ({result.note})" if result.note else "")
        store.append(incident_id, [TimelineEntry(
            now, "playbook.ticked" if done else "playbook.unticked", message, by,
            {"item": item_id, "step": step.number, "done": done, "note": result.note},
        )])
        return result


def add_workaround(
    txs: Transactions, incident_id: int, text: str, by: str, now: datetime, client_id: str | None = None
) -> int:
    """Record a temporary workaround; step 4 lists it for removal (tick `verify.workaround.<id>`)."""
    if not text.strip():
        raise ValueError("a workaround needs a description, e.g. 'feature store pinned to batch 2211'")
    with txs() as store:
        _incident(store, incident_id, client_id)
        workaround_id = store.add_workaround(incident_id, text.strip(), by, now)
        store.append(incident_id, [TimelineEntry(
            now, "workaround.added", f"Temporary workaround in place: {text.strip()} (remove it in step 4)", by,
            {"workaround": workaround_id, "item": f"verify.workaround.{workaround_id}"},
        )])
        return workaround_id


def change_type(
    txs: Transactions, incident_id: int, to: str, reason: str, by: str, now: datetime,
    client_id: str | None = None,
) -> Incident:
    """Change the incident's type (its playbook steps follow at once); recorded with the reason."""
    if to not in INCIDENT_TYPES:
        raise ValueError(f"type {to!r} is not one of {', '.join(INCIDENT_TYPES)}")
    if not reason.strip():
        raise ValueError("a type change needs a reason, e.g. --reason 'API keys found in a public repo'")
    with txs() as store:
        incident = _incident(store, incident_id, client_id)
        previous = incident.incident_type
        if previous == to:
            raise PlaybookConflict(f"incident {incident_id} is already of type {to}")
        incident.incident_type = to
        store.append(incident_id, [TimelineEntry(
            now, "incident.type_changed", f"Type changed from {previous} to {to} by {by}: {reason.strip()}", by,
            {"from": previous, "to": to, "reason": reason.strip()},
        )])
        type_changed(store, store.directory(), incident, previous, now)  # legal for security, new clocks
        return incident
