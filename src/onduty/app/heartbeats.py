"""Heartbeats: record a ping (resolving a missed-beat alert), and, in the worker, raise an alert for
every check whose period and grace have passed without one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from onduty.app.ingest import apply_events
from onduty.app.keys import hash_key
from onduty.app.ports import NotFound, Transactions
from onduty.domain.heartbeats import HeartbeatState, missed_event, resumed_event
from onduty.domain.routing import AlertPolicy


@dataclass(frozen=True)
class Beat:
    check_id: str
    service_id: str
    next_due: datetime
    resolved_incident: int | None  # the incident of the missed-beat alert this ping resolved, if any


def create_heartbeat_key(txs: Transactions, check_id: str, now: datetime) -> str:
    """A new key for `POST /api/v1/heartbeats/{key}`; printed once, stored hashed.

    Issuing the first key arms the check: a job that is handed its key and never pings is a missed
    beat one period (plus grace) later, not a silence nobody notices.
    """
    key = "hb_" + secrets.token_urlsafe(24)
    with txs() as store:
        check = (store.directory().alerting or AlertPolicy()).heartbeats.get(check_id)
        if check is None:
            raise NotFound(f"heartbeat {check_id!r} is not in the applied plan (services[].heartbeats)")
        store.add_heartbeat_key(hash_key(key), check_id, now)
        if store.heartbeat(check_id) is None:
            store.save_heartbeat(HeartbeatState(check_id, check.service_id, now, check.due_after(now), None, 0))
    return key


def record_beat(txs: Transactions, check_id: str, now: datetime) -> Beat:
    """A ping: the check is due again after period + grace; a missed-beat alert resolves."""
    with txs() as store:
        check = (store.directory().alerting or AlertPolicy()).heartbeats.get(check_id)
        if check is None:
            raise NotFound(f"heartbeat {check_id!r} is no longer in the applied plan")
        previous = store.heartbeat(check_id)
        store.save_heartbeat(HeartbeatState(
            check_id, check.service_id, now, check.due_after(now), None, (previous.beats if previous else 0) + 1,
        ))
        resolved = None
        if previous is not None and previous.missed_at is not None:
            (result,) = apply_events(store, [(check.service_id, resumed_event(check))], now)
            resolved = result.incident_id
        return Beat(check_id, check.service_id, check.due_after(now), resolved)


def check_heartbeats(txs: Transactions, now: datetime, limit: int = 100) -> int:
    """Raise an alert for each check past due (one transaction); returns how many were missed."""
    with txs() as store:
        policy = store.directory().alerting or AlertPolicy()
        missed = []
        for state in store.due_heartbeats(now, limit):
            check = policy.heartbeats.get(state.check_id)
            if check is None or check.service_id not in store.directory().services:
                store.save_heartbeat(HeartbeatState(state.check_id, state.service_id, state.last_beat_at,
                                                    state.due_at, now, state.beats))  # gone from the plan: stop
                continue
            due = check.due_after(state.last_beat_at)
            if due > now:  # the plan gave it a longer period since the last ping
                store.save_heartbeat(HeartbeatState(state.check_id, state.service_id, state.last_beat_at, due,
                                                    None, state.beats))
                continue
            store.save_heartbeat(HeartbeatState(state.check_id, state.service_id, state.last_beat_at,
                                                state.due_at, now, state.beats))
            missed.append((check.service_id, missed_event(check, state.last_beat_at, never_pinged=not state.beats)))
        if missed:
            apply_events(store, missed, now)
        return len(missed)


def heartbeat_report(txs: Transactions, now: datetime) -> list[dict[str, object]]:
    """Every check in the plan with its state: never pinged, ok, or missed."""
    with txs() as store:
        policy = store.directory().alerting or AlertPolicy()
        states = {s.check_id: s for s in store.heartbeats()}
    report = []
    for check in policy.heartbeats.values():
        state = states.get(check.id)
        status = "missed" if state and state.missed_at else ("never" if state is None or not state.beats else "ok")
        report.append({
            "id": check.id, "service": check.service_id, "period_s": check.period.total_seconds(),
            "grace_s": check.grace.total_seconds(), "status": status,
            "last_beat_at": state.last_beat_at if state else None, "due_at": state.due_at if state else None,
            "missed_at": state.missed_at if state else None, "beats": state.beats if state else 0,
        })
    return report
