"""Post-incident reviews: a draft written from the record when an incident resolves, edited by people
(every change kept with who and when), preventive actions tracked, completion refused until it is whole."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from onduty.app.ports import NotFound, Store, Transactions
from onduty.domain.clocks import incident_clocks
from onduty.domain.escalation import recipients_for
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.model import Directory
from onduty.domain.review import (
    ACTION_STATUSES,
    SECTIONS,
    ActionItem,
    AlertFact,
    ClockResult,
    Review,
    ReviewChange,
    ReviewFacts,
    detector_of,
    evidence_of,
    missing_for_completion,
    response_figures,
    root_cause_refusal,
)
from onduty.domain.review_draft import draft_sections, first_abnormal_signal
from onduty.domain.roles import find_person
from onduty.domain.severity import Severity

COMMANDER_ROLES = ("commander", "incident_commander", "ic")
RESOLVED_STATUSES = ("resolved", "monitoring", "closed")


class RootCauseRefused(ValueError):
    """The root cause names no systemic condition; the message says what one looks like."""


class ReviewIncomplete(ValueError):
    """The review cannot be completed yet; `problems` lists what is missing."""

    def __init__(self, problems: list[str]):
        super().__init__("the review cannot be completed yet: " + "; ".join(problems))
        self.problems = problems


def commander_of(timeline: list[TimelineEntry]) -> str | None:
    """The incident commander named on the timeline (the last assignment wins), if roles are in use."""
    found = None
    for entry in timeline:
        role = str(entry.data.get("role", "")).lower()
        person = entry.data.get("person") or entry.data.get("person_id")
        if entry.kind.startswith("role") and role in COMMANDER_ROLES and person:
            found = str(person)
    return found


def owner_for(store: Store, directory: Directory, incident: Incident, timeline: list[TimelineEntry]) -> tuple[str, str]:
    """The commander; else whoever acknowledged; else the policy's first on-call at declaration."""
    assert incident.id is not None
    assigned = store.roles(incident.id).get("commander")
    commander = assigned.person_id if assigned is not None else commander_of(timeline)
    if commander:
        return commander, "incident commander"
    responder = find_person(directory.people, incident.acknowledged_by)
    if responder is not None:
        return responder, "first responder who acknowledged"
    service = directory.services.get(incident.service_id)
    policy = directory.policies.get(service.escalation_policy_id) if service else None
    if policy is not None and service is not None:
        at = incident.created_at
        found, _ = recipients_for(policy.levels[0].targets, directory.schedules, directory.people, at,
                                  store.overrides(None, at, at + timedelta(seconds=1)), service.qualified)
        if found:
            return found[0].person_id, "first on call in the escalation policy"
    client = directory.clients.get(incident.client_id)
    if client is not None:
        return client.delivery_lead, "the client's delivery lead (nobody else could be found)"
    return "unassigned", "nobody could be found"


def gather_facts(store: Store, directory: Directory, incident: Incident, now: datetime) -> ReviewFacts:
    assert incident.id is not None
    timeline = store.timeline(incident.id)
    alerts = tuple(sorted((
        AlertFact(a.created_at, a.summary, a.source, a.service_id, a.first_signal_at,
                  detector_of(a.source, a.details), evidence_of(a.details))
        for a in store.alerts_of(incident.id)), key=lambda a: a.created_at))
    service = directory.services.get(incident.service_id)
    affected = store.affected_services(incident.id)
    service_ids = [incident.service_id, *(s for s, _, _ in affected if s != incident.service_id)]
    client_ids = [incident.client_id]
    for sid in service_ids:
        other = directory.services.get(sid)
        if other is not None and other.client_id not in client_ids:
            client_ids.append(other.client_id)
    policy = directory.policies.get(service.escalation_policy_id) if service else None
    clocks = incident_clocks(incident, timeline, directory.severity,
                             policy.resolve_timeout if policy else timedelta(minutes=30), now)
    return ReviewFacts(
        incident=incident, timeline=tuple(timeline), alerts=alerts,
        service_name=service.name if service else incident.service_id,
        client_names=tuple(directory.clients[c].name if c in directory.clients else c for c in client_ids),
        affected_services=tuple(directory.services[s].name if s in directory.services else s for s in service_ids),
        clocks=tuple(ClockResult(c.name, c.due, c.state, c.met_at) for c in clocks if c.name != "review"),
        people={p.id: p.name for p in directory.people.values()},
        severity_label=Severity(incident.severity).label,
    )


def draft_on_resolve(store: Store, directory: Directory, incident: Incident, now: datetime) -> Review | None:
    """Write (or, after a reopen, refresh) the draft; sections a person has written are kept."""
    assert incident.id is not None
    level = directory.severity.level(Severity(incident.severity))
    if level.review == "none" or incident.is_exercise:
        return None
    facts = gather_facts(store, directory, incident, now)
    sections = draft_sections(facts)
    due = now + level.review_due if level.review_due is not None else None
    review = store.review(incident.id)
    if review is None:
        owner, reason = owner_for(store, directory, incident, list(facts.timeline))
        review = Review(incident.id, owner, reason, level.review in ("mandatory", "recommended"), due, now, now,
                        sections)
        store.add_review(review)
        assert review.id is not None
        store.add_review_changes(review.id, [ReviewChange(now, "onduty", "draft", "", "drafted from the timeline")])
        return review
    if review.status == "draft":
        review.sections = {**sections, **{k: v for k, v in review.sections.items() if k in review.edited}}
        review.due_at, review.updated_at = due, now
        store.save_review(review)
        assert review.id is not None
        store.add_review_changes(review.id, [ReviewChange(now, "onduty", "draft", "", "redrafted on a new resolution")])
    return review


@dataclass
class ReviewBundle:
    """A review with everything shown beside it."""

    review: Review
    incident: Incident
    facts: ReviewFacts
    actions: list[ActionItem]
    changes: list[ReviewChange]
    directory: Directory
    problems: list[str] = field(default_factory=list)


def _load(store: Store, incident_id: int, client_id: str | None) -> tuple[Incident, Review]:
    incident = store.incident(incident_id, client_id)
    if incident is None:
        raise NotFound(f"incident {incident_id} not found")
    review = store.review(incident_id)
    if review is None:
        raise NotFound(f"incident {incident_id} has no review (it is drafted when the incident resolves; "
                       "Sev4 incidents have none)")
    return incident, review


def review_bundle(txs: Transactions, incident_id: int, now: datetime, client_id: str | None = None) -> ReviewBundle:
    with txs() as store:
        incident, review = _load(store, incident_id, client_id)
        directory = store.directory()
        assert review.id is not None
        actions = store.actions(review.id)
        return ReviewBundle(review, incident, gather_facts(store, directory, incident, now), actions,
                            store.review_changes(review.id), directory,
                            missing_for_completion(review, actions, directory.refused_root_causes))


def edit_review(txs: Transactions, incident_id: int, sections: Mapping[str, str], by: str, now: datetime,
                client_id: str | None = None, owner: str | None = None) -> Review:
    """Change sections (and the owner); a refused root cause changes nothing."""
    unknown = [name for name in sections if name not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section {unknown[0]!r}; sections are: {', '.join(SECTIONS)}")
    with txs() as store:
        _, review = _load(store, incident_id, client_id)
        directory = store.directory()
        if "root_cause" in sections and sections["root_cause"].strip():
            refusal = root_cause_refusal(sections["root_cause"], directory.refused_root_causes)
            if refusal:
                raise RootCauseRefused(refusal)
        if owner is not None and owner not in directory.people:
            raise ValueError(f"owner {owner!r} is not a person in the plan")
        changes = []
        for name, text in sections.items():
            text = text.strip()
            if review.sections.get(name, "") != text:
                changes.append(ReviewChange(now, by, name, review.sections.get(name, ""), text))
                review.sections = {**review.sections, name: text}
                review.edited = sorted({*review.edited, name})
        if owner is not None and owner != review.owner:
            changes.append(ReviewChange(now, by, "owner", review.owner, owner))
            review.owner, review.owner_reason = owner, f"assigned by {by}"
        if changes:
            review.updated_at = now
            store.save_review(review)
            assert review.id is not None
            store.add_review_changes(review.id, changes)
        return review


def _check_action(directory: Directory, owner: str | None, status: str | None, tracker_url: str | None) -> None:
    if owner is not None and owner not in directory.people:
        raise ValueError(f"owner {owner!r} is not a person in the plan")
    if status is not None and status not in ACTION_STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(ACTION_STATUSES)}")
    if tracker_url and not tracker_url.startswith(("http://", "https://")):
        raise ValueError(f"tracker link must be an http(s) URL, got {tracker_url!r}")


def add_action(txs: Transactions, incident_id: int, title: str, owner: str, due_at: datetime, by: str,
               now: datetime, tracker_url: str | None = None, client_id: str | None = None) -> ActionItem:
    if not title.strip():
        raise ValueError("an action needs a title saying what will be done")
    with txs() as store:
        _, review = _load(store, incident_id, client_id)
        _check_action(store.directory(), owner, None, tracker_url)
        assert review.id is not None
        due_at = due_at.astimezone(UTC)
        action = ActionItem(review.id, title.strip(), owner, due_at, "open", tracker_url or None, now, by, now)
        store.add_action(action)
        store.add_review_changes(review.id, [ReviewChange(now, by, f"action {action.id}", "",
                                                          f"{action.title} (owner {owner}, due {due_at:%Y-%m-%d})")])
        return action


def update_action(txs: Transactions, incident_id: int, action_id: int, by: str, now: datetime, *,
                  title: str | None = None, owner: str | None = None, due_at: datetime | None = None,
                  status: str | None = None, tracker_url: str | None = None,
                  client_id: str | None = None) -> ActionItem:
    with txs() as store:
        _, review = _load(store, incident_id, client_id)
        assert review.id is not None
        action = next((a for a in store.actions(review.id) if a.id == action_id), None)
        if action is None:
            raise NotFound(f"action {action_id} not found in the review of incident {incident_id}")
        _check_action(store.directory(), owner, status, tracker_url)
        changes = []
        due_at = due_at.astimezone(UTC) if due_at is not None else None
        for name, value in (("title", title), ("owner", owner), ("due_at", due_at), ("status", status),
                            ("tracker_url", tracker_url)):
            old = getattr(action, name)
            if value is not None and value != old:
                changes.append(ReviewChange(now, by, f"action {action_id} {name}", _text(old), _text(value)))
                setattr(action, name, value)
        if changes:
            action.updated_at = now
            store.save_action(action)
            store.add_review_changes(review.id, changes)
        return action


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def complete_review(txs: Transactions, incident_id: int, by: str, now: datetime,
                    client_id: str | None = None) -> Review:
    """Complete the review, or raise ReviewIncomplete naming every gap; writes review.completed."""
    with txs() as store:
        incident, review = _load(store, incident_id, client_id)
        if review.status == "completed":
            raise ValueError(f"the review of incident {incident_id} was completed at "
                             f"{review.completed_at:%Y-%m-%d %H:%M} UTC by {review.completed_by}")
        if incident.status not in RESOLVED_STATUSES:
            raise ValueError(f"incident {incident_id} is {incident.status}: resolve it before completing its review")
        assert review.id is not None
        problems = missing_for_completion(review, store.actions(review.id), store.directory().refused_root_causes)
        if problems:
            raise ReviewIncomplete(problems)
        review.status, review.completed_at, review.completed_by, review.updated_at = "completed", now, by, now
        store.save_review(review)
        store.add_review_changes(review.id, [ReviewChange(now, by, "status", "draft", "completed")])
        on_time = review.due_at is None or now <= review.due_at
        store.append(incident_id, [TimelineEntry(
            now, "review.completed", f"Review completed by {by}" + ("" if on_time else " (after its due time)"),
            by, {"on_time": on_time},
        )])
        return review


def bundle_dict(bundle: ReviewBundle) -> dict[str, Any]:
    """The internal view as JSON-ready data: sections, figures, actions, every change."""
    review = bundle.review
    figures = response_figures(bundle.incident, bundle.facts.timeline, first_abnormal_signal(bundle.facts)[0])
    return {
        "incident_id": review.incident_id, "status": review.status, "owner": review.owner,
        "owner_reason": review.owner_reason, "required": review.required, "due_at": review.due_at,
        "created_at": review.created_at, "updated_at": review.updated_at, "completed_at": review.completed_at,
        "completed_by": review.completed_by, "sections": review.sections, "edited": review.edited,
        "figures": {k: (v.total_seconds() if v is not None else None) for k, v in vars(figures).items()},
        "actions": [action_dict(a) for a in bundle.actions],
        "changes": [{"at": c.at, "by": c.by, "what": c.what, "before": c.before, "after": c.after}
                    for c in bundle.changes],
        "can_complete": not bundle.problems, "problems": bundle.problems,
    }


def action_dict(a: ActionItem) -> dict[str, Any]:
    return {"id": a.id, "title": a.title, "owner": a.owner, "due_at": a.due_at, "status": a.status,
            "tracker_url": a.tracker_url, "created_at": a.created_at, "created_by": a.created_by,
            "updated_at": a.updated_at}
