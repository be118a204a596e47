"""What a drill found: the facilitator's expectations, met or not, and the holes in the process it
ran into (no coverage at that hour, one person holding a rotation, an on-call person away with no
cover, a client without contacts, a service without runbook or fallback)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from onduty.app.ports import Store
from onduty.app.schedules import coverage_gaps
from onduty.domain.model import Directory
from onduty.domain.readiness import Check, client_roles, coverage, human, rotations
from onduty.sim.scenario import Scenario

if TYPE_CHECKING:
    from onduty.sim.exercise import IncidentResult, PageRecord


def _within(name: str, title: str, limit: timedelta | None, took: timedelta | None, fix: str) -> Check | None:
    if limit is None:
        return None
    if took is None:
        return Check(name, f"{title} within {human(limit)}", True, False, ["it never happened during the drill"], fix)
    ok = took <= limit
    return Check(name, f"{title} within {human(limit)}", True, ok, [f"took {human(took)}"], "" if ok else fix)


def expectations(scenario: Scenario, start: datetime, incidents: Sequence[IncidentResult],
                 pages: Sequence[PageRecord]) -> list[Check]:
    """Each expectation of the scenario as a passed or failed check, timed from the first declaration."""
    expect = scenario.expect
    first = incidents[0].incident if incidents else None
    declared = first.created_at if first else start
    first_page = min((p.at for p in pages if p.escalation), default=None)  # the on-call, by the policy
    found = [
        _within("first_page", "First page after the declaration", expect.first_page_within,
                first_page - declared if first_page else None,
                "check the service's escalation policy and the coverage hours of its client"),
        _within("acknowledged", "Acknowledged after the declaration", expect.acknowledged_within,
                first.acknowledged_at - declared if first and first.acknowledged_at else None,
                "the on-call person must acknowledge within 15 minutes: check their contact methods"),
        _within("resolved", "Resolved after the declaration", expect.resolved_within,
                first.resolved_at - declared if first and first.resolved_at else None,
                "use the service's fallback first; restore before you look for the root cause"),
    ]
    checks = [c for c in found if c is not None]
    for name in expect.clocks_met:
        states = [(r.incident.id, clock.state) for r in incidents for clock in r.clocks if clock.name == name]
        ok = bool(states) and all(state == "met" for _, state in states)
        checks.append(Check(f"clock_{name}", f"The {name.replace('_', ' ')} clock met", True, ok,
                            [f"incident {i}: {state}" for i, state in states] or ["no incident had this clock"],
                            "" if ok else f"see who owns the {name.replace('_', ' ')} clock and remind them earlier"))
    paged = {p.person_id for p in pages}
    for person in expect.paged:
        checks.append(Check(f"paged_{person}", f"{person} was paged", True, person in paged,
                            [f"paged: {', '.join(sorted(paged)) or 'nobody'}"],
                            "" if person in paged else f"check why {person} was not reached: rotation, time off"))
    for person in expect.not_paged:
        checks.append(Check(f"not_paged_{person}", f"{person} was not paged", True, person not in paged,
                            [f"paged: {', '.join(sorted(paged)) or 'nobody'}"],
                            "" if person not in paged else f"{person} should not be paged here: check time off"))
    return checks


def findings(store: Store, directory: Directory, services: set[str], window: tuple[datetime, datetime],
             incidents: Sequence[IncidentResult], pages: Sequence[PageRecord], zone: str = "UTC") -> list[Check]:
    """The holes the drill ran into, for the services and clients it touched."""
    local = ZoneInfo(zone)
    clients = {directory.services[s].client_id for s in services if s in directory.services}
    scoped = Directory(directory.people, {k: v for k, v in directory.clients.items() if k in clients},
                       directory.services, directory.schedules, directory.policies, directory.severity)
    gaps = [g for client in sorted(clients) for g in coverage_gaps(store, window[0], window[1], client)]
    checks = [coverage(gaps, window[0], "the drill's hours"), rotations(_touched_schedules(directory, services)),
              client_roles(scoped)]
    unreachable = [(r.incident.id, e) for r in incidents for e in r.timeline
                   if e.kind in ("page.unreachable", "paging.deferred", "page.undeliverable")]
    covered = [(r.incident.id, e) for r in incidents for e in r.timeline if e.kind == "page.queued"
               and "covering for" in e.message]
    checks.append(Check(
        "reachable", "Every page reached someone at once", True, not unreachable,
        [f"incident {i}, {e.at.astimezone(local):%H:%M}: {e.message}" for i, e in unreachable]
        + [f"incident {i}, {e.at.astimezone(local):%H:%M}: {e.message}" for i, e in covered],
        "give the people on time off a cover (an override) and every person a working contact method"
        if unreachable else ""))
    missed = [f"incident {r.incident.id}: {c.name.replace('_', ' ')} due {c.due.astimezone(local):%H:%M} "
              f"{c.state.replace('_', ' ')}"
              for r in incidents for c in r.clocks if c.state in ("missed", "met_late")]
    checks.append(Check("clocks", "Every clock met (acknowledge, client notice, updates, resolve)", True, not missed,
                        missed or ["every clock that fell due was met"],
                        "give each clock an owner who is reminded before it is due" if missed else ""))
    thin = []
    for service_id in sorted(services):
        service = directory.services.get(service_id)
        if service is None:
            continue
        missing = [what for what, have in (("runbook", service.runbooks), ("fallback", service.fallback)) if not have]
        if missing:
            thin.append(f"{service.name}: no {' and no '.join(missing)}")
    checks.append(Check("runbooks_fallbacks", "Every service involved has a runbook and a fallback", False,
                        not thin, thin or [f"{', '.join(sorted(services))}: runbook and fallback present"],
                        "write the missing runbooks and define a fallback for each service" if thin else ""))
    if not pages and incidents:
        checks.append(Check("paged_anyone", "Someone was paged", True, False,
                            ["the drill's incidents paged nobody"], "check the severity policy's paging"))
    return checks


def _touched_schedules(directory: Directory, services: set[str]) -> Directory:
    """The plan cut down to the schedules the services' escalation policies use."""
    used: set[str] = set()
    for service_id in services:
        service = directory.services.get(service_id)
        policy = directory.policies.get(service.escalation_policy_id) if service else None
        for level in policy.levels if policy else ():
            used |= {t.id for t in level.targets if t.kind == "schedule"}
    return Directory(directory.people, directory.clients, directory.services,
                     {k: v for k, v in directory.schedules.items() if k in used}, directory.policies)


def messages_check(refused: Sequence[tuple[datetime, str, list[str]]], zone: str) -> Check:
    """Client messages the drill tried to send: a template or its fields that fail the check is a hole."""
    local = ZoneInfo(zone)
    evidence = [f"{at.astimezone(local):%H:%M} {kind} notice refused: {'; '.join(found)}"
                for at, kind, found in refused]
    return Check("messages", "Every client message passed its check", True, not refused,
                 evidence or ["every client message the drill sent passed the check"],
                 "fix the template in the plan's communications section, or fill the fields it needs"
                 if refused else "")
