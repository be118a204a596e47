"""Checks across the plan that one field alone cannot make: ids exist, are unique, files exist."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from onduty.plan.schema import Plan

Problem = tuple[tuple[int | str, ...], str]


def _duplicates(section: str, ids: Iterable[str]) -> list[Problem]:
    seen: set[str] = set()
    found: list[Problem] = []
    for index, ident in enumerate(ids):
        if ident in seen:
            found.append(((section, index, "id"), f"id {ident!r} is used twice in {section}"))
        seen.add(ident)
    return found


def _unknown(loc: tuple[int | str, ...], ident: str | None, known: set[str], what: str) -> list[Problem]:
    if ident is None or ident in known:
        return []
    options = ", ".join(sorted(known)) or "none defined"
    return [(loc, f"unknown {what} {ident!r}; expected one of: {options}")]


def check_references(plan: Plan, base: Path) -> list[Problem]:
    """Every problem as (location, message); empty when the plan hangs together."""
    people = {p.id for p in plan.people}
    clients = {c.id for c in plan.clients}
    services = {s.id for s in plan.services}
    schedules = {s.id for s in plan.schedules}
    policies = {p.id for p in plan.escalation_policies}
    problems: list[Problem] = []
    for section in ("people", "clients", "services", "schedules", "escalation_policies"):
        problems += _duplicates(section, (item.id for item in getattr(plan, section)))
    for i, client in enumerate(plan.clients):
        for role in ("account_manager", "delivery_lead", "tech_lead"):
            problems += _unknown(("clients", i, role), getattr(client, role), people, "person")
    for i, service in enumerate(plan.services):
        problems += _unknown(("services", i, "client"), service.client, clients, "client")
        problems += _unknown(
            ("services", i, "escalation_policy"), service.escalation_policy, policies, "escalation policy"
        )
        for j, dep in enumerate(service.depends_on):
            problems += _unknown(("services", i, "depends_on", j), dep, services, "service")
        for j, person in enumerate(service.qualified):
            problems += _unknown(("services", i, "qualified", j), person, people, "person")
        for j, runbook in enumerate(service.runbooks):
            if not (base / runbook).is_file():
                problems.append((("services", i, "runbooks", j), f"runbook file {runbook!r} not found"))
    problems += _alerting_references(plan, clients, services)
    problems += _runbook_references(plan, services, base)
    problems += _duplicates("feeds", (f.id for f in plan.feeds))
    for i, feed in enumerate(plan.feeds):
        problems += _unknown(("feeds", i, "service"), feed.service, services, "service")
    problems += _comms_references(plan, people)
    for i, schedule in enumerate(plan.schedules):
        for j, layer in enumerate(schedule.layers):
            for k, member in enumerate(layer.members):
                problems += _unknown(("schedules", i, "layers", j, "members", k), member, people, "person")
    for i, policy in enumerate(plan.escalation_policies):
        for j, level in enumerate(policy.levels):
            for k, target in enumerate(level.targets):
                loc: tuple[int | str, ...] = ("escalation_policies", i, "levels", j, "targets", k)
                problems += _unknown((*loc, "schedule"), target.schedule, schedules, "schedule")
                problems += _unknown((*loc, "person"), target.person, people, "person")
    return problems


def _alerting_references(plan: Plan, clients: set[str], services: set[str]) -> list[Problem]:
    """Routing, classification and maintenance windows name real services and clients; heartbeat ids are unique."""
    problems: list[Problem] = []
    for i, rule in enumerate(plan.routing):
        problems += _unknown(("routing", i, "service"), rule.service, services, "service")
        for j, ident in enumerate(rule.from_services):
            problems += _unknown(("routing", i, "from_services", j), ident, services, "service")
    for i, cls in enumerate(plan.classification):
        for j, ident in enumerate(cls.services):
            problems += _unknown(("classification", i, "services", j), ident, services, "service")
    for i, window in enumerate(plan.maintenance_windows):
        for j, ident in enumerate(window.services):
            problems += _unknown(("maintenance_windows", i, "services", j), ident, services, "service")
        for j, ident in enumerate(window.clients):
            problems += _unknown(("maintenance_windows", i, "clients", j), ident, clients, "client")
    problems += _duplicates("maintenance_windows", (w.id for w in plan.maintenance_windows))
    seen: set[str] = set()
    for i, service in enumerate(plan.services):
        for j, check in enumerate(service.heartbeats):
            if check.id in seen:
                problems.append((("services", i, "heartbeats", j, "id"), f"heartbeat id {check.id!r} is used twice"))
            seen.add(check.id)
        names = [d.id for d in service.detectors]
        problems += [(("services", i, "detectors", j, "id"), f"detector id {ident!r} is used twice in {service.id}")
                     for j, ident in enumerate(names) if ident in names[:j]]
    return problems


def _runbook_references(plan: Plan, services: set[str], base: Path) -> list[Problem]:
    """The plan's `runbooks` section names files that exist and services the plan defines."""
    problems: list[Problem] = []
    for i, link in enumerate(plan.runbooks):
        if not (base / link.file).is_file():
            problems.append((("runbooks", i, "file"), f"runbook file {link.file!r} not found"))
        for j, ident in enumerate(link.services):
            problems += _unknown(("runbooks", i, "services", j), ident, services, "service")
    return problems


def _comms_references(plan: Plan, people: set[str]) -> list[Problem]:
    """Notification rules use contact methods the person has; message recipients are real people."""
    problems: list[Problem] = []
    for i, person in enumerate(plan.people):
        for j, rule in enumerate(person.notification_rules):
            if rule.contact >= len(person.contact):
                problems.append((("people", i, "notification_rules", j, "contact"),
                                 f"contact {rule.contact} does not exist: {person.id} has {len(person.contact)} "
                                 f"contact method(s), numbered from 0"))
    for sev, recipients in plan.communications.recipients.items():
        for j, ident in enumerate(recipients.people):
            problems += _unknown(("communications", "recipients", sev, "people", j), ident, people, "person")
    return problems
