"""Tabletop exercises: a scenario replayed against the real plan on the real engine, in a database of
its own (so a drill never counts in real figures), then graded.

Automatic mode runs the whole script in simulated time in seconds. Live mode runs on the wall clock
and leaves the people's part to the people: the scripted alerts arrive on time, responders act through
the CLI or the API against the drill's database, and the drill ends when its incidents are resolved
or its duration is over.
"""

from __future__ import annotations

import tempfile
import time as walltime
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from onduty.adapters.clock import SimulatedClock, SystemClock
from onduty.app import comms
from onduty.app.incidents import add_note, change_status, clocks_for
from onduty.app.ingest import ingest_events
from onduty.app.plans import apply_plan
from onduty.app.ports import Clock, IncidentFilter
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.domain.alerts import AlertEvent
from onduty.domain.clocks import Clock as IncidentClock
from onduty.domain.incidents import Incident, OutboxMessage, TimelineEntry
from onduty.domain.model import Override
from onduty.domain.readiness import Check
from onduty.plan.schema import Plan
from onduty.sim.drive import run_until
from onduty.sim.exercise_findings import expectations, findings, messages_check
from onduty.sim.scenario import CommsStep, Scenario, Step

Mode = Literal["auto", "live"]


@dataclass(frozen=True)
class PageRecord:
    at: datetime
    incident_id: int
    person_id: str
    person: str
    channel: str
    level: int
    escalation: bool = True  # False: an all-hands, legal or missed-clock page beside the escalation


@dataclass
class DrillPager:
    """Every channel of the drill: records each page instead of waking anyone."""

    clock: Clock
    pages: list[PageRecord] = field(default_factory=list)

    def send(self, message: OutboxMessage, now: datetime) -> str:
        body = message.payload.get("body", {})
        person = body.get("person")
        if person is None or body.get("notification"):  # channel posts and notifications are not pages
            return f"{message.channel} (drill: recorded, nobody woken)"
        self.pages.append(PageRecord(now, message.incident_id, message.person_id, person.get("name", message.person_id),
                                     message.channel, int(body.get("level", 1)),
                                     message.idempotency_key.startswith("page:")))
        return f"{message.channel} (drill: recorded, nobody woken)"


@dataclass
class IncidentResult:
    incident: Incident
    timeline: list[TimelineEntry]
    clocks: list[IncidentClock]


@dataclass
class ExerciseResult:
    scenario: Scenario
    source: str
    mode: Mode
    started_at: datetime
    ended_at: datetime
    database: str
    narration: list[tuple[datetime, str]]
    pages: list[PageRecord]
    incidents: list[IncidentResult]
    expectations: list[Check]
    findings: list[Check]
    score: int

    @property
    def fix_first(self) -> list[Check]:
        return [c for c in self.expectations + self.findings if not c.passed]


class DrillError(Exception):
    """The scenario cannot go on (e.g. it acts on an incident that never opened); says which step."""


def _event(step: Step, now: datetime) -> tuple[str, AlertEvent]:
    if step.alert is not None:
        a = step.alert
        return a.service, AlertEvent("trigger", a.dedup_key, a.summary, a.source, a.severity, now,
                                     event_class=a.type, custom_details={"labels": a.labels, "drill": True})
    assert step.resolve_alert is not None
    return step.resolve_alert.service, AlertEvent("resolve", step.resolve_alert.dedup_key, source="exercise")


class Drill:
    """One run of a scenario on its own database; `perform` carries out one step at the clock's now."""

    def __init__(self, scenario: Scenario, plan: Plan, source: str, clock: Clock,
                 overrides: list[Override], say: Callable[[datetime, str], None], database: str | None = None):
        self.scenario, self.clock, self.say = scenario, clock, say
        self.workdir = tempfile.mkdtemp(prefix="onduty-drill-")
        self.database = database or f"sqlite:///{self.workdir}/drill.db"
        self.pager = DrillPager(clock)
        kinds = ("console", "webhook", "email", "sms", "slack", "teams", "apprise")
        self.container: Container = build(Settings(database_url=self.database), clock=clock,
                                          channels={k: self.pager for k in kinds})
        apply_plan(self.container.db, plan, source, clock.now())
        with self.container.db.transaction() as store:
            for override in overrides:
                store.add_override(override, "override", None, clock.now())
        self.opened: dict[str, int] = {}  # dedup key → incident
        self.refused: list[tuple[datetime, str, list[str]]] = []  # client messages the check held back
        self.narration: list[tuple[datetime, str]] = []

    def note(self, text: str) -> None:
        self.narration.append((self.clock.now(), text))
        self.say(self.clock.now(), text)

    def _incident(self, ref: str | None, index: int) -> int:
        if ref is not None and ref in self.opened:
            return self.opened[ref]
        if ref is None and self.opened:
            return next(iter(self.opened.values()))
        raise DrillError(f"steps[{index}]: no incident {'for ' + repr(ref) if ref else 'has opened'} yet")

    def _actor(self, by: str, incident_id: int, index: int) -> str:
        with self.container.db.transaction() as store:
            people = store.directory().people
        if by != "paged":
            return people[by].name
        paged = [p for p in self.pager.pages if p.incident_id == incident_id]
        if not paged:
            raise DrillError(f"steps[{index}]: nobody was paged for incident {incident_id}, so nobody can act")
        return paged[-1].person

    def perform(self, step: Step, index: int) -> None:
        now = self.clock.now()
        if step.say:
            self.note(step.say)
        action = step.action
        if action in ("alert", "resolve_alert"):
            service_id, event = _event(step, now)
            (result,) = ingest_events(self.container.db.transaction, [(service_id, event)], now)
            if step.alert is not None and result.incident_id is not None:
                self.opened.setdefault(event.dedup_key, result.incident_id)
            self.note(f"{'alert' if step.alert else 'alert resolved'} on {service_id}: "
                      f"{event.summary or event.dedup_key} → {result.decision.value}")
            self.container.worker.run_once(now)
        elif action in ("acknowledge", "mitigate", "resolve"):
            act = getattr(step, action)
            incident_id = self._incident(act.incident, index)
            who = self._actor(act.by, incident_id, index)
            status = {"acknowledge": "acknowledged", "mitigate": "mitigated", "resolve": "resolved"}[action]
            change_status(self.container.db.transaction, incident_id, status, who, now, note=act.note)  # type: ignore[arg-type]
            self.note(f"{who}: {action} incident {incident_id}")
        elif action == "comms":
            assert step.comms is not None
            self._send(step.comms, index, now)
        elif action == "note":
            assert step.note is not None
            incident_id = self._incident(step.note.incident, index)
            who = self._actor(step.note.by, incident_id, index)
            add_note(self.container.db.transaction, incident_id, step.note.text, who, now)
            self.note(f"{who} notes: {step.note.text}")

    def _send(self, step: CommsStep, index: int, now: datetime) -> None:
        """Send a client message through the real check; a refusal is what the drill found, not an error."""
        incident_id = self._incident(step.incident, index)
        who = self._actor(step.by, incident_id, index)
        try:
            made, _ = comms.send(self.container.db.transaction, incident_id, step.kind, step.fields, now, actor=who,
                                 override_reason=step.override_reason)
        except comms.MessageRefused as refused:
            self.refused.append((now, step.kind, [f"{f.field}: {f.message}" for f in refused.findings]))
            self.note(f"{who}: {step.kind} notice refused by the check ({len(refused.findings)} finding(s))")
            return
        except ValueError as exc:
            self.refused.append((now, step.kind, [str(exc)]))
            self.note(f"{who}: {step.kind} notice not sent: {exc}")
            return
        sent_to = ", ".join(sorted({r.name for r in made.recipients}))
        self.note(f"{who}: {step.kind} notice sent to {sent_to}: {made.subject}")

    def results(self, now: datetime) -> list[IncidentResult]:
        with self.container.db.transaction() as store:
            directory = store.directory()
            found = []
            for incident in sorted(store.incidents(IncidentFilter(limit=1000)), key=lambda i: i.id or 0):
                assert incident.id is not None
                timeline = store.timeline(incident.id)
                found.append(IncidentResult(incident, timeline, clocks_for(directory, incident, timeline, now)))
        return found


def run_exercise(
    scenario: Scenario, plan: Plan, source: str, *, mode: Mode = "auto", at: datetime | None = None,
    overrides: list[Override] | None = None, say: Callable[[datetime, str], None] = lambda _at, _text: None,
    now: datetime | None = None, live_poll: float = 1.0, database: str | None = None,
    on_ready: Callable[[Drill], None] | None = None,
) -> ExerciseResult:
    """Run the scenario and grade it. Auto: simulated time. Live: the wall clock, scripted steps marked
    `auto_only` left to people, ending early once every incident is resolved."""
    wall = SystemClock()
    start = scenario.starts_at(at, now or wall.now()) if mode == "auto" else (now or wall.now())
    clock: Clock = SimulatedClock(start) if mode == "auto" else wall
    drill = Drill(scenario, plan, source, clock, overrides or [], say, database)
    if on_ready is not None:
        on_ready(drill)
    end = start + scenario.duration
    steps = sorted(enumerate(scenario.steps), key=lambda pair: pair[1].at)
    if mode == "auto":
        assert isinstance(clock, SimulatedClock)
        for index, step in steps:
            run_until(drill.container, clock, start + step.at)
            drill.perform(step, index)
        run_until(drill.container, clock, end)
    else:
        pending = [(i, s) for i, s in steps if not s.auto_only]
        while wall.now() < end:
            while pending and start + pending[0][1].at <= wall.now():
                drill.perform(pending[0][1], pending[0][0])
                pending.pop(0)
            drill.container.worker.run_once(wall.now())
            incidents = drill.results(wall.now())
            if not pending and incidents and all(not r.incident.is_open for r in incidents):
                break
            walltime.sleep(live_poll)
    finished = clock.now() if mode == "auto" else wall.now()
    incidents = drill.results(finished)
    with drill.container.db.transaction() as store:
        directory = store.directory()
        gaps_window = (start, max(end, finished))
        found = findings(store, directory, incidents_services(incidents), gaps_window, incidents, drill.pager.pages,
                         scenario.time_zone)
    if any(step.comms is not None for step in scenario.steps):
        found.append(messages_check(drill.refused, scenario.time_zone))
    expected = expectations(scenario, start, incidents, drill.pager.pages)
    checks = expected + found
    weights = [(3 if c.must else 1, c.passed) for c in checks]
    score = round(100 * sum(w for w, ok in weights if ok) / sum(w for w, _ in weights)) if weights else 100
    drill.container.db.dispose()
    return ExerciseResult(scenario, source, mode, start, finished, drill.database, drill.narration,
                          drill.pager.pages, incidents, expected, found, score)


def incidents_services(incidents: list[IncidentResult]) -> set[str]:
    return {r.incident.service_id for r in incidents}


