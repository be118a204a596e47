"""The contact list for the day the platform itself is down: HTML to print, CSV, and vCard 3.0.

It holds every person with roles, time zone and contact methods; each client's account manager,
delivery lead, tech lead and client-side contacts; and per service the escalation levels with who is
on call at the moment it was made.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import vobject

from onduty.app.exports.text import address, coverage_hours, human_contact, name_of, render, role_words
from onduty.app.oncall import oncall_for_service
from onduty.app.ports import Store
from onduty.app.schedules import coverage_of
from onduty.domain.model import Client, Directory, Person, Service

CSV_COLUMNS = ("kind", "id", "name", "client", "role", "time_zone", "method", "address", "order")
PHONE_KINDS = ("sms",)


@dataclass(frozen=True)
class Reach:
    """One person reachable at one step: their name, a phone or e-mail, and whom they cover."""

    name: str
    contact: str
    note: str = ""


@dataclass(frozen=True)
class LevelLine:
    level: int
    ack_timeout: timedelta
    targets: tuple[str, ...]  # schedule names and people, as the policy lists them
    on_call: tuple[Reach, ...]
    unreachable: tuple[str, ...]


@dataclass(frozen=True)
class ServiceLine:
    service: Service
    levels: tuple[LevelLine, ...]


@dataclass(frozen=True)
class ClientLine:
    client: Client
    coverage: str
    leads: tuple[tuple[str, Reach], ...]  # (role, who)
    services: tuple[ServiceLine, ...]


@dataclass(frozen=True)
class ContactSheet:
    generated_at: datetime
    people: tuple[Person, ...]
    clients: tuple[ClientLine, ...]


def _reach(directory: Directory, person_id: str, note: str = "") -> Reach:
    return Reach(name_of(directory, person_id), human_contact(directory, person_id), note)


def _levels(store: Store, directory: Directory, service: Service, now: datetime) -> tuple[LevelLine, ...]:
    policy = directory.policies.get(service.escalation_policy_id)
    if policy is None:
        return ()
    live = store.overrides(None, now, now + timedelta(seconds=1))
    lines = []
    for level, found in zip(policy.levels, oncall_for_service(directory, service.id, now, None, live), strict=True):
        targets = tuple(
            directory.schedules[t.id].name if t.kind == "schedule" and t.id in directory.schedules
            else f"{name_of(directory, t.id)} (directly)" if t.kind == "person" else t.id
            for t in level.targets
        )
        reach = tuple(
            _reach(directory, r.person_id,
                   f"covering for {name_of(directory, r.covering_for)}: {r.cover_reason}" if r.covering_for else "")
            for r in found.recipients
        )
        unreachable = tuple(f"{u.target.id}: {u.reason}" for u in found.unreachable)
        lines.append(LevelLine(found.level, level.ack_timeout, targets, reach, unreachable))
    return tuple(lines)


def contact_sheet(store: Store, now: datetime) -> ContactSheet:
    """Everything the printed list shows, with on-call names as of `now`."""
    directory = store.directory()
    clients = []
    for client in sorted(directory.clients.values(), key=lambda c: c.name):
        leads = tuple(
            (role, _reach(directory, who))
            for role, who in (("account manager", client.account_manager), ("delivery lead", client.delivery_lead),
                              ("tech lead", client.tech_lead))
            if who is not None
        )
        services = tuple(
            ServiceLine(s, _levels(store, directory, s, now))
            for s in sorted(directory.services.values(), key=lambda s: s.id) if s.client_id == client.id
        )
        clients.append(ClientLine(client, coverage_hours(coverage_of(directory, client.id)), leads, services))
    people = tuple(sorted(directory.people.values(), key=lambda p: p.name))
    return ContactSheet(now, people, tuple(clients))


def contacts_html(sheet: ContactSheet) -> str:
    """One printable page, inline CSS, no scripts or external assets, every value escaped."""
    return render("contacts.html", sheet=sheet)


def contacts_csv(sheet: ContactSheet) -> str:
    """One row per way to reach someone: each person's contact methods (in paging order), and each
    client contact's e-mail and phone (a contact with neither still gets a row)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for person in sheet.people:
        for order, method in enumerate(person.contacts, 1):
            writer.writerow({"kind": "person", "id": person.id, "name": person.name, "client": "",
                             "role": role_words(person.roles), "time_zone": person.time_zone,
                             "method": method.kind, "address": address(method), "order": order})
    for line in sheet.clients:
        client = line.client
        for contact in client.contacts:
            methods = [("email", contact.email), ("phone", contact.phone)]
            present = [(kind, value) for kind, value in methods if value] or [("", "")]
            for order, (kind, value) in enumerate(present, 1):
                writer.writerow({"kind": "client contact", "id": "", "name": contact.name, "client": client.name,
                                 "role": contact.role or "", "time_zone": client.time_zone,
                                 "method": kind, "address": value or "", "order": order if kind else ""})
    return buffer.getvalue()


def _name_parts(full: str) -> tuple[str, str]:
    given, _, family = full.strip().rpartition(" ")
    return (given, family) if given else (family, "")


def _card(full_name: str, uid: str) -> vobject.base.Component:
    card = vobject.vCard()
    card.add("fn").value = full_name
    given, family = _name_parts(full_name)
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
    card.add("uid").value = uid
    return card


def _person_card(person: Person) -> vobject.base.Component:
    card = _card(person.name, f"onduty-person-{person.id}")
    others = []
    for method in person.contacts:
        if method.kind == "email":
            line = card.add("email")
            line.value, line.type_param = method.address, "INTERNET"
        elif method.kind in PHONE_KINDS:
            line = card.add("tel")
            line.value, line.type_param = method.address, "CELL"
        else:
            others.append(f"{method.kind}: {address(method)}")
    if person.roles:
        card.add("title").value = role_words(person.roles)
    note = f"Time zone: {person.time_zone}. onduty id: {person.id}."
    if others:
        note += " Also paged via " + "; ".join(others) + "."
    card.add("note").value = note
    return card


def _client_contact_cards(client: Client) -> list[vobject.base.Component]:
    cards = []
    for index, contact in enumerate(client.contacts, 1):
        card = _card(contact.name, f"onduty-client-{client.id}-{index}")
        card.add("org").value = [client.name]
        if contact.role:
            card.add("title").value = contact.role
        if contact.email:
            line = card.add("email")
            line.value, line.type_param = contact.email, "INTERNET"
        if contact.phone:
            line = card.add("tel")
            line.value, line.type_param = contact.phone, "WORK"
        card.add("note").value = f"Client contact of {client.name} ({client.id}); time zone: {client.time_zone}."
        cards.append(card)
    return cards


def contacts_vcard(sheet: ContactSheet) -> str:
    """vCard 3.0: one card per person, one per client contact (ORG is the client's name)."""
    cards = [_person_card(p) for p in sheet.people]
    for line in sheet.clients:
        cards += _client_contact_cards(line.client)
    return "".join(card.serialize() for card in cards)
