"""Record what happened to each page: delivered, retry later with backoff, or try the next contact."""

from __future__ import annotations

from datetime import datetime, timedelta

from onduty.app.paging import outbox_message
from onduty.app.ports import Transactions
from onduty.domain.incidents import OutboxMessage, TimelineEntry

MAX_ATTEMPTS = 4
FIRST_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … capped at 5 minutes."""
    delay: timedelta = FIRST_BACKOFF * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_BACKOFF)


def _who(message: OutboxMessage, names: dict[str, str]) -> str:
    return names.get(message.person_id, message.person_id)


def record_delivered(txs: Transactions, message_id: int, receipt: str, now: datetime) -> None:
    with txs() as store:
        message = store.outbox_message(message_id)
        if message is None or message.status == "delivered":
            return
        message.status, message.delivered_at, message.lease_until = "delivered", now, None
        people = {p.id: p.name for p in store.directory().people.values()}
        kind = message.payload.get("timeline_kind", "page")  # "reminder" for overdue reviews and actions
        store.append(message.incident_id, [TimelineEntry(
            now, f"{kind}.delivered",
            f"{kind.capitalize()} delivered to {_who(message, people)} via {message.channel} "
            f"(attempt {message.attempts}): {receipt}",
            data={"person": message.person_id, "channel": message.channel, "attempt": message.attempts,
                  "idempotency_key": message.idempotency_key},
        )])


def record_failed(txs: Transactions, message_id: int, error: str, permanent: bool, now: datetime) -> None:
    """Retry with backoff; after the last attempt (or a permanent error) fall back to the next contact."""
    with txs() as store:
        message = store.outbox_message(message_id)
        if message is None or message.status == "delivered":
            return
        directory = store.directory()
        names = {p.id: p.name for p in directory.people.values()}
        who = _who(message, names)
        message.last_error, message.lease_until = error[:500], None
        data = {"person": message.person_id, "channel": message.channel, "attempt": message.attempts,
                "error": error[:500]}
        if not permanent and message.attempts < MAX_ATTEMPTS:
            message.status = "pending"
            message.next_attempt_at = now + backoff(message.attempts)
            store.append(message.incident_id, [TimelineEntry(
                now, "page.retry",
                f"Page to {who} via {message.channel} failed (attempt {message.attempts}: {error}); "
                f"retrying at {message.next_attempt_at:%H:%M:%S} UTC",
                data=data,
            )])
            return
        message.status = "failed"
        entries = [TimelineEntry(
            now, "page.failed", f"Page to {who} via {message.channel} failed for good: {error}", data=data
        )]
        person = directory.people.get(message.person_id)
        incident = store.incident(message.incident_id)
        next_index = message.contact_index + 1
        if person is not None and incident is not None and next_index < len(person.contacts):
            base = message.idempotency_key.rsplit(":c", 1)[0]
            extra = {k: v for k, v in message.payload["body"].items()
                     if k not in ("idempotency_key", "incident", "person")}  # keeps event, notification, clock
            fallback = outbox_message(directory, incident, base, person.id, next_index, now, extra)
            if store.add_outbox(fallback):
                entries.append(TimelineEntry(
                    now, "page.fallback", f"Trying {who}'s next contact method: {fallback.channel}",
                    data={"person": person.id, "channel": fallback.channel},
                ))
        else:
            entries.append(TimelineEntry(
                now, "page.undeliverable", f"Could not reach {who} through any contact method",
                data={"person": message.person_id},
            ))
        store.append(message.incident_id, entries)
