"""The minimum viable incident process (SPEC §9), graded: each item passed or failed, with the evidence
and the next step. `onduty doctor` grades the plan and the database; a tabletop exercise reuses the
same findings for the part of the plan it touched.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from onduty.domain.coverage import Gap
from onduty.domain.model import Directory
from onduty.domain.severity import Severity

TABLETOP_EVERY = timedelta(days=92)  # a quarter
PLAN_REVIEW_EVERY = timedelta(days=183)  # six months
GAP_HORIZON = timedelta(days=30)
COMMON_TYPES = ("model_degradation", "pipeline_failure", "api_availability")
WATCHED_KINDS = {"model", "pipeline", "api", "feed"}  # a dashboard may go unwatched


@dataclass(frozen=True)
class Check:
    """One item of the grade. `must` items fail `onduty doctor`; the others lower the score."""

    id: str
    title: str
    must: bool
    passed: bool
    evidence: list[str] = field(default_factory=list)
    next_step: str = ""


@dataclass(frozen=True)
class Facts:
    """What the grade reads beside the plan: the database's side of readiness."""

    now: datetime
    gaps: Sequence[Gap] = ()
    alert_sources: Mapping[str, Collection[str]] = field(default_factory=dict)  # service → how it is watched
    drills: Sequence[datetime] = ()
    plan_reviewed_at: datetime | None = None
    incident_types: Mapping[str, int] = field(default_factory=dict)  # type → incidents of the past year
    runbook_types: Mapping[str, Collection[str]] = field(default_factory=dict)  # type → runbook files for it


def human(delta: timedelta) -> str:
    """A duration as people say it: 45 s, 6 min 30 s, 2 h 5 min, 3 days."""
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min" + (f" {seconds % 60} s" if seconds % 60 else "")
    if seconds < 86400:
        return f"{seconds // 3600} h" + (f" {seconds % 3600 // 60} min" if seconds % 3600 // 60 else "")
    return f"{seconds // 86400} days" if seconds % 86400 == 0 else f"{seconds / 86400:.1f} days"


def _fmt(at: datetime) -> str:
    return at.strftime("%a %d %b %H:%M %Z").strip()


def severity_levels(directory: Directory) -> Check:
    missing, lines = [], []
    for sev in Severity:
        level = directory.severity.level(sev)
        lines.append(f"{sev.label}: paging {level.paging}"
                     + (f", first notice in {level.first_notice}" if level.first_notice else ""))
        if sev <= Severity.SEV2 and (not level.pages or level.first_notice is None):
            missing.append(sev.label)
    return Check("severity_levels", "Severity levels defined, with who is engaged and when the client hears",
                 True, not missing, lines,
                 f"give {', '.join(missing)} paging and a first client notice in the plan's severity section"
                 if missing else "")


def escalation_charts(directory: Directory) -> Check:
    evidence, broken = [], []
    for client in sorted(directory.clients.values(), key=lambda c: c.id):
        services = [s for s in directory.services.values() if s.client_id == client.id]
        if not services:
            broken.append(client.id)
            evidence.append(f"{client.name}: no services, so no escalation chart")
            continue
        for service in sorted(services, key=lambda s: s.id):
            policy = directory.policies.get(service.escalation_policy_id)
            if policy is None or not policy.levels:
                broken.append(client.id)
                evidence.append(f"{client.name} / {service.name}: no escalation policy")
            elif len(policy.levels) < 2:
                broken.append(client.id)
                evidence.append(f"{client.name} / {service.name}: policy {policy.id} has one level, nobody behind it")
            else:
                evidence.append(f"{client.name} / {service.name}: {policy.id}, {len(policy.levels)} levels")
    return Check("escalation_charts", "An escalation chart per client (at least two levels per service)", True,
                 not broken, evidence,
                 f"add a second escalation level for {', '.join(sorted(set(broken)))}; "
                 "print the chart with `onduty export chart CLIENT`" if broken else "")


def rotations(directory: Directory) -> Check:
    evidence, single = [], []
    for schedule in sorted(directory.schedules.values(), key=lambda s: s.id):
        for layer in schedule.layers:
            members = sorted(set(layer.members))
            if len(members) < 2:
                single.append(f"{schedule.id}/{layer.name}")
                evidence.append(f"{schedule.id} layer {layer.name}: only {', '.join(members)} holds it")
            else:
                evidence.append(f"{schedule.id} layer {layer.name}: {len(members)} people")
    return Check("rotations", "Every rotation has at least two people", True, not single, evidence,
                 f"add a second member to {', '.join(single)}: one person cannot be on call for ever"
                 if single else "")


def coverage(gaps: Sequence[Gap], now: datetime, span: str = "the next 30 days") -> Check:
    evidence = [f"{g.schedule_id}: {_fmt(g.start)} → {_fmt(g.end)} ({g.reason})" for g in gaps[:20]]
    if len(gaps) > 20:
        evidence.append(f"… and {len(gaps) - 20} more")
    return Check("coverage_gaps", f"No coverage gaps in {span}", True, not gaps,
                 evidence or [f"every coverage hour of {span} from {_fmt(now)} has someone to page"],
                 "cover each gap with an override (`onduty override create …`) or another layer"
                 if gaps else "")


def client_roles(directory: Directory) -> Check:
    evidence, missing = [], []
    for client in sorted(directory.clients.values(), key=lambda c: c.id):
        holes = [role for role, person in (("account manager", client.account_manager),
                                           ("delivery lead", client.delivery_lead))
                 if person not in directory.people]
        if not client.contacts:
            holes.append("client contact")
        elif not any(c.email or c.phone for c in client.contacts):
            holes.append("a client contact with an e-mail or phone")
        if holes:
            missing.append(client.id)
            evidence.append(f"{client.name}: missing {', '.join(holes)}")
        else:
            evidence.append(f"{client.name}: account manager {client.account_manager}, delivery lead "
                            f"{client.delivery_lead}, {len(client.contacts)} client contact(s)")
    return Check("client_roles", "Every client has an account manager, a delivery lead and a client contact",
                 True, not missing, evidence,
                 f"name the missing people for {', '.join(missing)} in the plan's clients section" if missing else "")


def alerting(directory: Directory, sources: Mapping[str, Collection[str]]) -> Check:
    evidence, blind = [], []
    for service in sorted(directory.services.values(), key=lambda s: s.id):
        if service.kind not in WATCHED_KINDS:
            continue
        how = sorted(sources.get(service.id, ()))
        if how:
            evidence.append(f"{service.name} ({service.kind}): {', '.join(how)}")
        else:
            blind.append(service.id)
            evidence.append(f"{service.name} ({service.kind}): nothing sends alerts for it")
    return Check("alerting", "Alerting on the critical failure conditions of every model, pipeline, API and feed",
                 True, not blind, evidence,
                 f"create an integration key (`onduty keys create --service {blind[0]}`) and point a monitor at it, "
                 "or add a heartbeat for a scheduled job" if blind else "")


def runbooks(directory: Directory, facts: Facts) -> Check:
    counted = sorted(facts.incident_types.items(), key=lambda kv: (-kv[1], kv[0]))
    top = [t for t, _ in counted if t != "other"][:3]
    top += [t for t in COMMON_TYPES if t not in top][: 3 - len(top)]
    kinds = {"model_degradation": {"model"}, "pipeline_failure": {"pipeline", "feed"}, "api_availability": {"api"}}
    evidence, uncovered = [], []
    for incident_type in top:
        files = set(facts.runbook_types.get(incident_type, ()))
        files |= {book for s in directory.services.values() if s.kind in kinds.get(incident_type, set())
                  for book in s.runbooks}
        if files:
            evidence.append(f"{incident_type}: {', '.join(sorted(files))}")
        else:
            uncovered.append(incident_type)
            evidence.append(f"{incident_type}: no runbook")
    fix = f"write a runbook in runbooks/ for {', '.join(uncovered)} and link it in the plan" if uncovered else ""
    return Check("runbooks", "Runbooks for the three most common incident types", True, not uncovered, evidence, fix)


def tabletop(facts: Facts) -> Check:
    last = max(facts.drills, default=None)
    recent = last is not None and facts.now - last <= TABLETOP_EVERY
    evidence = [f"last drill {_fmt(last)}" if last else "no drill recorded"]
    return Check("tabletop", "A tabletop exercise in the last quarter", False, recent, evidence,
                 "" if recent else "run one: `onduty exercise run examples/agency/exercises/founding-story.yaml`")


def plan_review(facts: Facts) -> Check:
    last = facts.plan_reviewed_at
    recent = last is not None and facts.now - last <= PLAN_REVIEW_EVERY
    evidence = [f"plan last reviewed {last:%Y-%m-%d}" if last else "no plan review recorded"]
    return Check("plan_review", "A plan review in the last six months", False, recent, evidence,
                 "" if recent else "review the plan with the team, set `organization.reviewed: YYYY-MM-DD` "
                 "and apply it")


def grade(directory: Directory, facts: Facts) -> list[Check]:
    """Every item of the minimum viable process, must-haves first."""
    return [
        severity_levels(directory), escalation_charts(directory), rotations(directory),
        coverage(facts.gaps, facts.now), client_roles(directory), alerting(directory, facts.alert_sources),
        runbooks(directory, facts), tabletop(facts), plan_review(facts),
    ]


def score(checks: Sequence[Check]) -> int:
    """0 to 100: a must-have weighs three times a should-have."""
    weights = [(3 if c.must else 1, c.passed) for c in checks]
    total = sum(w for w, _ in weights)
    return round(100 * sum(w for w, ok in weights if ok) / total) if total else 100


def fix_first(checks: Sequence[Check]) -> list[Check]:
    """Failed items, must-haves first, in the order of the list."""
    return [c for c in checks if not c.passed and c.must] + [c for c in checks if not c.passed and not c.must]
