"""`onduty doctor` and the readiness reminders: gather what the grade needs from the plan and the
database, grade it, and tell the delivery leads when a tabletop or a plan review is due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from onduty.app.ports import Channel, DeliveryError, Drill, Store, Transactions
from onduty.app.schedules import coverage_gaps
from onduty.domain.incidents import OutboxMessage
from onduty.domain.model import Directory
from onduty.domain.readiness import GAP_HORIZON, PLAN_REVIEW_EVERY, TABLETOP_EVERY, Check, Facts, grade


def alert_sources(store: Store, directory: Directory) -> dict[str, set[str]]:
    """How each service is watched: integration keys, heartbeats, routing rules that send to it."""
    found: dict[str, set[str]] = {}
    for service_id in store.services_with_keys():
        found.setdefault(service_id, set()).add("integration key")
    alerting = directory.alerting
    if alerting is not None:
        for check in alerting.heartbeats.values():
            found.setdefault(check.service_id, set()).add(f"heartbeat {check.id}")
        for rule in alerting.routes:
            found.setdefault(rule.service, set()).add(f"routing rule {rule.name}")
    return found


def runbook_types(directory: Directory) -> dict[str, set[str]]:
    """Runbook files the plan's `runbooks` section links to each incident type."""
    found: dict[str, set[str]] = {}
    for link in directory.runbooks:
        for incident_type in link.types:
            found.setdefault(incident_type, set()).add(link.file)
    return found


def plan_reviewed_at(store: Store) -> datetime | None:
    """The plan's `organization.reviewed` date, else when the plan in effect was applied."""
    document = store.plan_document() or {}
    reviewed = (document.get("organization") or {}).get("reviewed")
    if reviewed:
        return datetime.combine(datetime.fromisoformat(str(reviewed)).date(), time(0), UTC)
    return store.plan_applied_at()


def gather(store: Store, now: datetime) -> tuple[Directory, Facts]:
    directory = store.directory()
    facts = Facts(
        now=now,
        gaps=coverage_gaps(store, now, now + GAP_HORIZON),
        alert_sources=alert_sources(store, directory),
        drills=[d.held_at for d in store.drills()],
        plan_reviewed_at=plan_reviewed_at(store),
        incident_types=store.incident_type_counts(now - timedelta(days=365)),
        runbook_types=runbook_types(directory),
    )
    return directory, facts


def doctor(txs: Transactions, now: datetime) -> list[Check]:
    """Grade the applied plan and the database against the minimum viable process."""
    with txs() as store:
        if not store.directory().people:
            return [Check("plan", "A plan is applied", True, False, ["no plan in this database"],
                          "apply one: `onduty plan apply onduty.yaml`")]
        directory, facts = gather(store, now)
    return grade(directory, facts)


@dataclass(frozen=True)
class Reminder:
    key: str
    subject: str
    text: str


def due_reminders(facts: Facts) -> list[Reminder]:
    """A tabletop each quarter and a plan review every six months: what is due now, keyed per period."""
    now = facts.now
    found = []
    last_drill = max(facts.drills, default=None)
    if last_drill is None or now - last_drill > TABLETOP_EVERY:
        quarter = f"{now.year}Q{(now.month - 1) // 3 + 1}"
        since = f"the last was on {last_drill:%Y-%m-%d}" if last_drill else "none is recorded yet"
        found.append(Reminder(f"tabletop:{quarter}", "A tabletop exercise is due",
                              f"Hold this quarter's tabletop exercise ({since}): "
                              "onduty exercise run examples/agency/exercises/founding-story.yaml"))
    reviewed = facts.plan_reviewed_at
    if reviewed is None or now - reviewed > PLAN_REVIEW_EVERY:
        half = f"{now.year}H{1 if now.month <= 6 else 2}"
        since = f"last reviewed {reviewed:%Y-%m-%d}" if reviewed else "no review is recorded"
        found.append(Reminder(f"plan-review:{half}", "The incident-response plan is due for review",
                              f"Review onduty.yaml with the team ({since}); then set organization.reviewed "
                              "and apply it."))
    return found


def send_reminders(txs: Transactions, channels: Mapping[str, Channel], now: datetime) -> int:
    """Send what is due to every client's delivery lead, once per period; returns how many went out."""
    with txs() as store:
        directory = store.directory()
        if not directory.people:
            return 0
        facts = Facts(now=now, drills=[d.held_at for d in store.drills()], plan_reviewed_at=plan_reviewed_at(store))
        leads = sorted({c.delivery_lead for c in directory.clients.values() if c.delivery_lead in directory.people})
        due = [r for r in due_reminders(facts) if store.claim_reminder(r.key, leads, now)]
    sent = 0
    for reminder in due:
        for person_id in leads:
            person = directory.people[person_id]
            for index, contact in enumerate(person.contacts):
                channel = channels.get(contact.kind)
                if channel is None:
                    continue
                message = OutboxMessage(
                    f"reminder:{reminder.key}:{person_id}:c{index}", 0, person_id, contact.kind, contact.address,
                    index, {"body": {"event": "readiness.reminder", "subject": reminder.subject,
                                     "text": reminder.text, "person": {"id": person.id, "name": person.name}},
                            "secret_env": contact.secret_env},
                    now, now,
                )
                try:
                    channel.send(message, now)
                except DeliveryError:
                    continue  # the next contact method
                sent += 1
                break
    return sent


def record_drill(txs: Transactions, name: str, scenario: str, mode: str, held_at: datetime, started_at: datetime,
                 participants: list[str], findings: list[dict[str, object]], score: int) -> int:
    """Keep a drill held (what `doctor` counts for the quarterly tabletop)."""
    with txs() as store:
        return store.add_drill(Drill(name, scenario, mode, held_at, started_at, tuple(participants),
                                     tuple(findings), score))
