"""Accept one alert event: dedup by key, open or update an incident, all in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onduty.app.incidents import declare, transition
from onduty.app.ports import Conflict, NotFound, Store, Transactions
from onduty.domain.alerts import Alert, AlertEvent, Decision, decide, details_of
from onduty.domain.incidents import TimelineEntry


@dataclass(frozen=True)
class IngestResult:
    dedup_key: str
    decision: Decision
    incident_id: int | None


def ingest_event(txs: Transactions, service_id: str, event: AlertEvent, now: datetime) -> IngestResult:
    """Store the event's effect and commit before returning, so a 2xx means it is durable.

    Two triggers racing on one new key both try to insert; the unique index lets one win and
    the loser retries, finding the winner's alert and joining it.
    """
    for attempt in range(3):
        try:
            with txs() as store:
                return _apply(store, service_id, event, now)
        except Conflict:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply(store: Store, service_id: str, event: AlertEvent, now: datetime) -> IngestResult:
    directory = store.directory()
    service = directory.services.get(service_id)
    if service is None:
        raise NotFound(f"service {service_id!r} is no longer in the applied plan")
    alert = store.open_alert(service_id, event.dedup_key)
    actor = event.source or (alert.source if alert else "") or "integration"
    decision = decide(event.action, alert)

    if decision is Decision.OPEN:
        severity = directory.severity.from_event(event.severity)
        opened = declare(
            store, directory, service, event.summary, severity, now, actor, event.timestamp or now
        )
        assert opened.id is not None
        store.add_alert(Alert(
            service_id, event.dedup_key, event.summary, event.source, event.severity, now, now,
            incident_id=opened.id, first_signal_at=event.timestamp, details=details_of(event),
        ))
        store.append(opened.id, [TimelineEntry(
            now, "alert.triggered", f"Alert from {actor}: {event.summary}", actor,
            {"dedup_key": event.dedup_key, "severity": event.severity, **details_of(event)},
        )])
        return IngestResult(event.dedup_key, decision, opened.id)

    if decision is Decision.DROP or alert is None or alert.incident_id is None:
        return IngestResult(event.dedup_key, Decision.DROP, None)
    incident_id = alert.incident_id
    incident = store.incident(incident_id)
    assert incident is not None
    alert.updated_at = now
    if decision is Decision.DEDUPLICATE:
        alert.occurrences += 1
        store.append(incident_id, [TimelineEntry(
            now, "alert.repeated", f"Alert repeated ({alert.occurrences} times): {event.summary}", actor,
            {"dedup_key": event.dedup_key},
        )])
    elif decision is Decision.ACKNOWLEDGE:
        alert.status = "acknowledged"
        if incident.status == "triggered":
            transition(store, directory, incident, "acknowledged", actor, now, "acknowledged at the source")
    elif decision is Decision.RESOLVE:
        alert.status, alert.resolved_at = "resolved", now
        store.append(incident_id, [TimelineEntry(now, "alert.resolved", f"Alert resolved by {actor}", actor,
                                                 {"dedup_key": event.dedup_key})])
        if incident.is_open and all(a.status == "resolved" for a in store.alerts_of(incident_id)):
            transition(store, directory, incident, "resolved", actor, now, "every alert has resolved")
    return IngestResult(event.dedup_key, decision, incident_id)
