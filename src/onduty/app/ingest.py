"""Accept alert events: route, dedup, suppress, group or inhibit, open or update incidents — many events
in one transaction, so a batch commits once and every event in it is durable when the call returns.

Per key the events apply in the order they came; across keys the order is free (they came
concurrently). So a batch runs in rounds: each key's leading triggers go in one bulk upsert, then
each key's next acknowledge or resolve, and again until every event is applied.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from onduty.app.incidents import transition
from onduty.app.placement import Pending, Placer
from onduty.app.ports import Conflict, NotFound, Store, Transactions
from onduty.domain.alerts import AlertEvent, AlertUpsert, Decision, decide, details_of
from onduty.domain.incidents import TimelineEntry
from onduty.domain.model import Directory
from onduty.domain.routing import AlertPolicy, Route, route


@dataclass(slots=True)
class IngestResult:
    dedup_key: str
    decision: Decision
    incident_id: int | None
    service_id: str | None = None


@dataclass(slots=True)
class _Item:
    index: int
    event: AlertEvent
    route: Route


def ingest_event(txs: Transactions, service_id: str, event: AlertEvent, now: datetime) -> IngestResult:
    """One event, committed before returning (a 2xx means it is durable)."""
    return ingest_events(txs, [(service_id, event)], now)[0]


def ingest_events(txs: Transactions, items: Sequence[tuple[str, AlertEvent]], now: datetime) -> list[IngestResult]:
    """(integration key's service, event) pairs, all in one transaction.

    A uniqueness guard that fires (another writer opened the same alert or group first) loses the
    transaction; it is retried whole and then finds the winner's rows and joins them.
    """
    for attempt in range(3):
        try:
            with txs() as store:
                return apply_events(store, items, now)
        except Conflict:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def apply_events(store: Store, items: Sequence[tuple[str, AlertEvent]], now: datetime) -> list[IngestResult]:
    """Apply events inside the caller's transaction; results in the order of `items`."""
    directory = store.directory()
    policy = directory.alerting or AlertPolicy()
    keyed: dict[tuple[str, str], list[_Item]] = {}
    own: dict[str, Route] = {}  # without routing rules every event goes to its key's service: one Route each
    updates = 0
    for index, (key_service, event) in enumerate(items):
        if key_service not in own:
            if key_service not in directory.services:
                raise NotFound(f"service {key_service!r} is no longer in the applied plan")
            own[key_service] = Route(key_service, None)
        item = _Item(index, event, route(policy, event.labels, key_service) if policy.routes else own[key_service])
        key = (item.route.service_id, event.dedup_key)
        if key in keyed:
            keyed[key].append(item)
        else:
            keyed[key] = [item]
        if event.action != "trigger":
            updates += 1
    results: list[IngestResult | None] = [None] * len(items)
    placer = Placer(store, directory, policy, now)
    if not updates:  # the usual batch: every key's events are one run of triggers, applied in one round
        if keyed:
            _apply_triggers(store, placer, keyed, results, now)
        return [r for r in results if r is not None]
    queues = {key: deque(run) for key, run in keyed.items()}
    while queues:
        runs = {}
        for key, queue in queues.items():
            run = []
            while queue and queue[0].event.action == "trigger":
                run.append(queue.popleft())
            if run:
                runs[key] = run
        if runs:
            _apply_triggers(store, placer, runs, results, now)
        for queue in queues.values():
            if queue and queue[0].event.action != "trigger":
                item = queue.popleft()
                results[item.index] = _apply_update(store, directory, policy, item, now)
        queues = {key: queue for key, queue in queues.items() if queue}
    return [r for r in results if r is not None]


def _apply_triggers(
    store: Store, placer: Placer, runs: dict[tuple[str, str], list[_Item]],
    results: list[IngestResult | None], now: datetime,
) -> None:
    """One round of triggers: keys with an open alert count into it (an upsert); new keys are placed
    first and then inserted with their incident set, so each new alert is written once."""
    rows: dict[tuple[str, str], AlertUpsert] = {}
    for (service_id, dedup_key), run in runs.items():
        head = run[0].event
        held = placer.suppressed_by(service_id, head.labels)
        details = details_of(head)
        if run[0].route.rule:
            details["route"] = run[0].route.note
        if held:
            details["suppressed_by"] = held
        rows[(service_id, dedup_key)] = AlertUpsert(
            service_id, dedup_key, head.summary, head.source, head.severity, len(run), head.timestamp,
            details, "suppressed" if held else "triggered",
        )
    known = store.open_alert_keys(list(rows))
    outcomes = store.upsert_alerts([row for key, row in rows.items() if key in known], now) if known else {}
    pending: list[Pending] = []
    new_rows: list[AlertUpsert] = []
    for key, run in runs.items():
        first = run[0]
        outcome = outcomes.get(key)
        if outcome is None:  # no open alert: a new one (its row is written after placement)
            row = rows[key]
            new_rows.append(row)
            if row.status == "suppressed":
                for item in run:
                    results[item.index] = IngestResult(key[1], Decision.SUPPRESS, None, key[0])
            else:
                pending.append(Pending(None, key[0], first.event, first.route, [i.index for i in run], row=row))
        elif outcome.status == "suppressed" and (outcome.inserted or placer.suppressed_by(key[0], first.event.labels)):
            for item in run:
                results[item.index] = IngestResult(key[1], Decision.SUPPRESS, None, key[0])
        elif outcome.inserted or outcome.incident_id is None:  # resolved meanwhile, or held by a silence that has ended
            pending.append(Pending(outcome.id, key[0], first.event, first.route, [i.index for i in run],
                                   held=outcome.status != "triggered"))
        else:
            for item in run:
                results[item.index] = IngestResult(key[1], Decision.DEDUPLICATE, outcome.incident_id, key[0])
    for placed in placer.place(pending):
        for n, index in enumerate(placed.indexes):
            decision = placed.decision if n == 0 else Decision.DEDUPLICATE
            results[index] = IngestResult(placed.event.dedup_key, decision, placed.incident_id, placed.service_id)
    store.insert_alerts(new_rows, now)  # placement has set each placed row's incident


def _apply_update(store: Store, directory: Directory, policy: AlertPolicy, item: _Item, now: datetime) -> IngestResult:
    """Acknowledge or resolve: rare next to triggers, so through the incident aggregate one at a time."""
    service_id = item.route.service_id
    event = item.event
    alert = store.open_alert(service_id, event.dedup_key)
    actor = event.source or (alert.source if alert else "") or "integration"
    decision = decide(event.action, alert)
    if decision is Decision.DROP or alert is None:
        return IngestResult(event.dedup_key, Decision.DROP, None, service_id)
    alert.updated_at = now
    incident = store.incident(alert.incident_id) if alert.incident_id is not None else None
    if decision is Decision.ACKNOWLEDGE:
        alert.status = "acknowledged"
        if incident is not None and incident.status == "triggered":
            transition(store, directory, incident, "acknowledged", actor, now, "acknowledged at the source")
        return IngestResult(event.dedup_key, decision, alert.incident_id, service_id)
    alert.status, alert.resolved_at = "resolved", now
    later = (event.custom_details or {}).get("evidence")
    if isinstance(later, dict) and later.get("points"):  # a detector's series up to the recovery, for the chart
        alert.details = {**(alert.details or {}), "resolve_evidence": later}
    if incident is None or incident.id is None:
        return IngestResult(event.dedup_key, decision, None, service_id)
    store.append(incident.id, [TimelineEntry(now, "alert.resolved", f"Alert resolved by {actor}: {alert.summary}",
                                             actor, {"dedup_key": event.dedup_key, "service": service_id})])
    if incident.is_open and all(a.status == "resolved" for a in store.alerts_of(incident.id)):
        if policy.for_service(incident.service_id).auto_resolve:
            transition(store, directory, incident, "resolved", actor, now, "every alert has resolved")
        else:
            store.append(incident.id, [TimelineEntry(
                now, "alert.all_resolved",
                "Every alert has resolved; the incident stays open (auto_resolve is off for this service)",
            )])
    return IngestResult(event.dedup_key, decision, incident.id, service_id)
