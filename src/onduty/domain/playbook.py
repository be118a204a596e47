"""The five-step playbook (SPEC §5), derived afresh from the plan and the incident every time it is read.

Nothing is instantiated at declaration: the checklist is a pure function of the incident's type and
severity, its service and what is known about it (changes, dependents, workarounds, runbooks); only
the ticks are stored. Item ids are stable, so a tick keeps pointing at its item as the list grows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from onduty.domain.changes import Change
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.model import Service
from onduty.domain.severity import Severity, SeverityLevel, SeverityPolicy

INCIDENT_TYPES = ("model_degradation", "pipeline_failure", "api_availability", "security", "other")
ItemKind = Literal["check", "question", "change", "fallback", "rollback", "workaround"]
StepState = Literal["upcoming", "running", "overrun", "done", "done_late", "waiting"]

ASSESS_BOX = (timedelta(0), timedelta(minutes=15))
COMMUNICATE_BOX = (timedelta(minutes=15), timedelta(minutes=30))
CLOSE_BOX = timedelta(minutes=30)
MAX_CHANGE_ITEMS = 8

PAGING_WORDS = {
    "all_hands": "page all hands: on-call, tech lead, delivery lead and account manager",
    "on_call": "page the on-call engineer; tell the account manager and the delivery lead",
    "assess": "the on-call engineer assesses; the fix is scheduled in business hours",
    "none": "nobody is paged: track it in the team's tracker",
}


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    kind: ItemKind = "check"
    data: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Step:
    number: int
    key: str
    title: str
    items: tuple[Item, ...]
    starts: datetime | None  # None: the step waits for the resolution
    ends: datetime | None


@dataclass(frozen=True)
class Tick:
    """The latest word on one item: done or not, by whom, when, with an optional note."""

    item_id: str
    done: bool
    by: str
    at: datetime
    note: str = ""


@dataclass(frozen=True)
class Workaround:
    """A temporary measure put in during the response; listed in step 4 for removal."""

    id: int
    text: str
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class PlaybookInput:
    """Everything the checklist depends on, gathered by the caller."""

    incident: Incident
    service: Service | None
    client_name: str
    policy: SeverityPolicy
    resolve_timeout: timedelta = timedelta(minutes=30)
    changes: Sequence[Change] = ()
    dependents: Sequence[str] = ()  # services that depend on this one, nearest first
    workarounds: Sequence[Workaround] = ()
    runbook_titles: Sequence[str] = ()
    legal_contacts: Sequence[str] = ()


@dataclass(frozen=True)
class StepView:
    step: Step
    state: StepState
    done: int
    total: int
    left: timedelta | None  # until the timebox ends (negative: overrun); None when not timed yet


def _ago(change: Change, declared: datetime) -> str:
    minutes = int((declared - change.occurred_at).total_seconds() // 60)
    if minutes < 0:
        return f"{-minutes} min after declaration"
    return f"{minutes} min before" if minutes < 120 else f"{minutes // 60} h before"


def assessment_questions(policy: SeverityPolicy) -> list[Item]:
    """One yes/no question per level, from the policy's own definitions; a yes suggests that level."""
    items = []
    for severity in sorted(policy.levels):
        level = policy.level(severity)
        text = f"Is it true that: {level.meaning}? (suggests {severity.label})"
        items.append(Item(f"assess.q.sev{int(severity)}", text, "question", {"suggests": severity.label}))
    return items


def _assess(p: PlaybookInput, level: SeverityLevel) -> list[Item]:
    service, incident = p.service, p.incident
    name = service.name if service else incident.service_id
    kind = f" ({service.kind})" if service else ""
    items = [
        Item("assess.acknowledge", "Acknowledge the page, so the escalation stops"),
        Item("assess.system", f"Confirm the affected system: {name}{kind}"
             + (f"; depending on it: {', '.join(p.dependents)}" if p.dependents else "")),
        Item("assess.clients", f"Confirm which clients are hit: {p.client_name}, and whether others share the cause"),
        Item("assess.severity",
             f"Confirm the severity (now {Severity(incident.severity).label}) with the questions below"),
        *assessment_questions(p.policy),
        Item("assess.active", "Is it still happening? Check the alert still fires and the live metric"),
    ]
    if incident.incident_type == "security":
        items.append(Item("assess.exposure",
                          "Establish what data, credentials or systems may be exposed, and since when"))
    for change in list(p.changes)[:MAX_CHANGE_ITEMS]:
        assert change.id is not None
        items.append(Item(
            f"assess.change.{change.id}",
            f"Rule out {change.service_id}: {change.summary} ({_ago(change, incident.created_at)})",
            "change",
            {"change_id": change.id, "service": change.service_id, "occurred_at": change.occurred_at.isoformat()},
        ))
    return items


def _communicate(p: PlaybookInput, level: SeverityLevel) -> list[Item]:
    items = [Item("communicate.roles", f"Engage the roles {Severity(p.incident.severity).label} calls for: "
                  + PAGING_WORDS[level.paging])]
    if level.dedicated_channel:
        items.append(Item("communicate.channel",
                          "Open the dedicated incident channel and put its link on the incident"))
    if level.first_notice is not None:
        minutes = int(level.first_notice.total_seconds() // 60)
        items.append(Item("communicate.first-notice",
                          f"Send the first client notice from the template (due {minutes} min after declaration)"))
    elif level.pages:
        items.append(Item("communicate.client-relevant",
                          "Decide whether the client needs to hear about it, and note why"))
    if p.incident.incident_type == "security":
        who = ", ".join(p.legal_contacts) or "the legal contact (none named in the plan)"
        items += [
            Item("communicate.legal", f"Engage the legal contact: {who}"),
            Item("communicate.notification-deadline",
                 "Note the legal notification deadline and who notifies whom (authorities, affected people)"),
        ]
    return items


def _fallback_item(service: Service) -> Item:
    assert service.fallback is not None
    remote = service.fallback_webhook is not None
    how = " (onduty incidents fallback calls its webhook)" if remote else " (by hand: no webhook in the plan)"
    return Item("resolve.fallback", f"Restore first, switch to the fallback: {service.fallback}{how}",
                "fallback", {"webhook": remote})


def _resolve(p: PlaybookInput) -> list[Item]:
    service, kind = p.service, p.incident.incident_type
    items: list[Item] = []
    if service is not None and service.fallback:
        items.append(_fallback_item(service))
    if kind == "model_degradation":
        items.append(Item("resolve.compare-inputs",
                          "Compare the live input distribution to the reference (feature ranges, category mix, nulls)"))
        items.append(Item("resolve.upstream-data", "Check the latest batches of the feeds the model reads"))
    elif kind == "pipeline_failure":
        items.append(Item("resolve.last-good-batch", "Hold the bad batch: point consumers back at the last good one"))
        radius = ", ".join(p.dependents) or "nothing in the plan depends on it"
        items.append(Item("resolve.blast-radius", f"Check the blast radius: {radius}",
                          data={"services": list(p.dependents)}))
        items.append(Item("resolve.source-format",
                          "Check the source for format changes: columns, types, encoding, taxonomy"))
    elif kind == "api_availability":
        items.append(Item("resolve.infrastructure",
                          "Check infrastructure health: instances or pods, load balancer, error rate and latency"))
        own = [c for c in p.changes if service is not None and c.service_id == service.id]
        if own:
            latest = own[0]
            items.append(Item("resolve.rollback", f"Roll back the recent deploy: {latest.summary} "
                              f"({_ago(latest, p.incident.created_at)})", "rollback", {"change_id": latest.id}))
    elif kind == "security":
        items += [
            Item("resolve.contain", "Contain: close the path in (block the route, disable the feature or the account)"),
            Item("resolve.revoke", "Revoke and rotate every credential and key that may be exposed"),
            Item("resolve.isolate", "Isolate affected hosts and data stores; keep logs and snapshots as evidence"),
        ]
    if p.runbook_titles:
        items.append(Item("resolve.runbook", "Follow the runbook: " + "; ".join(p.runbook_titles)))
    items += [
        Item("resolve.client-requests", "Send the client's own team what they must do, as a request with a due time"),
        Item("resolve.notes", "Write findings and actions on the timeline as you go"),
        Item("resolve.escalate", "Not restored by the end of this timebox? Escalate to the next level"),
        Item("resolve.restored", "Service restored for the client (mark the incident mitigated)"),
    ]
    return items


def _verify(p: PlaybookInput, level: SeverityLevel) -> list[Item]:
    items = [Item("verify.fix", "Verify the fix: the alerting signal and the business metric are back to normal")]
    if level.monitor_for is not None:
        minutes = int(level.monitor_for.total_seconds() // 60)
        items.append(Item("verify.monitor", f"Watch for recurrence for {minutes} min"))
    items.append(Item("verify.client-confirms", "The client confirms the resolution from their side"))
    if p.service is not None and p.service.fallback:
        items.append(Item("verify.fallback-off", f"Switch back from the fallback ({p.service.fallback})", "workaround"))
    for w in p.workarounds:
        items.append(Item(f"verify.workaround.{w.id}", f"Remove the temporary workaround: {w.text}", "workaround",
                          {"workaround_id": w.id, "added_by": w.added_by}))
    return items


def _close(level: SeverityLevel, incident_type: str) -> list[Item]:
    items = []
    if level.first_notice is not None or level.update_every is not None:
        items.append(Item("close.resolution-notice", "Send the resolution notice from the template"))
    if level.review != "none":
        due = f", due {int(level.review_due.total_seconds() // 3600)} h after resolution" if level.review_due else ""
        items.append(Item("close.review", f"Schedule the review ({level.review}{due})"))
    if incident_type == "security":
        items.append(Item("close.notifications-sent",
                          "Confirm the required notifications went out before the deadline"))
    if not items:
        items.append(Item("close.record", "Record the outcome on the ticket"))
    return items


def derive_playbook(p: PlaybookInput) -> list[Step]:
    """The five steps with their items and timeboxes, for this incident as it stands."""
    incident = p.incident
    level = p.policy.level(Severity(incident.severity))
    declared = incident.created_at
    resolve_end = declared + ASSESS_BOX[1] + p.resolve_timeout
    verify_starts = incident.resolved_at
    monitor = level.monitor_for or timedelta(0)
    verify_ends = verify_starts + monitor if verify_starts else None
    return [
        Step(1, "assess", "Acknowledge and assess", tuple(_assess(p, level)),
             declared + ASSESS_BOX[0], declared + ASSESS_BOX[1]),
        Step(2, "communicate", "Communicate", tuple(_communicate(p, level)),
             declared + COMMUNICATE_BOX[0], declared + COMMUNICATE_BOX[1]),
        Step(3, "resolve", "Diagnose and resolve", tuple(_resolve(p)), declared + ASSESS_BOX[1], resolve_end),
        Step(4, "verify", "Verify and monitor", tuple(_verify(p, level)), verify_starts, verify_ends),
        Step(5, "close", "Communicate resolution", tuple(_close(level, incident.incident_type)),
             verify_ends, verify_ends + CLOSE_BOX if verify_ends else None),
    ]


NOTICE_ITEMS = {"comms.initial": "communicate.first-notice", "comms.resolution": "close.resolution-notice"}


def effective_ticks(incident: Incident, ticks: Sequence[Tick],
                    timeline: Sequence[TimelineEntry] = ()) -> dict[str, Tick]:
    """Stored ticks by item, plus the ones the incident's own record proves: acknowledged, mitigated, and the
    first and resolution notices sent to the client (the earliest of each)."""
    found = {t.item_id: t for t in ticks}
    for entry in sorted(timeline, key=lambda e: e.at):
        item = NOTICE_ITEMS.get(entry.kind)
        if item is not None and item not in found:
            found[item] = Tick(item, True, entry.actor or "onduty", entry.at, "sent")
    if incident.acknowledged_at and "assess.acknowledge" not in found:
        found["assess.acknowledge"] = Tick("assess.acknowledge", True, incident.acknowledged_by or "onduty",
                                           incident.acknowledged_at, "acknowledged")
    if incident.mitigated_at and "resolve.restored" not in found:
        found["resolve.restored"] = Tick("resolve.restored", True, "onduty", incident.mitigated_at, "mitigated")
    return found


def step_view(step: Step, ticks: dict[str, Tick], now: datetime) -> StepView:
    """The step's timebox state at `now`: upcoming, running, overrun, done (or done late), or waiting."""
    done_ticks = [ticks[i.id] for i in step.items if i.id in ticks and ticks[i.id].done]
    total = len(step.items)
    left = step.ends - now if step.ends is not None else None
    state: StepState
    if total and len(done_ticks) == total:
        finished = max(t.at for t in done_ticks)
        state = "done_late" if step.ends is not None and finished > step.ends else "done"
    elif step.starts is None or step.ends is None:
        state = "waiting"
    elif now < step.starts:
        state = "upcoming"
    else:
        state = "running" if now <= step.ends else "overrun"
    return StepView(step, state, len(done_ticks), total, left)


def suggested_severity(ticks: dict[str, Tick]) -> str | None:
    """The most severe level whose assessment question was answered yes."""
    yes = sorted(int(t.item_id.rsplit("sev", 1)[1]) for t in ticks.values()
                 if t.done and t.item_id.startswith("assess.q.sev"))
    return Severity(yes[0]).label if yes else None


def find_item(steps: Sequence[Step], item_id: str) -> Item:
    """The item with this id, or ValueError listing the ids there are."""
    for step in steps:
        for item in step.items:
            if item.id == item_id:
                return item
    known = ", ".join(i.id for s in steps for i in s.items)
    raise ValueError(f"no playbook item {item_id!r} on this incident; items: {known}")


def dependents(services: Mapping[str, Service], service_id: str) -> list[str]:
    """Every service that depends on `service_id`, directly or not, nearest first: the blast radius."""
    found: list[str] = []
    frontier, seen = [service_id], {service_id}
    while frontier:
        nxt = []
        for current in frontier:
            for other in sorted(services.values(), key=lambda s: s.id):
                if current in other.depends_on and other.id not in seen:
                    seen.add(other.id)
                    found.append(other.id)
                    nxt.append(other.id)
        frontier = nxt
    return found
