"""Requests to the client's own team: created with a due time, completed, and a miss recorded once.

The state (running, met, met late, missed) is derived from the due and done times; the only thing
written when a miss is noticed, by a read or by the worker, is the timeline entry and its mark.
"""

from __future__ import annotations

from datetime import datetime

from onduty.app.ports import NotFound, Store, Transactions
from onduty.domain.client_requests import ClientRequest
from onduty.domain.incidents import TimelineEntry


class RequestConflict(ValueError):
    """The request is already done."""


def _minutes(seconds: float) -> int:
    return int(abs(seconds) // 60)


def _miss_entry(request: ClientRequest, now: datetime) -> TimelineEntry:
    return TimelineEntry(
        now, "request.missed",
        f"Client request #{request.id} missed its due time {request.due_at:%Y-%m-%d %H:%M} UTC: {request.text}",
        data={"request": request.id, "due_at": request.due_at.isoformat()},
    )


def _record_misses(store: Store, requests: list[ClientRequest], now: datetime) -> list[ClientRequest]:
    fresh = []
    for request in requests:
        if request.miss_to_record(now):
            store.append(request.incident_id, [_miss_entry(request, now)])
            store.update_client_request(request.id, miss_recorded_at=now)
            request = ClientRequest(**{**request.__dict__, "miss_recorded_at": now})
        fresh.append(request)
    return fresh


def note_missed(store: Store, incident_id: int, now: datetime) -> list[ClientRequest]:
    """The incident's requests, recording (once) any found missed at `now`."""
    return _record_misses(store, store.client_requests(incident_id), now)


def create_request(
    txs: Transactions, incident_id: int, text: str, due_at: datetime, by: str, now: datetime,
    client_id: str | None = None,
) -> ClientRequest:
    """Ask the client's team to do something by `due_at`; on the timeline at once."""
    if not text.strip():
        raise ValueError("a request needs text saying what the client's team must do")
    if due_at <= now:
        raise ValueError(f"the due time {due_at:%Y-%m-%d %H:%M} UTC is not in the future")
    with txs() as store:
        incident = store.incident(incident_id, client_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        request_id = store.add_client_request(incident_id, text.strip(), due_at, by, now)
        store.append(incident_id, [TimelineEntry(
            now, "request.created",
            f"Asked {incident.client_id}'s team (due {due_at:%H:%M} UTC, in "
            f"{_minutes((due_at - now).total_seconds())} min): {text.strip()}",
            by, {"request": request_id, "due_at": due_at.isoformat()},
        )])
        return ClientRequest(request_id, incident_id, text.strip(), due_at, by, now)


def complete_request(
    txs: Transactions, incident_id: int, request_id: int, by: str, now: datetime, client_id: str | None = None
) -> ClientRequest:
    """Mark a request done; done after its due time it counts as met late (and the miss is on record)."""
    with txs() as store:
        if store.incident(incident_id, client_id) is None:
            raise NotFound(f"incident {incident_id} not found")
        request = store.client_request(incident_id, request_id)
        if request is None:
            raise NotFound(f"request {request_id} of incident {incident_id} not found")
        if request.done_at is not None:
            raise RequestConflict(f"request {request_id} was already done at {request.done_at:%Y-%m-%d %H:%M} UTC")
        (request,) = _record_misses(store, [request], now)
        store.update_client_request(request_id, done_at=now, done_by=by)
        done = ClientRequest(**{**request.__dict__, "done_at": now, "done_by": by})
        late = done.state(now) == "met_late"
        store.append(incident_id, [TimelineEntry(
            now, "request.done",
            f"Client request #{request_id} done{' late' if late else ''}, reported by {by}: {request.text}",
            by, {"request": request_id, "state": done.state(now)},
        )])
        return done


def list_requests(txs: Transactions, incident_id: int, now: datetime, client_id: str | None = None
                  ) -> list[ClientRequest]:
    with txs() as store:
        if store.incident(incident_id, client_id) is None:
            raise NotFound(f"incident {incident_id} not found")
        return note_missed(store, incident_id, now)


def record_missed_requests(txs: Transactions, now: datetime, limit: int = 100) -> int:
    """For the worker: put every newly missed request on its incident's timeline, once."""
    with txs() as store:
        missed = store.unrecorded_missed_requests(now, limit)
        return sum(1 for r in _record_misses(store, missed, now) if r.miss_recorded_at == now)
