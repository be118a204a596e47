"""Incident roles: who holds each one now (assignments over defaults), and assigning or handing one over."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from onduty.app.ports import NotFound, Store, Transactions
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.model import Directory
from onduty.domain.roles import Assignment, assign, current_roles, find_person, parse_role


def roles_of(store: Store, directory: Directory, incident: Incident,
             timeline: Sequence[TimelineEntry] | None = None) -> dict[str, Assignment]:
    assert incident.id is not None
    entries = timeline if timeline is not None else store.timeline(incident.id)
    return current_roles(incident, store.roles(incident.id), directory.clients.get(incident.client_id),
                         directory.people, entries)


def assign_role(txs: Transactions, incident_id: int, role: str, person: str, actor: str, now: datetime,
                client_id: str | None = None) -> Assignment:
    """Give a role to a person of the plan (by id or name); the change, or hand-over, goes on the timeline."""
    name = parse_role(role)
    with txs() as store:
        incident = store.incident(incident_id, client_id)
        if incident is None or incident.id is None:
            raise NotFound(f"incident {incident_id} not found")
        directory = store.directory()
        person_id = find_person(directory.people, person)
        if person_id is None:
            raise ValueError(f"person {person!r} is not in the applied plan (use a person id such as "
                             f"{next(iter(directory.people), 'aiko')!r})")
        previous = roles_of(store, directory, incident)[name]
        entries = assign(incident, name, directory.people[person_id],
                         previous if previous.person_id else None, actor, now)
        store.assign_role(incident.id, name, person_id, actor, now)
        store.append(incident.id, entries)
        return Assignment(name, person_id, "assigned", actor, now)
