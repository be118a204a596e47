"""Silences: people hold matching alerts back from paging for a span (stored and shown, never paged)."""

from __future__ import annotations

from datetime import datetime

from onduty.app.ports import NotFound, Store, Transactions
from onduty.domain.matchers import parse_matchers
from onduty.domain.suppression import Silence


def create_silence(
    txs: Transactions, matchers: list[str], start: datetime, end: datetime, author: str, comment: str,
    now: datetime, service_id: str | None = None, client_id: str | None = None,
) -> Silence:
    """A new silence; ValueError names what is wrong (a bad matcher, an empty span, no author)."""
    parsed = parse_matchers(matchers)
    if not parsed and service_id is None:
        raise ValueError("a silence needs at least one matcher or a service (it would silence everything)")
    if end <= start:
        raise ValueError("a silence must end after it starts")
    if end <= now:
        raise ValueError("a silence must end in the future")
    if not author.strip():
        raise ValueError("a silence needs an author")
    if not comment.strip():
        raise ValueError("a silence needs a comment saying why")
    with txs() as store:
        services = store.directory().services
        if service_id is not None:
            service = services.get(service_id)
            if service is None or (client_id is not None and service.client_id != client_id):
                raise NotFound(f"service {service_id!r} is not in the applied plan")
        elif client_id is not None:
            raise ValueError("a client-scoped key can only silence one of its own services: give a service")
        silence = Silence(parsed, start, end, author.strip(), comment.strip(), service_id)
        ident = store.add_silence(silence, now)
        owner = services[service_id].client_id if service_id is not None else None
        store.record_admin_action(now, silence.created_by, "silence.created", owner, f"silence {ident}",
                                  {"matchers": matchers, "service": service_id, "start": start.isoformat(),
                                   "end": end.isoformat(), "comment": silence.comment})
    return Silence(parsed, start, end, silence.created_by, silence.comment, service_id, None, ident)


def _own(store: Store, silences: list[Silence], client_id: str | None) -> list[Silence]:
    """A client-scoped caller sees the silences on its own services only."""
    if client_id is None:
        return silences
    services = store.directory().services
    return [s for s in silences
            if s.service_id is not None and s.service_id in services and services[s.service_id].client_id == client_id]


def list_silences(txs: Transactions, now: datetime, include_expired: bool = False,
                  client_id: str | None = None) -> list[Silence]:
    with txs() as store:
        return _own(store, store.silences(now, include_expired), client_id)


def expire_silence(txs: Transactions, silence_id: int, by: str, now: datetime, client_id: str | None = None) -> None:
    """End a silence now; NotFound when there is no such silence in force (or it is not the caller's)."""
    with txs() as store:
        if silence_id not in {s.id for s in _own(store, store.silences(now), client_id)}:
            raise NotFound(f"silence {silence_id} not found, or already over")
        store.expire_silence(silence_id, by, now)
        store.record_admin_action(now, by, "silence.expired", client_id, f"silence {silence_id}")
