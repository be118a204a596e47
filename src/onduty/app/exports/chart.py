"""A one-page escalation chart per client: for each severity, the deadlines and who is paged or told,
by name, and this week's on-call for each of the client's services, level by level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from onduty.app.exports.text import coverage_hours, duration, local_time, name_of, render
from onduty.app.ports import NotFound, Store
from onduty.app.schedules import coverage_of
from onduty.domain.model import Client, Directory, Person, Service, Target
from onduty.domain.schedules import shifts
from onduty.domain.severity import Severity, SeverityLevel

WEEK = timedelta(days=7)
REVIEW_WORDS = {"mandatory": "mandatory", "recommended": "expected", "optional": "optional", "none": "none"}


@dataclass(frozen=True)
class Holder:
    """Who holds a target for a span of the week (`name` is None for a gap, with `note` saying why)."""

    name: str | None
    span: str
    note: str = ""


@dataclass(frozen=True)
class TargetWeek:
    label: str
    holders: tuple[Holder, ...]


@dataclass(frozen=True)
class LevelWeek:
    level: int
    ack_timeout: timedelta
    targets: tuple[TargetWeek, ...]


@dataclass(frozen=True)
class ServiceWeek:
    """Services that escalate alike (same policy, same qualified people) share one table."""

    services: tuple[Service, ...]
    levels: tuple[LevelWeek, ...]


@dataclass(frozen=True)
class SeverityRow:
    level: SeverityLevel
    first_notice: str
    updates: str
    monitor: str
    review: str
    paged: str
    notified: str


@dataclass(frozen=True)
class EscalationChart:
    client: Client
    coverage: str
    start: datetime
    end: datetime
    severities: tuple[SeverityRow, ...]
    services: tuple[ServiceWeek, ...]


def _span(start: datetime, end: datetime, zone: str) -> str:
    return f"{local_time(start, zone)} → {local_time(end, zone)}"


def _person_week(person: Person | None, target_id: str, start: datetime, end: datetime, zone: str) -> TargetWeek:
    if person is None:
        return TargetWeek(target_id, (Holder(None, _span(start, end, zone), "not in the plan"),))
    away = [t for t in person.time_off if t.end > start and t.start < end]
    note = "; ".join(f"away {_span(max(t.start, start), min(t.end, end), zone)} ({t.reason})" for t in away)
    return TargetWeek(f"{person.name} (directly)", (Holder(person.name, "all week", note),))


def _target_week(store: Store, directory: Directory, target: Target, service: Service, start: datetime,
                 end: datetime, zone: str) -> TargetWeek:
    if target.kind == "person":
        return _person_week(directory.people.get(target.id), target.id, start, end, zone)
    schedule = directory.schedules.get(target.id)
    if schedule is None:
        return TargetWeek(target.id, (Holder(None, _span(start, end, zone), "schedule is not in the plan"),))
    holders = []
    for shift in shifts(schedule, directory.people, start, end, store.overrides(schedule.id, start, end),
                        service.qualified):
        note = (f"covering for {name_of(directory, shift.covering_for)}: {shift.cover_reason}"
                if shift.covering_for else (shift.gap_reason or ""))
        name = name_of(directory, shift.person_id) if shift.person_id else None
        holders.append(Holder(name, _span(shift.start, shift.end, zone), note))
    return TargetWeek(schedule.name, tuple(holders))


def _service_week(store: Store, directory: Directory, alike: tuple[Service, ...], start: datetime, end: datetime,
                  zone: str) -> ServiceWeek:
    service = alike[0]
    policy = directory.policies.get(service.escalation_policy_id)
    levels = tuple(
        LevelWeek(n, level.ack_timeout,
                  tuple(_target_week(store, directory, t, service, start, end, zone) for t in level.targets))
        for n, level in enumerate(policy.levels if policy else (), 1)
    )
    return ServiceWeek(alike, levels)


def _first_level_names(services: tuple[ServiceWeek, ...]) -> str:
    names: dict[str, None] = {}
    for week in services:
        for target in week.levels[0].targets if week.levels else ():
            names.update((h.name, None) for h in target.holders if h.name)
    return ", ".join(names) or "nobody (no level 1 on call this week)"


def _severity_row(level: SeverityLevel, directory: Directory, client: Client, on_call: str, hours: str) -> SeverityRow:
    am = f"{name_of(directory, client.account_manager)} (account manager)"
    dl = f"{name_of(directory, client.delivery_lead)} (delivery lead)"
    tl = f"{name_of(directory, client.tech_lead)} (tech lead)" if client.tech_lead else None
    when = "at any hour" if level.severity == Severity.SEV1 or hours == "24x7" else \
        f"at once in coverage hours ({hours}); outside them at the next coverage start"
    if level.paging == "all_hands":
        paged, notified = f"All hands, {when}: level-1 on call ({on_call}), " + ", ".join(filter(None, (tl, dl, am))), \
            "the client, by the first-notice deadline"
    elif level.paging == "on_call":
        paged, notified = f"Level-1 on call ({on_call}), {when}", f"{am} and {dl}"
    elif level.paging == "assess":
        paged = f"Level-1 on call ({on_call}) assesses, in coverage hours only ({hours}); no night page"
        notified = "the client only if marked relevant"
    else:
        paged, notified = "Nobody is paged: tracked only", "nobody"
    review = REVIEW_WORDS[level.review]
    if level.review_due is not None and level.review != "none":
        review += f", due {duration(level.review_due)} after resolution"
    return SeverityRow(
        level,
        f"{duration(level.first_notice)} after declaration" if level.first_notice else "—",
        f"every {duration(level.update_every)} until resolved" if level.update_every else "—",
        f"{duration(level.monitor_for)} after the fix" if level.monitor_for else "—",
        review if level.review != "none" else "—",
        paged, notified,
    )


def escalation_chart(store: Store, client_id: str, now: datetime) -> EscalationChart:
    """The chart for one client, with the on-call of the 7 days from `now` (times in the client's zone)."""
    directory = store.directory()
    client = directory.clients.get(client_id)
    if client is None:
        known = ", ".join(sorted(directory.clients)) or "none"
        raise NotFound(f"client {client_id!r} not found; known clients: {known}")
    start, end = now, now + WEEK
    alike: dict[tuple[str, tuple[str, ...]], list[Service]] = {}
    for s in sorted(directory.services.values(), key=lambda s: s.id):
        if s.client_id == client_id:
            alike.setdefault((s.escalation_policy_id, s.qualified), []).append(s)
    services = tuple(_service_week(store, directory, tuple(group), start, end, client.time_zone)
                     for group in alike.values())
    hours = coverage_hours(coverage_of(directory, client_id))
    on_call = _first_level_names(services)
    rows = tuple(_severity_row(directory.severity.level(sev), directory, client, on_call, hours) for sev in Severity)
    return EscalationChart(client, hours, start, end, rows, services)


def chart_html(chart: EscalationChart) -> str:
    """One printable landscape page, inline CSS, no scripts or external assets, every value escaped."""
    return render("chart.html", chart=chart)
