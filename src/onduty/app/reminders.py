"""Overdue reviews and preventive actions remind their owners through the paging outbox, once a day each.

The idempotency key carries the UTC day, so any number of worker ticks (or workers) queue one reminder
per item, owner and day; delivery, retries and fallback to the next contact are the outbox's own.
"""

from __future__ import annotations

from datetime import datetime

from onduty.app.ports import Store, Transactions
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry
from onduty.domain.model import Directory
from onduty.domain.severity import Severity


def _reminder(directory: Directory, incident: Incident, person_id: str, key: str, text: str,
              now: datetime) -> OutboxMessage | None:
    person = directory.people.get(person_id)
    if person is None or not person.contacts or incident.id is None:
        return None
    contact = person.contacts[0]
    service = directory.services.get(incident.service_id)
    client = directory.clients.get(incident.client_id)
    body = {
        "event": "review.reminder", "idempotency_key": f"{key}:c0", "text": text,
        "incident": {"id": incident.id, "title": incident.title, "severity": Severity(incident.severity).label,
                     "status": incident.status, "service": service.name if service else incident.service_id,
                     "client": client.name if client else incident.client_id,
                     "declared_at": incident.created_at.isoformat()},
        "person": {"id": person.id, "name": person.name},
    }
    return OutboxMessage(
        idempotency_key=f"{key}:c0", incident_id=incident.id, person_id=person.id, channel=contact.kind,
        address=contact.address, contact_index=0,
        payload={"body": body, "secret_env": contact.secret_env, "timeline_kind": "reminder"},
        created_at=now, next_attempt_at=now,
    )


def _queue(store: Store, directory: Directory, incident: Incident | None, person_id: str, key: str, text: str,
           now: datetime) -> bool:
    if incident is None or incident.id is None:
        return False
    message = _reminder(directory, incident, person_id, key, text, now)
    if message is None or not store.add_outbox(message):
        return False
    name = directory.people[person_id].name
    store.append(incident.id, [TimelineEntry(now, "reminder.queued", f"Reminding {name}: {text}",
                                             data={"person": person_id, "idempotency_key": message.idempotency_key})])
    return True


def send_review_reminders(txs: Transactions, now: datetime) -> int:
    """Queue today's reminder for every overdue review and action; returns how many were queued."""
    day = f"{now:%Y-%m-%d}"
    queued = 0
    with txs() as store:
        directory = store.directory()
        for review in store.overdue_reviews(now):
            assert review.due_at is not None
            text = (f"the review of incident {review.incident_id} was due {review.due_at:%Y-%m-%d %H:%M} UTC; "
                    f"finish it with `onduty pir {review.incident_id} show`")
            key = f"review-reminder:{review.incident_id}:{day}:{review.owner}"
            queued += _queue(store, directory, store.incident(review.incident_id), review.owner, key, text, now)
        for action, incident_id in store.overdue_actions(now):
            text = (f"preventive action {action.id} \"{action.title}\" (incident {incident_id}) was due "
                    f"{action.due_at:%Y-%m-%d}; update it with `onduty pir {incident_id} actions update {action.id}`")
            key = f"action-reminder:{action.id}:{day}:{action.owner}"
            queued += _queue(store, directory, store.incident(incident_id), action.owner, key, text, now)
    return queued
