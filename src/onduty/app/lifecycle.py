"""The lifecycle around the status rules: monitor after resolve, close, reopen on recurrence, change
severity or type with everything that follows from it (paging, engagement, clocks)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from onduty.app.clocks import arm_clocks
from onduty.app.engage import engage, engage_legal
from onduty.app.ports import NotFound, Store, Transactions
from onduty.domain.coverage import page_at
from onduty.domain.incidents import Incident, TimelineEntry, Timer
from onduty.domain.model import Coverage, Directory
from onduty.domain.severity import Severity


def arm_paging(store: Store, directory: Directory, incident: Incident, now: datetime, *, announce: bool) -> None:
    """Arm the escalation from level 1 at the first moment the severity may page (coverage hours).

    `announce` writes `paging.armed` when paging starts now (a raise, a reopen), so the acknowledge
    clock runs from then; a wait for coverage hours is always written as `paging.deferred`.
    """
    assert incident.id is not None
    severity = Severity(incident.severity)
    client = directory.clients.get(incident.client_id)
    name = client.name if client else incident.client_id
    coverage = client.coverage if client and client.coverage else Coverage(client.time_zone if client else "UTC")
    first_page, deferred = _first_page(severity, coverage, name, now)
    if deferred is not None:
        store.append(incident.id, [TimelineEntry(now, "paging.deferred", deferred,
                                                 data={"page_at": first_page.isoformat()})])
    elif announce:
        store.append(incident.id, [TimelineEntry(
            now, "paging.armed", f"{severity.label}: paging the on-call now", data={"page_at": now.isoformat()})])
    store.add_timer(Timer(incident.id, "escalate", first_page, incident.epoch, level=0, loop=0))


@lru_cache(maxsize=256)
def _first_page(severity: Severity, coverage: Coverage, name: str, now: datetime) -> tuple[datetime, str | None]:
    """When paging starts, and the timeline's note when that waits for coverage hours. The same for every
    incident a storm opens in one transaction (one `now`), so it is worked out once per client and severity."""
    first_page = page_at(severity, coverage, now)
    if first_page <= now:
        return first_page, None
    opens = first_page.astimezone(ZoneInfo(coverage.time_zone))
    return first_page, (f"Outside {name}'s coverage hours ({coverage.start:%H:%M}-{coverage.end:%H:%M} "
                        f"{coverage.time_zone}): {severity.label} pages wait until {opens:%a %d %b %H:%M %Z}")


def arm_engagement(store: Store, incident: Incident, now: datetime) -> None:
    """Engage per severity and plan the clocks at the worker's next tick (off the ingest hot path)."""
    assert incident.id is not None
    store.add_timer(Timer(incident.id, "engage", now, incident.epoch))


def fire_engage(store: Store, directory: Directory, timer: Timer, now: datetime) -> None:
    timer.done = True
    incident = store.incident(timer.incident_id)
    if incident is None:
        return
    if incident.is_open:
        engage(store, directory, incident, now)
    arm_clocks(store, incident, now)


def after_resolve(store: Store, directory: Directory, incident: Incident, now: datetime) -> None:
    """Resolved: watch for recurrence for the severity's monitor period, or close at once."""
    assert incident.id is not None
    monitor_for = directory.severity.level(Severity(incident.severity)).monitor_for
    if monitor_for is None:
        store.append(incident.id, incident.move_to("closed", "onduty", now, "no monitor period for this severity"))
        return
    until = now + monitor_for
    store.append(incident.id, incident.move_to(
        "monitoring", "onduty", now,
        f"watching for recurrence for {int(monitor_for.total_seconds() // 60)} min, "
        f"until {until.astimezone(UTC):%H:%M} UTC"))
    store.add_timer(Timer(incident.id, "close", until, incident.epoch))


def fire_close(store: Store, directory: Directory, timer: Timer, now: datetime) -> None:
    """The monitor period ended without a recurrence: close. A reopen made this timer stale."""
    timer.done = True
    incident = store.incident(timer.incident_id)
    if incident is None or incident.id is None or incident.status != "monitoring" or timer.epoch != incident.epoch:
        return
    store.append(incident.id, incident.move_to("closed", "onduty", now, "no recurrence during the monitor period"))


def reopen(store: Store, directory: Directory, incident: Incident, now: datetime, actor: str, why: str,
           data: dict[str, object]) -> None:
    """An alert for a monitored incident: back to triggered, paging re-armed, engagement and clocks again."""
    assert incident.id is not None
    entries = incident.move_to("triggered", actor, now, why)
    entries[0].data.update(data)
    store.append(incident.id, entries)
    if directory.severity.level(Severity(incident.severity)).pages:
        arm_paging(store, directory, incident, now, announce=True)
    arm_engagement(store, incident, now)


def change_severity(txs: Transactions, incident_id: int, severity: Severity, reason: str, actor: str,
                    now: datetime, client_id: str | None = None) -> Incident:
    """Raise or lower an incident's severity with a reason; paging and clocks follow at once."""
    with txs() as store:
        incident = store.incident(incident_id, client_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        apply_severity(store, store.directory(), incident, severity, reason, actor, now)
        return incident


def apply_severity(store: Store, directory: Directory, incident: Incident, severity: Severity, reason: str,
                   actor: str, now: datetime) -> None:
    """A raise arms paging that has not started and engages the new level's people (Sev1: all hands);
    a lower severity that does not page stops the escalation; pages already sent stay sent."""
    assert incident.id is not None
    previous = Severity(incident.severity)
    store.append(incident.id, incident.change_severity(int(severity), reason, actor, now))
    level = directory.severity.level(severity)
    if incident.is_open:
        paging_started = any(e.kind == "page.queued" and "cause" not in e.data for e in store.timeline(incident.id))
        if severity < previous:
            if incident.status == "triggered" and level.pages and not paging_started:
                incident.epoch += 1  # the deferred (or absent) first page gives way to one armed now
                arm_paging(store, directory, incident, now, announce=True)
            engage(store, directory, incident, now, why=f" (raised from {previous.label})")
        elif not level.pages:
            incident.epoch += 1  # pending escalation timers go stale
            store.append(incident.id, [TimelineEntry(
                now, "paging.stopped", f"{severity.label} is tracked only: no further pages")])
    arm_clocks(store, incident, now)


def type_changed(store: Store, directory: Directory, incident: Incident, previous: str, now: datetime) -> None:
    """What follows a type change (`playbook.change_type`): legal engaged for security, clocks re-planned."""
    if incident.incident_type == "security" and previous != "security":
        engage_legal(store, directory, incident, now)
    arm_clocks(store, incident, now)
