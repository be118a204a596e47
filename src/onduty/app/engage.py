"""Engage people per severity (SPEC §2): all-hands paging (Sev1) pages the client's tech lead, delivery lead
and account manager; on-call paging (Sev2) notifies the account manager and delivery lead; a level with a
dedicated channel (Sev1) gets its incident channel; a security incident engages the legal contact.

Everything goes through the outbox with an idempotency key, so the worker may run this twice (a crash,
a second worker) and each person still hears once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from onduty.app.paging import outbox_message
from onduty.app.ports import Store
from onduty.domain.coverage import page_at
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry, Timer
from onduty.domain.model import Client, Coverage, Directory, IncidentChannel
from onduty.domain.severity import Severity

CHANNEL_RECIPIENT = "incident-channel"  # the outbox's person for a post to the incident channel


def send_to_person(
    store: Store, directory: Directory, incident: Incident, person_id: str, key: str, now: datetime, *,
    event: str, why: str, notification: bool, extra: dict[str, Any] | None = None,
) -> bool:
    """Queue one page (or, with `notification`, a heads-up that asks for no action) to a person's first
    contact; on the timeline once. False when it was queued before or the person cannot be reached."""
    assert incident.id is not None
    person = directory.people.get(person_id)
    if person is None:
        store.append(incident.id, [TimelineEntry(now, "page.unreachable", f"{person_id} is not in the plan")])
        return False
    if not person.contacts:
        store.append(incident.id, [TimelineEntry(now, "page.unreachable", f"{person.name} has no contact method")])
        return False
    body = {"event": event, "notification": notification, "reason": why, **(extra or {})}
    message = outbox_message(directory, incident, key, person.id, 0, now, body)
    if not store.add_outbox(message):
        return False
    kind, verb = ("notification.queued", "Notifying") if notification else ("page.queued", "Paging")
    store.append(incident.id, [TimelineEntry(
        now, kind, f"{verb} {person.name} ({why}) via {message.channel}",
        data={"person": person.id, "channel": message.channel, "idempotency_key": message.idempotency_key,
              "cause": event.removeprefix("incident.")},
    )])
    return True


def quiet_until(directory: Directory, incident: Incident, now: datetime) -> datetime | None:
    """When the client's coverage hours open, if the severity's pages must wait for them now (else None).

    Notifications, clock reminders and missed-clock escalations wait exactly as the first page does.
    """
    client = directory.clients.get(incident.client_id)
    coverage = client.coverage if client and client.coverage else Coverage(client.time_zone if client else "UTC")
    opens = page_at(Severity(incident.severity), coverage, now)
    return opens if opens > now else None


def _client_people(client: Client | None, *roles: str) -> list[tuple[str, str]]:
    """(role label, person id) for the client's named roles, each person once."""
    if client is None:
        return []
    named = {"tech lead": client.tech_lead, "delivery lead": client.delivery_lead,
             "account manager": client.account_manager}
    seen: dict[str, str] = {}
    for role in roles:
        person = named.get(role)
        if person and person not in seen:
            seen[person] = role
    return [(role, person) for person, role in seen.items()]


def engage(store: Store, directory: Directory, incident: Incident, now: datetime, why: str = "") -> None:
    """Engage whoever the incident's severity level and type call for, beyond the on-call's escalation."""
    assert incident.id is not None
    client = directory.clients.get(incident.client_id)
    level = directory.severity.level(Severity(incident.severity))
    label = level.severity.label
    round_ = f":r{incident.reopen_count}" if incident.reopen_count else ""
    if level.paging == "all_hands":
        for role, person in _client_people(client, "tech lead", "delivery lead", "account manager"):
            send_to_person(store, directory, incident, person, f"allhands:{incident.id}:{person}{round_}", now,
                           event="incident.page", why=f"{label} all hands: {role}{why}", notification=False)
    elif level.paging == "on_call":
        opens = quiet_until(directory, incident, now)
        if opens is not None:  # outside coverage hours: tell them when the day starts
            store.add_timer(Timer(incident.id, "engage", opens, incident.epoch))
        else:
            for role, person in _client_people(client, "account manager", "delivery lead"):
                send_to_person(store, directory, incident, person, f"notify:sev:{incident.id}:{person}{round_}",
                               now, event="incident.notification", why=f"{label}: {role} kept informed{why}",
                               notification=True)
    if level.dedicated_channel:
        open_channel(store, directory, incident, client, now)
    if incident.incident_type == "security":
        engage_legal(store, directory, incident, now)


def engage_legal(store: Store, directory: Directory, incident: Incident, now: datetime) -> None:
    """Page the plan's legal contact(s) once per incident; the timeline says when nobody holds the role."""
    assert incident.id is not None
    legal = [p.id for p in directory.people.values() if "legal" in p.roles]
    if not legal:
        store.append(incident.id, [TimelineEntry(
            now, "legal.missing", "Security incident: nobody in the plan has the legal role to engage")])
        return
    for person in legal:
        if send_to_person(store, directory, incident, person, f"legal:{incident.id}:{person}", now,
                          event="incident.page", why="legal contact for a security incident", notification=False):
            store.append(incident.id, [TimelineEntry(
                now, "legal.engaged", f"Legal contact {directory.people[person].name} engaged",
                data={"person": person})])


def channel_target(directory: Directory, client: Client | None) -> IncidentChannel | None:
    """The client's incident-channel target, else the organization's."""
    return (client.incident_channel if client else None) or directory.incident_channel


def open_channel(store: Store, directory: Directory, incident: Incident, client: Client | None,
                 now: datetime) -> None:
    """Post the opening message to the dedicated channel (once) and keep its link on the incident."""
    assert incident.id is not None
    target = channel_target(directory, client)
    if target is None:
        store.append(incident.id, [TimelineEntry(
            now, "channel.missing", "This severity wants a dedicated incident channel, but the plan names none "
            "(set incident_channel on the client or the organization)")])
        return
    service = directory.services.get(incident.service_id)
    client_name = client.name if client else incident.client_id
    label = Severity(incident.severity).label
    text = (f"{label} incident #{incident.id} on {service.name if service else incident.service_id} "
            f"({client_name}): {incident.title}. This channel is its working room.")
    key = f"channel:{incident.id}"
    message = OutboxMessage(
        idempotency_key=key, incident_id=incident.id, person_id=CHANNEL_RECIPIENT, channel=target.kind,
        address=target.webhook, contact_index=0,
        payload={"body": {"event": "incident.channel_opened", "idempotency_key": key, "text": text,
                          "incident": {"id": incident.id, "title": incident.title, "severity": label,
                                       "service": incident.service_id, "client": client_name},
                          "link": target.link}, "secret_env": None,
                 "allow_private": directory.webhook_allow_private,
                 "allow_networks": list(directory.webhook_allow_networks)},
        created_at=now, next_attempt_at=now,
    )
    if not store.add_outbox(message):
        return
    incident.channel_link = target.link or incident.channel_link
    where = f": {target.link}" if target.link else ""
    store.append(incident.id, [TimelineEntry(
        now, "channel.opened", f"Incident channel opened on {target.kind}{where}",
        data={"type": target.kind, "link": target.link},
    )])
