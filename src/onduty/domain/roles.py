"""Incident roles (SPEC §5): who responds, who commands, who talks to the client — and their defaults.

An assignment names a person; without one a role falls back to its default: the responder is whoever
acknowledged, else the first on-call engineer paged; the communications lead is the client's account
manager; the incident commander has no default (clocks owned by the commander fall back to the responder).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.model import Client, Person

ROLES = ("responder", "commander", "communications_lead")
ROLE_LABELS = {"responder": "responder", "commander": "incident commander",
               "communications_lead": "communications lead"}
ALIASES = {"ic": "commander", "incident_commander": "commander", "comms": "communications_lead",
           "comms_lead": "communications_lead", "communications": "communications_lead"}


@dataclass(frozen=True)
class Assignment:
    """A role's holder; `source` is `assigned` (a person did it) or `default` (derived)."""

    role: str
    person_id: str | None
    source: str = "assigned"
    assigned_by: str | None = None
    assigned_at: datetime | None = None


def parse_role(text: str) -> str:
    """'commander', 'ic', 'communications_lead', 'comms' … → the role's name; ValueError names the choices."""
    raw = text.strip().lower().replace("-", "_").replace(" ", "_")
    role = ALIASES.get(raw, raw)
    if role not in ROLES:
        raise ValueError(f"role {text!r} is not one of {', '.join(ROLES)}")
    return role


def find_person(people: Mapping[str, Person], who: str | None) -> str | None:
    """A person's id from an id or a full name (actors are recorded as typed); None if nobody matches."""
    if not who:
        return None
    if who in people:
        return who
    folded = who.strip().casefold()
    return next((p.id for p in people.values() if p.name.casefold() == folded), None)


def first_paged(timeline: Sequence[TimelineEntry]) -> str | None:
    """The first person the escalation paged (not an all-hands or clock notification)."""
    for entry in timeline:
        if entry.kind == "page.queued" and entry.data.get("cause", "escalate") == "escalate":
            person = entry.data.get("person")
            if isinstance(person, str):
                return person
    return None


def current_roles(incident: Incident, assigned: Mapping[str, Assignment], client: Client | None,
                  people: Mapping[str, Person], timeline: Sequence[TimelineEntry]) -> dict[str, Assignment]:
    """Every role with its holder: the assignment when there is one, else the default."""
    defaults = {
        "responder": find_person(people, incident.acknowledged_by) or first_paged(timeline),
        "commander": None,
        "communications_lead": client.account_manager if client else None,
    }
    return {role: assigned.get(role) or Assignment(role, defaults[role], "default") for role in ROLES}


def assign(incident: Incident, role: str, person: Person, previous: Assignment | None, actor: str,
           now: datetime) -> list[TimelineEntry]:
    """The timeline entry for giving `role` to `person`; a hand-over names who held it before."""
    label = ROLE_LABELS[role]
    if previous is not None and previous.person_id == person.id:
        raise ValueError(f"{person.name} is already the {label} of incident {incident.id}")
    before = previous.person_id if previous is not None else None
    message = (f"{label.capitalize()} handed over from {before} to {person.name} by {actor}" if before
               else f"{person.name} is now the {label} (assigned by {actor})")
    return [TimelineEntry(now, "role.assigned", message, actor,
                          {"role": role, "person": person.id, "previous": before})]
