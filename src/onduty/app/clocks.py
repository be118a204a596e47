"""Severity clocks as durable work: one timer row per incident wakes the worker before each clock is due
(to remind its owner) and just after (to flag a miss and page the delivery lead), then re-arms itself.

The timer re-reads the incident each time, so clocks that moved later (an update was sent) only cost an
early wake-up; whatever can move a clock earlier (acknowledge, resolve, a severity or type change, a
reopen) calls `arm_clocks`, which bumps the incident's clock epoch so the older chain stops.
Reminders and misses are idempotent: outbox keys per (clock, due, person), one `clock.missed` entry each.
Reminders are notifications (keys `notify:…`), which the on-call report does not count as pages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from onduty.app.engage import quiet_until, send_to_person
from onduty.app.ports import Store
from onduty.domain.clocks import RESPONSIBLE, Clock, ClockAction, clock_actions, incident_clocks, next_wake
from onduty.domain.incidents import Incident, TimelineEntry, Timer
from onduty.domain.model import Directory
from onduty.domain.roles import current_roles

CLOCK_LABELS = {"acknowledge": "acknowledge", "first_notice": "first client notice",
                "next_update": "next client update", "resolve": "resolve or escalate", "review": "review",
                "security_notice": "security notification"}


def clocks_for(directory: Directory, incident: Incident, timeline: Sequence[TimelineEntry], now: datetime
               ) -> list[Clock]:
    """The incident's severity clocks; the resolve clock uses its service's escalation policy."""
    service = directory.services.get(incident.service_id)
    policy = directory.policies.get(service.escalation_policy_id) if service else None
    resolve_timeout = policy.resolve_timeout if policy else timedelta(minutes=30)
    return incident_clocks(incident, timeline, directory.severity, resolve_timeout, now)


def arm_clocks(store: Store, incident: Incident, now: datetime) -> None:
    """Re-plan the incident's clocks at the worker's next tick; older clock timers become stale."""
    assert incident.id is not None
    incident.clock_epoch += 1
    store.add_timer(Timer(incident.id, "clocks", now, incident.clock_epoch))


def on_call_paged(timeline: Sequence[TimelineEntry]) -> list[str]:
    """Everyone the escalation paged so far, in order."""
    people: list[str] = []
    for e in timeline:
        person = e.data.get("person")
        if e.kind == "page.queued" and "cause" not in e.data and isinstance(person, str) and person not in people:
            people.append(person)
    return people


def owners(directory: Directory, store: Store, incident: Incident, clock: str,
           timeline: Sequence[TimelineEntry]) -> list[str]:
    """Who answers for `clock`: the first of its responsible roles that has a holder."""
    assert incident.id is not None
    roles = current_roles(incident, store.roles(incident.id), directory.clients.get(incident.client_id),
                          directory.people, timeline)
    for role in RESPONSIBLE[clock]:
        if role == "on_call":
            paged = on_call_paged(timeline)
            if paged:
                return paged
            continue
        holder = roles[role].person_id
        if holder:
            return [holder]
    return []


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def fire_clocks(store: Store, directory: Directory, timer: Timer, now: datetime) -> None:
    """Remind, flag misses, and arm the next wake-up; a timer of an older clock epoch does nothing."""
    timer.done = True
    incident = store.incident(timer.incident_id)
    if incident is None or incident.id is None or timer.epoch != incident.clock_epoch:
        return
    opens = quiet_until(directory, incident, now)
    if opens is not None:  # outside coverage hours this severity pages nobody: reminders and misses wait too
        store.add_timer(Timer(incident.id, "clocks", opens, incident.clock_epoch))
        return
    timeline = store.timeline(incident.id)
    clocks = clocks_for(directory, incident, timeline, now)
    lead = directory.severity.reminder_lead
    for action in clock_actions(clocks, now, lead):
        if action.action == "miss":
            _missed(store, directory, incident, action, timeline, now)
        else:
            _remind(store, directory, incident, action, timeline, now)
    wake = next_wake(clocks, now, lead)
    if wake is not None:
        store.add_timer(Timer(incident.id, "clocks", wake, incident.clock_epoch))


def _remind(store: Store, directory: Directory, incident: Incident, action: ClockAction,
            timeline: Sequence[TimelineEntry], now: datetime) -> None:
    label = CLOCK_LABELS[action.clock]
    minutes = max(round((action.due - now).total_seconds() / 60), 0)
    due = _stamp(action.due)
    for person in owners(directory, store, incident, action.clock, timeline):
        send_to_person(
            store, directory, incident, person, f"notify:clock:{incident.id}:{action.clock}:{due}:{person}", now,
            event="incident.clock_reminder", notification=True,
            why=f"{label} due in {minutes} min, at {action.due.astimezone(UTC):%H:%M} UTC",
            extra={"clock": action.clock, "due": due},
        )


def _missed(store: Store, directory: Directory, incident: Incident, action: ClockAction,
            timeline: Sequence[TimelineEntry], now: datetime) -> None:
    """Record the miss once per clock occurrence and page the client's delivery lead."""
    assert incident.id is not None
    due = _stamp(action.due)
    if any(e.kind == "clock.missed" and e.data.get("clock") == action.clock and e.data.get("due") == due
           for e in timeline):
        return
    label = CLOCK_LABELS[action.clock]
    store.append(incident.id, [TimelineEntry(
        now, "clock.missed", f"Missed the {label} deadline ({action.due.astimezone(UTC):%H:%M} UTC)",
        data={"clock": action.clock, "due": due},
    )])
    client = directory.clients.get(incident.client_id)
    lead = client.delivery_lead if client else None
    if lead is None:
        return
    send_to_person(
        store, directory, incident, lead, f"clock:{incident.id}:{action.clock}:{due}:miss:{lead}", now,
        event="incident.clock_missed", notification=False, why=f"escalation: {label} deadline missed",
        extra={"clock": action.clock, "due": due},
    )
