"""Schedules at work: shifts and gaps with the live overrides, overrides and swaps recorded with who made them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from onduty.app.ports import NotFound, Store, Transactions
from onduty.domain.coverage import Gap, gaps
from onduty.domain.model import Coverage, Directory, Override, Schedule
from onduty.domain.schedules import Shift, shifts

LONGEST_SHIFT = timedelta(days=62)
LONGEST_OVERRIDE = timedelta(days=92)


def schedule_or_404(directory: Directory, schedule_id: str, client_id: str | None = None) -> Schedule:
    schedule = directory.schedules.get(schedule_id)
    if schedule is None or (client_id is not None and schedule_id not in schedules_of_client(directory, client_id)):
        known = ", ".join(sorted(directory.schedules)) if client_id is None else "see GET /api/v1/schedules"
        raise NotFound(f"schedule {schedule_id!r} not found; known schedules: {known or 'none'}")
    return schedule


def clients_of_schedule(directory: Directory) -> dict[str, set[str]]:
    """Which clients each schedule answers for, through services → policies → schedule targets."""
    served: dict[str, set[str]] = {s: set() for s in directory.schedules}
    for service in directory.services.values():
        policy = directory.policies.get(service.escalation_policy_id)
        for level in policy.levels if policy else ():
            for target in level.targets:
                if target.kind == "schedule" and target.id in served:
                    served[target.id].add(service.client_id)
    return served


def schedules_of_client(directory: Directory, client_id: str) -> set[str]:
    return {s for s, clients in clients_of_schedule(directory).items() if client_id in clients}


def schedule_shifts(store: Store, schedule_id: str, start: datetime, end: datetime,
                    client_id: str | None = None) -> list[Shift]:
    """The schedule's owners over [start, end), overrides included."""
    if end <= start:
        raise ValueError("the end of the range must come after its start")
    directory = store.directory()
    schedule = schedule_or_404(directory, schedule_id, client_id)
    return shifts(schedule, directory.people, start, end, store.overrides(schedule_id, start, end))


def coverage_of(directory: Directory, client_id: str) -> Coverage:
    client = directory.clients[client_id]
    return client.coverage or Coverage(client.time_zone)


def coverage_gaps(store: Store, start: datetime, end: datetime, client_id: str | None = None) -> list[Gap]:
    """Gaps in the first level of every service's policy, inside its client's coverage hours,
    counting only the people qualified for the service. Services that share all three share gaps."""
    directory = store.directory()
    checks: set[tuple[str, str, tuple[str, ...]]] = set()
    for service in directory.services.values():
        policy = directory.policies.get(service.escalation_policy_id)
        if policy is None or not policy.levels or client_id not in (None, service.client_id):
            continue
        for target in policy.levels[0].targets:
            if target.kind == "schedule" and target.id in directory.schedules:
                checks.add((target.id, service.client_id, tuple(sorted(service.qualified))))
    found: list[Gap] = []
    for schedule_id, client, qualified in sorted(checks):
        live = store.overrides(schedule_id, start, end)
        found += gaps(directory.schedules[schedule_id], directory.people, start, end,
                      coverage_of(directory, client), live, qualified)
    unique = {(g.schedule_id, g.start, g.end, g.reason): g for g in found}
    return sorted(unique.values(), key=lambda g: (g.start, g.schedule_id))


@dataclass(frozen=True)
class OverrideRequest:
    schedule_id: str
    person_id: str
    start: datetime
    end: datetime
    replaces: str | None = None
    reason: str = "override"


def _check(directory: Directory, request: OverrideRequest, now: datetime) -> None:
    for who in filter(None, (request.person_id, request.replaces)):
        if who not in directory.people:
            raise ValueError(f"person {who!r} is not in the plan; known: {', '.join(sorted(directory.people))}")
    if request.end <= request.start:
        raise ValueError("an override must end after it starts")
    if request.end <= now:
        raise ValueError("that override would end in the past; pick an end time after now")
    if request.end - request.start > LONGEST_OVERRIDE:
        raise ValueError("an override may span at most 92 days; change the rotation in the plan instead")


def create_override(txs: Transactions, request: OverrideRequest, by: str, now: datetime,
                    client_id: str | None = None) -> Override:
    """Record that someone covers a span of a schedule (for one person, or for whoever is on call)."""
    with txs() as store:
        directory = store.directory()
        schedule_or_404(directory, request.schedule_id, client_id)
        _check(directory, request, now)
        override = Override(request.schedule_id, request.person_id, request.start, request.end,
                            request.replaces, by, request.reason)
        new_id = store.add_override(override, "override", None, now)
        store.record_admin_action(now, by, "override.created", client_id, f"override {new_id}", {
            "schedule": request.schedule_id, "person": request.person_id, "replaces": request.replaces,
            "start": request.start.isoformat(), "end": request.end.isoformat()})
    return Override(**{**override.__dict__, "id": new_id})


def delete_override(txs: Transactions, schedule_id: str, override_id: int, by: str, now: datetime,
                    client_id: str | None = None) -> None:
    with txs() as store:
        schedule_or_404(store.directory(), schedule_id, client_id)
        if store.delete_override(override_id, by, now) != schedule_id:
            raise NotFound(f"override {override_id} not found on schedule {schedule_id!r}")
        store.record_admin_action(now, by, "override.deleted", client_id, f"override {override_id}",
                                  {"schedule": schedule_id})


def _shift_holding(store: Store, schedule_id: str, at: datetime) -> Shift:
    around = schedule_shifts(store, schedule_id, at - LONGEST_SHIFT, at + LONGEST_SHIFT)
    found = next(s for s in around if s.start <= at < s.end)
    if found.person_id is None:
        raise ValueError(f"nobody is on call at {at.isoformat()} ({found.gap_reason}); nothing to swap")
    return found


def swap_shifts(txs: Transactions, schedule_id: str, first_at: datetime, second_at: datetime, by: str,
                now: datetime, client_id: str | None = None) -> tuple[Override, Override]:
    """Two people trade the shifts holding `first_at` and `second_at`: two overrides, one swap."""
    with txs() as store:
        schedule_or_404(store.directory(), schedule_id, client_id)
        first, second = _shift_holding(store, schedule_id, first_at), _shift_holding(store, schedule_id, second_at)
        if first.person_id == second.person_id:
            raise ValueError(f"both times fall in shifts of {first.person_id}; pick shifts of two people")
        if first.end <= now or second.end <= now:
            raise ValueError("a shift that has already ended cannot be swapped")
        group = uuid.uuid4().hex
        made = []
        for shift, taker in ((first, second.person_id), (second, first.person_id)):
            assert shift.person_id is not None and taker is not None
            override = Override(schedule_id, taker, max(shift.start, now), shift.end, shift.person_id, by,
                                f"swap with {shift.person_id}")
            made.append(Override(**{**override.__dict__, "id": store.add_override(override, "swap", group, now)}))
        store.record_admin_action(now, by, "shifts.swapped", client_id, f"swap {group}", {
            "schedule": schedule_id, "first": first_at.isoformat(), "second": second_at.isoformat()})
    return made[0], made[1]
