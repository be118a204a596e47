"""The post-incident review from an incident's record: response figures, detection, response, impact,
the drafted sections, and the root-cause rule (a systemic condition, never "human error" alone)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from onduty.domain.incidents import Incident, TimelineEntry

SECTIONS = ("summary", "timeline", "detection", "response", "impact", "root_cause", "preventive_actions",
            "internal_notes")
REQUIRED_SECTIONS = ("summary", "timeline", "detection", "response", "impact", "root_cause")
INTERNAL_SECTIONS = ("internal_notes",)  # never in the client-safe version
ACTION_STATUSES = ("open", "in_progress", "done", "wont_do")
REFUSED_ROOT_CAUSES = ("human error", "operator error", "someone made a mistake", "user error", "carelessness",
                       "careless", "mistake", "pilot error", "fat finger", "typo", "oversight", "negligence")
SOON_ENOUGH = timedelta(minutes=5)  # a first signal this close to the declaration was caught about as soon as it could
# Timeline kinds a review leaves out: bookkeeping behind the steps people act on.
QUIET_KINDS = frozenset({"page.queued", "page.retry", "reminder.delivered", "reminder.queued"})
# Kinds the client-safe timeline keeps: what happened to the service and what the client was told.
CLIENT_KINDS = ("incident.declared", "alert.", "status.", "escalation.level", "page.delivered", "comms.",
                "severity.changed", "incident.reopened", "review.completed", "clock.missed")
SYSTEMIC_EXAMPLE = (
    "A root cause names a condition of the system that let the failure happen or go unnoticed: a missing "
    "check, a default that allowed it, an alert that did not exist, a step nobody owned. For example: "
    "\"catalog batches reached the model with no schema or distribution check, so a truncated batch "
    "was served for hours\". People make mistakes; say what made this one possible or harmful."
)


@dataclass(frozen=True)
class ResponseFigures:
    """None where the incident has not reached that point (or the signal time is unknown)."""

    time_to_detect: timedelta | None  # first abnormal signal → incident declared
    time_to_engage: timedelta | None  # declared → first page delivered to a person
    time_to_acknowledge: timedelta | None  # declared → acknowledged
    time_to_resolve: timedelta | None  # declared → resolved
    duration: timedelta | None  # first abnormal signal → resolved


def response_figures(incident: Incident, timeline: Sequence[TimelineEntry],
                     first_signal: datetime | None = None) -> ResponseFigures:
    """`first_signal` overrides the incident's own (e.g. the earliest of its alerts and detector evidence)."""
    declared = incident.created_at
    signal = first_signal or incident.first_signal_at
    start = signal if signal and signal <= declared else None
    delivered = [e.at for e in timeline if e.kind == "page.delivered"]
    return ResponseFigures(
        time_to_detect=declared - start if start else None,
        time_to_engage=min(delivered) - declared if delivered else None,
        time_to_acknowledge=incident.acknowledged_at - declared if incident.acknowledged_at else None,
        time_to_resolve=incident.resolved_at - declared if incident.resolved_at else None,
        duration=incident.resolved_at - (start or declared) if incident.resolved_at else None,
    )


def humanize(delta: timedelta | None) -> str:
    """'4 h 00 min', '12 min 40 s', '1 s'; '—' when unknown."""
    if delta is None:
        return "—"
    if delta < timedelta(seconds=1):
        return "< 1 s"
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


# -- root cause --------------------------------------------------------------------------------------

_FILLER = frozenset({
    "a", "an", "the", "it", "this", "that", "was", "were", "is", "be", "been", "by", "of", "to", "due", "and",
    "or", "just", "simple", "simply", "only", "plain", "caused", "cause", "root", "because", "on", "in", "at",
    "our", "their", "his", "her", "my", "we", "they", "he", "she", "someone", "somebody", "engineer", "person",
    "people", "human", "error", "again"
})


def root_cause_refusal(text: str, refused: Sequence[str] = REFUSED_ROOT_CAUSES) -> str | None:
    """Why a root cause is refused, or None when it names more than a person's slip.

    A text that mentions a refused phrase is kept when enough else is said around it (the systemic part);
    one that says little beyond the phrase is refused with what a systemic cause looks like.
    """
    lowered = text.lower()
    hits = [p for p in refused if re.search(rf"\b{re.escape(p.lower())}\b", lowered)]
    if not hits:
        return None
    rest = lowered
    for phrase in sorted(hits, key=len, reverse=True):
        rest = re.sub(rf"\b{re.escape(phrase.lower())}\b", " ", rest)
    content = [w for w in re.findall(r"[a-z0-9]+", rest) if w not in _FILLER and len(w) > 2]
    if len(content) >= 5:
        return None
    return f"the root cause says only {hits[0]!r}, which is not a systemic condition. {SYSTEMIC_EXAMPLE}"


# -- facts -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Evidence:
    """What a detector attached to its alert: the metric, its abnormal window, points around it (and
    the expected value at each, when the detector knows it)."""

    metric: str
    window_start: datetime | None = None
    window_end: datetime | None = None
    baseline: float | None = None
    points: tuple[tuple[datetime, float], ...] = ()
    unit: str = ""
    expected: tuple[tuple[datetime, float], ...] = ()
    rate: float | None = None  # the metric over the abnormal window, when given


@dataclass(frozen=True)
class AlertFact:
    """An alert as the review sees it."""

    created_at: datetime
    summary: str
    source: str
    service_id: str
    first_signal_at: datetime | None = None
    detector: str | None = None  # the detector's name when a built-in detector raised it
    evidence: Evidence | None = None


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:  # Unix seconds
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _series(raw: Mapping[str, Any]) -> tuple[dict[datetime, float], dict[datetime, float]]:
    """Values and expected values by time from `points` (or `series`): {ts, value[, expected]} objects
    or [ts, value[, expected]] lists."""
    values: dict[datetime, float] = {}
    expected: dict[datetime, float] = {}
    for point in raw.get("points") or raw.get("series") or ():
        if isinstance(point, Mapping):
            ts, value, normal = point.get("ts"), point.get("value"), point.get("expected")
        elif isinstance(point, list | tuple) and len(point) >= 2:
            ts, value, normal = point[0], point[1], point[2] if len(point) > 2 else None
        else:
            continue
        at = _when(ts)
        if at is None:
            continue
        if isinstance(value, int | float) and not isinstance(value, bool):
            values[at] = float(value)
        if isinstance(normal, int | float) and not isinstance(normal, bool):
            expected[at] = float(normal)
    return values, expected


def evidence_of(details: Mapping[str, Any]) -> Evidence | None:
    """Detector evidence from an alert's details (`custom_details.evidence` or `evidence`), if any; the
    series runs on through the evidence its resolve brought (`resolve_evidence`), when there is one."""
    raw = details.get("evidence") or (details.get("custom_details") or {}).get("evidence")
    if not isinstance(raw, Mapping) or not any(k in raw for k in ("metric", "points", "series", "window",
                                                                  "window_start")):
        return None  # e.g. a feed check's findings: evidence, but of no metric over time
    window: Mapping[str, Any] = raw["window"] if isinstance(raw.get("window"), Mapping) else {}
    values, expected = _series(raw)
    later = details.get("resolve_evidence")
    if isinstance(later, Mapping):
        more, more_expected = _series(later)
        values, expected = {**values, **more}, {**expected, **more_expected}
    baseline = raw.get("baseline")
    rate = window.get("rate")
    return Evidence(
        metric=str(raw.get("metric") or raw.get("name") or "metric"),
        window_start=_when(window.get("start") or raw.get("window_start")),
        window_end=_when(window.get("end") or raw.get("window_end")),
        baseline=float(baseline) if isinstance(baseline, int | float) else None,
        points=tuple(sorted(values.items())), unit=str(raw.get("unit") or ""),
        expected=tuple(sorted(expected.items())),
        rate=float(rate) if isinstance(rate, int | float) and not isinstance(rate, bool) else None,
    )


def detector_of(source: str, details: Mapping[str, Any]) -> str | None:
    """The detector behind an alert: a `detector` label, a `detector:` source, or attached evidence."""
    labels = details.get("labels") or {}
    if isinstance(labels, Mapping) and labels.get("detector"):
        return str(labels["detector"])
    if source.startswith("detector"):
        return source.partition(":")[2] or source
    return (source or "detector") if evidence_of(details) is not None else None


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    kind: str
    actor: str
    text: str


@dataclass(frozen=True)
class Detection:
    how: str
    first_signal: datetime | None
    first_signal_source: str
    time_to_detect: timedelta | None
    detector_fired_at: datetime | None
    first_page_at: datetime | None
    detector_before_page: bool | None  # None: no detector alert, or no page
    caught_sooner: str


@dataclass(frozen=True)
class Step:
    at: datetime
    what: str
    since_previous: timedelta | None


@dataclass(frozen=True)
class ClockResult:
    name: str
    due: datetime
    state: str
    met_at: datetime | None = None


@dataclass(frozen=True)
class Impact:
    duration: timedelta | None
    clients: tuple[str, ...]
    services: tuple[str, ...]
    metric_change: str | None = None


@dataclass(frozen=True)
class ReviewFacts:
    """Everything the draft is written from; names are already resolved by the caller."""

    incident: Incident
    timeline: tuple[TimelineEntry, ...]
    alerts: tuple[AlertFact, ...]
    service_name: str
    client_names: tuple[str, ...]
    affected_services: tuple[str, ...]
    clocks: tuple[ClockResult, ...]
    people: Mapping[str, str] = field(default_factory=dict)  # person id → name
    severity_label: str = ""


# -- records -----------------------------------------------------------------------------------------

@dataclass
class ActionItem:
    """A preventive action: owner, due time, status, and a link to the team's tracker if any."""

    review_id: int
    title: str
    owner: str
    due_at: datetime
    status: str = "open"
    tracker_url: str | None = None
    created_at: datetime | None = None
    created_by: str = ""
    updated_at: datetime | None = None
    id: int | None = None

    def overdue(self, now: datetime) -> bool:
        return self.status in ("open", "in_progress") and self.due_at < now


@dataclass
class Review:
    """A post-incident review: drafted at resolution, edited by people, completed once."""

    incident_id: int
    owner: str
    owner_reason: str
    required: bool
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    sections: dict[str, str]
    edited: list[str] = field(default_factory=list)  # sections a person has written (never regenerated)
    status: str = "draft"  # draft | completed
    completed_at: datetime | None = None
    completed_by: str | None = None
    id: int | None = None

    def overdue(self, now: datetime) -> bool:
        return self.status == "draft" and self.due_at is not None and self.due_at < now


@dataclass(frozen=True)
class ReviewChange:
    """Who changed what in a review, and when: a section, an action item, the owner, the status."""

    at: datetime
    by: str
    what: str
    before: str
    after: str


def missing_for_completion(review: Review, actions: Sequence[ActionItem],
                           refused: Sequence[str] = REFUSED_ROOT_CAUSES) -> list[str]:
    """What stops a review from being completed; empty when it may be."""
    problems = [f"the {name.replace('_', ' ')} section is empty" for name in REQUIRED_SECTIONS
                if not review.sections.get(name, "").strip()]
    refusal = root_cause_refusal(review.sections.get("root_cause", ""), refused)
    if refusal:
        problems.append(refusal)
    if not actions and not review.sections.get("preventive_actions", "").strip():
        problems.append("no preventive action: add one (onduty pir ID actions add) or say in the "
                        "preventive actions section why none is needed")
    return problems
