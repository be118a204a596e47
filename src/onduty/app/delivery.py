"""Record what happened to each page: delivered, retry later with backoff, or try the next contact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from onduty.app.paging import outbox_message
from onduty.app.ports import OutboxState, Transactions
from onduty.domain.incidents import OutboxMessage, TimelineEntry
from onduty.domain.model import ContactMethod

MAX_ATTEMPTS = 4
FIRST_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(minutes=5)
# A person's last contact method has nothing to fall back to: it keeps retrying a transient error every
# MAX_BACKOFF for this long, so a channel that is down for minutes loses nothing when it comes back.
LAST_CONTACT_RETRIES_FOR = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … capped at 5 minutes."""
    delay: timedelta = FIRST_BACKOFF * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_BACKOFF)


def _who(message: OutboxMessage | OutboxState, names: dict[str, str]) -> str:
    recipient = message.payload.get("body", {}).get("recipient") or {}
    return names.get(message.person_id) or recipient.get("name") or message.person_id


def _is_comms(message: OutboxMessage | OutboxState) -> bool:
    return bool(message.payload.get("body", {}).get("event") == "incident.communication")


def _noun(message: OutboxMessage | OutboxState) -> tuple[str, str]:
    """Timeline kind prefix and noun: client messages are `comms.*`; others say (`timeline_kind`), else `page.*`."""
    if _is_comms(message):
        return "comms", "Message"
    kind = str(message.payload.get("timeline_kind", "page"))  # "reminder" for overdue reviews and actions
    return kind, kind.capitalize()


def _comms_fallback(message: OutboxMessage, contact_index: int, contact: ContactMethod, now: datetime
                    ) -> OutboxMessage:
    """The same client message through the recipient's next contact method."""
    key = f"{message.idempotency_key.rsplit(':c', 1)[0]}:c{contact_index}"
    body = {**message.payload["body"], "idempotency_key": key}
    return OutboxMessage(
        idempotency_key=key, incident_id=message.incident_id, person_id=message.person_id, channel=contact.kind,
        address=contact.address, contact_index=contact_index,
        payload={"body": body, "secret_env": contact.secret_env}, created_at=now, next_attempt_at=now,
    )


def cancel_if_acknowledged(txs: Transactions, message_id: int, now: datetime) -> bool:
    """A notification rule's later page is not sent once the incident is acknowledged or resolved."""
    with txs() as store:
        message = store.outbox_message(message_id)
        if message is None or message.status == "delivered":
            return True
        incident = store.incident(message.incident_id)
        if incident is not None and incident.status == "triggered":
            return False
        message.status, message.lease_until = "cancelled", None
        names = {p.id: p.name for p in store.directory().people.values()}
        state = incident.status if incident else "gone"
        store.append(message.incident_id, [TimelineEntry(
            now, "page.cancelled",
            f"Not paging {_who(message, names)} via {message.channel}: the incident is {state}",
            data={"person": message.person_id, "channel": message.channel,
                  "idempotency_key": message.idempotency_key},
        )])
        return True


@dataclass(frozen=True)
class Sent:
    """One page its channel accepted: which claim (attempt, lease) of which outbox row, the receipt, and when
    (None: at the time it is recorded)."""

    message_id: int
    idempotency_key: str
    attempt: int
    lease_until: datetime | None
    receipt: str
    at: datetime | None = None


def _same_claim(message: OutboxState, sent: Sent) -> bool:
    """The row is still under the claim that sent the page: not re-claimed since, nor another database's row."""
    if message.status != "delivering" or message.idempotency_key != sent.idempotency_key:
        return False
    if message.attempts != sent.attempt or message.lease_until is None or sent.lease_until is None:
        return False
    return abs(message.lease_until - sent.lease_until) < timedelta(milliseconds=1)


def record_delivered_many(txs: Transactions, outcomes: Sequence[Sent], now: datetime, *, replay: bool = False
                          ) -> int:
    """Mark these sent pages delivered in one transaction, each on its timeline once; returns how many.

    With `replay` (pages from a dead worker's journal) a row is marked only while it is still under the claim
    that sent it: one claimed again since is being re-sent by its new owner, and is theirs to record."""
    if not outcomes:
        return 0
    by_id = {sent.message_id: sent for sent in outcomes}
    with txs() as store:
        people: dict[str, str] | None = None
        marked: list[tuple[int, datetime]] = []
        entries: list[tuple[int, TimelineEntry]] = []
        for message in store.outbox_states(list(by_id)):
            sent = by_id[message.id]
            if message.status == "delivered" or (replay and not _same_claim(message, sent)):
                continue
            delivered_at = sent.at or now
            marked.append((message.id, delivered_at))
            if people is None:
                people = {p.id: p.name for p in store.directory().people.values()}
            prefix, noun = _noun(message)
            data: dict[str, object] = {"person": message.person_id, "channel": message.channel,
                                       "attempt": message.attempts, "idempotency_key": message.idempotency_key}
            if replay:
                data["recorded_from"] = "the delivery journal of a worker that stopped"
            entries.append((message.incident_id, TimelineEntry(
                delivered_at, f"{prefix}.delivered",
                f"{noun} delivered to {_who(message, people)} via {message.channel} "
                f"(attempt {message.attempts}): {sent.receipt}",
                data=data,
            )))
        store.mark_delivered(marked)
        for incident_id, entry in entries:
            store.append(incident_id, [entry])
    return len(marked)


def _keeps_retrying(message: OutboxMessage, has_next: bool, resolved: bool, now: datetime) -> bool:
    """Past MAX_ATTEMPTS only the last contact method retries, for a while; a page stops once resolved."""
    if has_next or now - message.created_at >= LAST_CONTACT_RETRIES_FOR:
        return False
    return not (resolved and _noun(message)[0] == "page")


def record_failed(txs: Transactions, message_id: int, error: str, permanent: bool, now: datetime) -> None:
    """Retry with backoff; after the last attempt (or a permanent error) fall back to the next contact.

    Every failure is on the incident's timeline. The last contact method keeps retrying (see
    LAST_CONTACT_RETRIES_FOR) instead of giving up while its channel is down."""
    with txs() as store:
        message = store.outbox_message(message_id)
        if message is None or message.status == "delivered":
            return
        directory = store.directory()
        names = {p.id: p.name for p in directory.people.values()}
        who = _who(message, names)
        message.last_error, message.lease_until = error[:500], None
        data = {"person": message.person_id, "channel": message.channel, "attempt": message.attempts,
                "error": error[:500], "idempotency_key": message.idempotency_key}
        prefix, noun = _noun(message)
        person = directory.people.get(message.person_id)
        incident = store.incident(message.incident_id)
        next_index = message.contact_index + 1
        has_next = person is not None and incident is not None and next_index < len(person.contacts)
        resolved = incident is not None and incident.status == "resolved"
        if not permanent and (message.attempts < MAX_ATTEMPTS or _keeps_retrying(message, has_next, resolved, now)):
            message.status = "pending"
            message.next_attempt_at = now + backoff(message.attempts)
            store.append(message.incident_id, [TimelineEntry(
                now, f"{prefix}.retry",
                f"{noun} to {who} via {message.channel} failed (attempt {message.attempts}: {error}); "
                f"retrying at {message.next_attempt_at:%H:%M:%S} UTC",
                data=data,
            )])
            return
        message.status = "failed"
        entries = [TimelineEntry(
            now, f"{prefix}.failed", f"{noun} to {who} via {message.channel} failed for good: {error}", data=data
        )]
        if has_next and person is not None and incident is not None:
            base = message.idempotency_key.rsplit(":c", 1)[0]
            extra = {k: v for k, v in message.payload["body"].items()
                     if k not in ("idempotency_key", "incident", "person")}  # keeps event, notification, clock
            fallback = (_comms_fallback(message, next_index, person.contacts[next_index], now) if _is_comms(message)
                        else outbox_message(directory, incident, base, person.id, next_index, now, extra))
            if store.add_outbox(fallback):
                entries.append(TimelineEntry(
                    now, f"{prefix}.fallback", f"Trying {who}'s next contact method: {fallback.channel}",
                    data={"person": person.id, "channel": fallback.channel},
                ))
        else:
            entries.append(TimelineEntry(
                now, f"{prefix}.undeliverable", f"Could not reach {who} through any contact method",
                data={"person": message.person_id},
            ))
        store.append(message.incident_id, entries)
