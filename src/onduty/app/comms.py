"""Client communications: draft a message from its template, check it, and send it through the outbox.

A Sev1/Sev2 message that fails the check is refused unless an override reason is given; the reason
goes on the timeline. Sending writes one `comms.<kind>` timeline entry (the clocks read it) and one
outbox message per recipient, delivered and retried by the worker like a page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onduty.app.exports.text import address
from onduty.app.ports import NotFound, Store, Transactions
from onduty.domain.comms import (
    KIND_NAMES,
    REQUIRED,
    TIMELINE_KINDS,
    Finding,
    Kind,
    SentMessage,
    check_message,
    default_fields,
    format_time,
    parse_time,
)
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry
from onduty.domain.model import ContactMethod, Directory
from onduty.domain.severity import Severity
from onduty.plan.comms_templates import Rendered, default_template, message_context, render

OPTIONAL_FIELDS = ("impact", "workaround", "client_action")
MAX_FIELD_CHARS = 4000
STRICT_SEVERITIES = (1, 2)  # a failing message at these severities needs an override reason


class MessageRefused(ValueError):
    """The check found problems in a Sev1/Sev2 message and no override reason was given."""

    def __init__(self, kind: str, findings: list[Finding]):
        self.findings = findings
        lines = "\n".join(f"  - {f.field}: {f.message} [{f.code}]" for f in findings)
        super().__init__(f"{KIND_NAMES[kind].lower()} not sent: the check found {len(findings)} problem(s):\n"
                         f"{lines}\nfix them, or send with an override reason that will be recorded")


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str
    channel: str
    audience: str  # client | internal
    key: str  # a person id, or client:<N> for the client's N-th contact
    contact_index: int = 0
    secret_env: str | None = None

    def as_dict(self) -> dict[str, str]:
        """For the timeline and the API: chat and webhook URLs are credentials, so only their host shows."""
        shown = address(ContactMethod(self.channel, self.address))  # type: ignore[arg-type]
        return {"name": self.name, "address": shown, "channel": self.channel, "audience": self.audience,
                "key": self.key}


@dataclass
class Draft:
    incident_id: int
    kind: Kind
    severity: int
    subject: str
    body: str
    fields: dict[str, str]
    findings: list[Finding]
    recipients: list[Recipient]
    unreachable: list[str] = field(default_factory=list)
    link: str = ""

    @property
    def refusable(self) -> bool:
        return bool(self.findings) and self.severity in STRICT_SEVERITIES


def _clean_fields(given: Mapping[str, str], kind: Kind) -> dict[str, str]:
    known = {spec.name for k in REQUIRED for spec in REQUIRED[k]} | set(OPTIONAL_FIELDS)
    cleaned: dict[str, str] = {}
    for name, value in given.items():
        if name not in known:
            raise ValueError(f"unknown field {name!r}; the fields are: {', '.join(sorted(known))}")
        if len(value) > MAX_FIELD_CHARS:
            raise ValueError(f"field {name!r} is {len(value)} characters; keep it under {MAX_FIELD_CHARS}")
        cleaned[name] = value.strip()
    return cleaned


def _contact_line(directory: Directory, person_id: str | None) -> str:
    person = directory.people.get(person_id or "")
    if person is None:
        return ""
    email = next((c.address for c in person.contacts if c.kind == "email"), None)
    return f"{person.name} ({email})" if email else person.name


def incident_facts(directory: Directory, incident: Incident, time_zone: str) -> dict[str, Any]:
    """The incident as messages and channels show it."""
    service = directory.services.get(incident.service_id)
    client = directory.clients.get(incident.client_id)
    return {
        "id": incident.id, "title": incident.title, "severity": Severity(incident.severity).label,
        "status": incident.status, "type": incident.incident_type,
        "service": service.name if service else incident.service_id,
        "client": client.name if client else incident.client_id,
        "declared_at": format_time(incident.created_at, time_zone),
    }


def recipients_for(directory: Directory, incident: Incident) -> tuple[list[Recipient], list[str]]:
    """Who gets a message at the incident's severity, and who cannot be reached (with why)."""
    audience = directory.communications.audience_for(incident.severity)
    client = directory.clients.get(incident.client_id)
    found: list[Recipient] = []
    missing: list[str] = []
    if audience.client_contacts and client is not None:
        for i, contact in enumerate(client.contacts):
            if contact.email:
                found.append(Recipient(contact.name, contact.email, "email", "client", f"client:{i}"))
            else:
                missing.append(f"{contact.name} ({client.name}) has no e-mail address")
    wanted: list[str] = []
    for role in audience.roles:
        ident = getattr(client, role, None) if client else None
        if ident and ident not in wanted:
            wanted.append(ident)
    wanted += [p for p in audience.people if p not in wanted]
    for ident in wanted:
        person = directory.people.get(ident)
        if person is None:
            continue
        if not person.contacts:
            missing.append(f"{person.name} has no contact method")
            continue
        first = person.contacts[0]
        found.append(Recipient(person.name, first.address, first.kind, "internal", person.id, 0, first.secret_env))
    return found, missing


def prepare(directory: Directory, incident: Incident, kind: Kind, given: Mapping[str, str], now: datetime,
            link_base: str) -> Draft:
    """Fill defaults, render the template and run the check; nothing is written."""
    assert incident.id is not None
    client = directory.clients.get(incident.client_id)
    service = directory.services.get(incident.service_id)
    zone = client.time_zone if client else "UTC"
    level = directory.severity.level(Severity(incident.severity))
    fields = default_fields(
        kind, service_name=service.name if service else incident.service_id,
        contact=_contact_line(directory, client.account_manager if client else None), now=now, time_zone=zone,
        update_every=level.update_every, resolved_at=incident.resolved_at, review_due=level.review_due,
    )
    fields.update(_clean_fields(given, kind))
    shown = {name: value for name, value in fields.items() if value}
    for spec in REQUIRED[kind]:  # a draft with gaps still renders, and shows where the gaps are
        shown.setdefault(spec.name, f"[{spec.label} missing]")
    for name in ("next_update_at", "resolved_at"):
        when = parse_time(fields.get(name, ""), now, zone) if fields.get(name) else None
        if when is not None:
            shown[name] = format_time(when, zone)
    link = f"{link_base.rstrip('/')}/incidents/{incident.id}"
    context = message_context(
        kind=kind, fields=shown, incident=incident_facts(directory, incident, zone),
        client={"id": incident.client_id, "name": client.name if client else incident.client_id, "time_zone": zone},
        service={"id": incident.service_id, "name": service.name if service else incident.service_id,
                 "kind": service.kind if service else ""},
        organization=directory.communications.organization or "onduty", now=now, link=link,
    )
    source = directory.communications.templates.get(kind) or default_template(kind)
    rendered: Rendered = render(source, context)
    findings = check_message(kind, fields, f"{rendered.subject}\n{rendered.body}", now, zone,
                             directory.communications.banned,
                             level.update_every if kind != "resolution" else None)
    if kind == "resolution" and (incident.is_open or incident.resolved_at is None):
        findings.insert(0, Finding("not_resolved", "status",
                                   f"the incident is still {incident.status}: resolve it before announcing it"))
    recipients, missing = recipients_for(directory, incident)
    return Draft(incident.id, kind, incident.severity, rendered.subject, rendered.body, fields, findings,
                 recipients, missing, link)


def _load(store: Store, incident_id: int, client_id: str | None) -> Incident:
    incident = store.incident(incident_id, client_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    return incident


def draft(txs: Transactions, incident_id: int, kind: Kind, fields: Mapping[str, str], now: datetime, *,
          link_base: str = "", client_id: str | None = None) -> Draft:
    """The rendered message and the check's findings, without sending anything."""
    with txs() as store:
        return prepare(store.directory(), _load(store, incident_id, client_id), kind, fields, now, link_base)


def check(txs: Transactions, incident_id: int, kind: Kind, fields: Mapping[str, str], now: datetime, *,
          link_base: str = "", client_id: str | None = None) -> list[Finding]:
    return draft(txs, incident_id, kind, fields, now, link_base=link_base, client_id=client_id).findings


def _outbox(draft_: Draft, comm_id: int, recipient: Recipient, facts: dict[str, Any], now: datetime,
            directory: Directory) -> OutboxMessage:
    key = f"comms:{comm_id}:{recipient.key}:c{recipient.contact_index}"
    body = {
        "event": "incident.communication", "idempotency_key": key, "kind": draft_.kind,
        "subject": draft_.subject, "text": draft_.body, "link": draft_.link, "incident": facts,
        "communication": {"id": comm_id, "kind": draft_.kind},
        "recipient": {"name": recipient.name, "audience": recipient.audience},
    }
    return OutboxMessage(
        idempotency_key=key, incident_id=draft_.incident_id, person_id=recipient.key, channel=recipient.channel,
        address=recipient.address, contact_index=recipient.contact_index,
        payload={"body": body, "secret_env": recipient.secret_env,
                 "allow_private": directory.webhook_allow_private,
                 "allow_networks": list(directory.webhook_allow_networks)},
        created_at=now, next_attempt_at=now,
    )


def send(txs: Transactions, incident_id: int, kind: Kind, fields: Mapping[str, str], now: datetime, *,
         actor: str, override_reason: str | None = None, link_base: str = "", client_id: str | None = None,
         ) -> tuple[Draft, SentMessage]:
    """Check, then queue the message to every recipient and record it; MessageRefused says why not."""
    reason = (override_reason or "").strip() or None
    with txs() as store:
        directory = store.directory()
        incident = _load(store, incident_id, client_id)
        made = prepare(directory, incident, kind, fields, now, link_base)
        if made.refusable and reason is None:
            raise MessageRefused(kind, made.findings)
        if not made.recipients:
            raise ValueError("nobody to send this to: add client contacts with an e-mail address, or "
                             "`communications.recipients` in the plan" + "".join(f"; {m}" for m in made.unreachable))
        overridden = reason if made.findings else None
        record = SentMessage(
            incident_id, kind, made.subject, made.body, made.fields,
            [{"code": f.code, "field": f.field, "message": f.message} for f in made.findings],
            [r.as_dict() for r in made.recipients], any(r.audience == "client" for r in made.recipients),
            actor, now, overridden,
        )
        comm_id = store.add_communication(record)
        zone = directory.clients[incident.client_id].time_zone if incident.client_id in directory.clients else "UTC"
        facts = incident_facts(directory, incident, zone)
        for recipient in made.recipients:
            store.add_outbox(_outbox(made, comm_id, recipient, facts, now, directory))
        entries: list[TimelineEntry] = []
        if overridden:
            entries.append(TimelineEntry(
                now, "comms.override",
                f"{KIND_NAMES[kind]} sent despite {len(made.findings)} finding(s) of the check: {overridden}",
                actor, {"communication_id": comm_id, "reason": overridden, "findings": record.findings},
            ))
        names = ", ".join(f"{r.name} ({r.channel})" for r in made.recipients)
        channels = sorted({r.channel for r in made.recipients})
        entries.append(TimelineEntry(
            now, TIMELINE_KINDS[kind], f"{KIND_NAMES[kind]} sent to {names}: {made.subject}", actor,
            {"communication_id": comm_id, "subject": made.subject, "body": made.body,
             "recipients": record.recipients, "channels": channels, "override_reason": overridden},
        ))
        entries += [TimelineEntry(now, "comms.unreachable", f"Not sent to {m}", actor) for m in made.unreachable]
        store.append(incident_id, entries)
        return made, record


def communications(txs: Transactions, incident_id: int, client_id: str | None = None
                   ) -> list[tuple[SentMessage, list[OutboxMessage]]]:
    """Messages sent about an incident with their deliveries; a client sees only what was sent to it."""
    with txs() as store:
        _load(store, incident_id, client_id)
        found = []
        for message in store.communications(incident_id, client_visible_only=client_id is not None):
            deliveries = store.outbox_by_prefix(f"comms:{message.id}:")
            if client_id is not None:
                message.recipients = [r for r in message.recipients if r.get("audience") == "client"]
                deliveries = [d for d in deliveries if d.person_id.startswith("client:")]
            found.append((message, deliveries))
        return found
