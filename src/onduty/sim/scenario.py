"""Tabletop scenario files: a scripted drill — when it starts, what arrives when, who does what, and
what the facilitator wants to see. Loaded like the plan: every error names the file, line and field.

    name: Catalog feed corrupted on a Friday evening
    start: 2026-11-20T17:40          # local time in `time_zone`; `--at` moves it
    time_zone: America/Chicago
    duration: 3h                     # how long the drill runs after the start
    steps:
      - at: 6m30s
        alert: {service: recs-model, summary: "Relevance 0.08", severity: critical, dedup_key: relevance}
      - at: 19m
        acknowledge: {by: paged}     # `paged`: whoever was paged last; or a person id of the plan
    expect:
      first_page_within: 5m
      acknowledged_within: 15m
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from onduty.plan.load import errors_at, load_model
from onduty.plan.schema import Duration, TimeZone

_OFFSET = re.compile(r"^\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")


def parse_offset(value: object) -> timedelta:
    """'0m', '90s', '6m30s', '1h20m' → time after the drill's start."""
    if isinstance(value, timedelta):
        return value
    text = str(value)
    match = _OFFSET.match(text)
    if not text.strip() or not match or not any(match.groups()):
        raise ValueError(f"expected a time after the start like 0m, 90s, 6m30s or 1h20m, got {value!r}")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


Offset = Annotated[timedelta, BeforeValidator(parse_offset)]
Actor = Annotated[str, Field(min_length=1, description="a person id of the plan, or `paged` (the last person paged)")]
IncidentRef = Annotated[str, Field(description="the dedup key of the alert that opened it; default: the first")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertStep(Strict):
    service: str
    summary: str = Field(min_length=1)
    severity: Literal["critical", "error", "warning", "info"] = "error"
    dedup_key: str = Field(min_length=1)
    source: str = "exercise"
    labels: dict[str, str] = Field(default_factory=dict)
    type: str | None = Field(None, description="PagerDuty `class`, e.g. model_degradation")


class ResolveAlertStep(Strict):
    service: str
    dedup_key: str


class ActStep(Strict):
    by: Actor = "paged"
    incident: IncidentRef | None = None
    note: str = ""


class NoteStep(Strict):
    by: Actor = "paged"
    incident: IncidentRef | None = None
    text: str = Field(min_length=1)


class CommsStep(Strict):
    """A client message sent from the plan's template: the check runs as it would for real."""

    kind: Literal["initial", "update", "resolution"]
    by: Actor = "paged"
    incident: IncidentRef | None = None
    fields: dict[str, str] = Field(default_factory=dict, description="the template's fields, e.g. what_is_known")
    override_reason: str | None = None


class Step(Strict):
    """One moment of the drill: exactly one of the actions (or only `say`)."""

    at: Offset
    say: str | None = Field(None, description="narration for the report")
    auto_only: bool = Field(False, description="skipped in live mode: people do it themselves")
    alert: AlertStep | None = None
    resolve_alert: ResolveAlertStep | None = None
    acknowledge: ActStep | None = None
    mitigate: ActStep | None = None
    resolve: ActStep | None = None
    note: NoteStep | None = None
    comms: CommsStep | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        actions = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(actions) > 1:
            raise ValueError(f"a step does one thing; this one has {', '.join(actions)}: split it in two")
        if not actions and not self.say:
            raise ValueError(f"a step needs one of {', '.join(ACTIONS)} (or `say`)")
        return self

    @property
    def action(self) -> str | None:
        return next((name for name in ACTIONS if getattr(self, name) is not None), None)


ACTIONS = ("alert", "resolve_alert", "acknowledge", "mitigate", "resolve", "note", "comms")


class Expectations(Strict):
    """What the facilitator wants to see; each becomes a passed or failed line of the report."""

    first_page_within: Duration | None = None
    acknowledged_within: Duration | None = None
    resolved_within: Duration | None = None
    clocks_met: list[Literal["acknowledge", "first_notice", "next_update", "resolve"]] = Field(default_factory=list)
    paged: list[str] = Field(default_factory=list, description="people who must have been paged")
    not_paged: list[str] = Field(default_factory=list, description="people who must not have been paged")


class Scenario(Strict):
    name: str = Field(min_length=1)
    description: str = ""
    start: datetime | date | None = Field(None, description="local start; default: the next hour")
    time_zone: TimeZone = "UTC"
    duration: Duration = timedelta(hours=4)
    participants: list[str] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    expect: Expectations = Field(default_factory=Expectations)

    @model_validator(mode="after")
    def _steps_in_time(self) -> Scenario:
        for index, step in enumerate(self.steps):
            if step.at > self.duration:
                raise ValueError(f"steps[{index}] at {step.at} is after the drill's duration ({self.duration})")
        return self

    def starts_at(self, at: datetime | None, now: datetime) -> datetime:
        """The drill's start: `at` if given, else the file's `start`, else the next whole hour after `now`."""
        zone = ZoneInfo(self.time_zone)
        if at is not None:
            return at if at.tzinfo else at.replace(tzinfo=zone)
        if isinstance(self.start, datetime):
            return self.start if self.start.tzinfo else self.start.replace(tzinfo=zone)
        if isinstance(self.start, date):
            return datetime.combine(self.start, time(9, 0), zone)
        return (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)


def check_scenario(scenario: Scenario, services: set[str], people: set[str]) -> list[tuple[tuple[int | str, ...], str]]:
    """Names the scenario uses that the plan does not have, as (location, message)."""
    problems: list[tuple[tuple[int | str, ...], str]] = []
    for index, step in enumerate(scenario.steps):
        for name in ("alert", "resolve_alert"):
            target: Any = getattr(step, name)
            if target is not None and target.service not in services:
                problems.append((("steps", index, name, "service"),
                                 f"no service {target.service!r} in the plan; known: {', '.join(sorted(services))}"))
        for name in ("acknowledge", "mitigate", "resolve", "note", "comms"):
            act: Any = getattr(step, name)
            if act is not None and act.by != "paged" and act.by not in people:
                problems.append(((("steps", index, name, "by")), f"no person {act.by!r} in the plan"))
    for field in ("paged", "not_paged"):
        for index, person in enumerate(getattr(scenario.expect, field)):
            if person not in people:
                problems.append((("expect", field, index), f"no person {person!r} in the plan"))
    return problems


def load_scenario(path: Path | str, services: set[str] | None = None, people: set[str] | None = None) -> Scenario:
    """Load a scenario file; with the plan's services and people, names are checked too."""
    scenario, node = load_model(path, Scenario, "name, steps, …", "the scenario")
    if services is not None and people is not None:
        problems = check_scenario(scenario, services, people)
        if problems:
            raise errors_at(str(path), node, problems)
    return scenario
