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
