"""Draft a review's sections from the facts: the timeline to the minute, detection, response, impact.

Pure: the caller gathers the incident, its timeline, alerts, clocks and names; everything here is text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from onduty.domain.incidents import TimelineEntry
from onduty.domain.review import (
    CLIENT_KINDS,
    QUIET_KINDS,
    SOON_ENOUGH,
    ClockResult,
    Detection,
    Evidence,
    Impact,
    ReviewFacts,
    Step,
    TimelineRow,
    humanize,
    response_figures,
)

CLOCK_WORDS = {"acknowledge": "acknowledge", "first_notice": "first client notice", "next_update": "next update",
               "resolve": "resolve after acknowledgement", "review": "review"}


def minute(at: datetime, suffix: str = " UTC") -> str:
    """Times in a review read to the minute, in UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + suffix


def first_abnormal_signal(facts: ReviewFacts) -> tuple[datetime | None, str]:
    """The earliest of the incident's first signal, its alerts' starts and any detector evidence window."""
    candidates: list[tuple[datetime, str]] = []
    if facts.incident.first_signal_at is not None:
        candidates.append((facts.incident.first_signal_at, "the incident's first signal"))
    for alert in facts.alerts:
        if alert.first_signal_at is not None:
            candidates.append((alert.first_signal_at, f"alert start ({alert.summary})"))
        if alert.evidence is not None and alert.evidence.window_start is not None:
            candidates.append((alert.evidence.window_start,
                               f"{alert.detector or 'detector'} evidence window on {alert.evidence.metric}"))
    if not candidates:
        return None, "none recorded"
    return min(candidates, key=lambda c: c[0])


def evidence(facts: ReviewFacts) -> Evidence | None:
    """The first detector evidence that carries a metric series (for the impact and the chart)."""
    return next((a.evidence for a in facts.alerts if a.evidence is not None and a.evidence.points),
                next((a.evidence for a in facts.alerts if a.evidence is not None), None))


def detection(facts: ReviewFacts) -> Detection:
    """How it was detected, the first abnormal signal, and whether it could have been caught sooner."""
    declared = facts.incident.created_at
    signal, source = first_abnormal_signal(facts)
    signal = signal if signal is not None and signal <= declared else None
    ttd = declared - signal if signal is not None else None
    alerts = sorted(facts.alerts, key=lambda a: a.created_at)
    detectors = [a for a in alerts if a.detector]
    pages = [e.at for e in facts.timeline if e.kind == "page.delivered"]
    first_page = min(pages) if pages else None
    fired = detectors[0].created_at if detectors else None
    before = fired <= first_page if fired is not None and first_page is not None else None
    if not alerts:
        how = "declared by a person; no alert was received"
    elif alerts[0].detector:
        how = f"by onduty's {alerts[0].detector} detector: {alerts[0].summary}"
    else:
        how = f"by an alert from {alerts[0].source or 'an integration'}: {alerts[0].summary}"
    if signal is None:
        sooner = ("Not known from the data: no signal earlier than the declaration is recorded. Sending the "
                  "service's metrics to onduty lets a detector date the first abnormal signal next time.")
    elif ttd is not None and ttd > SOON_ENOUGH:
        sooner = (f"Yes: the first abnormal signal ({source}) came {humanize(ttd)} before the incident was "
                  f"declared; alerting on that signal at once would have caught it up to {humanize(ttd)} sooner.")
    else:
        sooner = f"No earlier catch is evident: declared {humanize(ttd)} after the first abnormal signal."
    if before is True and fired is not None and first_page is not None:
        sooner += f" A detector fired {humanize(first_page - fired)} before the first page."
    elif before is False:
        sooner += " The detector fired only after the first page."
    return Detection(how, signal, source if signal else "none recorded", ttd, fired, first_page, before, sooner)


def response_steps(timeline: Sequence[TimelineEntry]) -> list[Step]:
    """Declaration, pages, escalations, acknowledgement, mitigation, resolution, with the delay between them."""
    kinds = ("incident.declared", "page.delivered", "escalation.level", "status.", "incident.reopened",
             "severity.changed", "comms.", "clock.missed")
    steps: list[Step] = []
    previous: datetime | None = None
    for entry in sorted(timeline, key=lambda e: e.at):
        if not entry.kind.startswith(kinds):
            continue
        steps.append(Step(entry.at, entry.message, entry.at - previous if previous else None))
        previous = entry.at
    return steps


def escalations(timeline: Sequence[TimelineEntry]) -> int:
    """Escalations past the first page: any level above one, or any repeat loop."""
    return sum(1 for e in timeline if e.kind == "escalation.level"
               and (int(e.data.get("level", 1)) > 1 or int(e.data.get("loop", 1)) > 1))


def metric_change(found: Evidence | None, start: datetime, end: datetime | None) -> str | None:
    """'conversion_rate: baseline 0.031, worst 0.025 (-19.4%)' over the incident; None without a series."""
    if found is None or not found.points:
        return None
    baseline = found.baseline
    if baseline is None:
        before = [v for at, v in found.points if at < (found.window_start or start)]
        baseline = sum(before) / len(before) if before else None
    during = [v for at, v in found.points if (found.window_start or start) <= at <= (end or found.points[-1][0])]
    if baseline is None or not during:
        return None
    worst = max(during, key=lambda v: abs(v - baseline))
    unit = f" {found.unit}" if found.unit else ""
    change = f" ({(worst - baseline) / baseline * 100:+.1f}%)" if baseline else ""
    return f"{found.metric}: baseline {baseline:.4g}{unit}, furthest from it {worst:.4g}{unit}{change}"


def impact(facts: ReviewFacts) -> Impact:
    signal, _ = first_abnormal_signal(facts)
    figures = response_figures(facts.incident, facts.timeline, signal)
    change = metric_change(evidence(facts), signal or facts.incident.created_at, facts.incident.resolved_at)
    return Impact(figures.duration, facts.client_names, facts.affected_services, change)


def review_timeline(timeline: Sequence[TimelineEntry], audience: str = "internal") -> list[TimelineRow]:
    """The incident's record to the minute; the client's version keeps what happened and what it was told."""
    rows = []
    for entry in sorted(timeline, key=lambda e: (e.at, e.id or 0)):
        if entry.kind in QUIET_KINDS:
            continue
        if audience == "client" and not entry.kind.startswith(CLIENT_KINDS):
            continue
        rows.append(TimelineRow(entry.at, entry.kind, entry.actor, entry.message))
    return rows


def _clock_line(clock: ClockResult) -> str:
    name = CLOCK_WORDS.get(clock.name, clock.name)
    if clock.state == "met" and clock.met_at is not None:
        return f"- {name}: met ({minute(clock.met_at)}, due {minute(clock.due)})"
    if clock.state == "met_late" and clock.met_at is not None:
        return f"- {name}: missed, met late ({minute(clock.met_at)}, due {minute(clock.due)})"
    return f"- {name}: {clock.state} (due {minute(clock.due)})"


def draft_sections(facts: ReviewFacts) -> dict[str, str]:
    """Every section the data can fill; root cause and preventive actions are left for people."""
    incident = facts.incident
    found = detection(facts)
    figures = response_figures(incident, facts.timeline, found.first_signal)
    hurt = impact(facts)
    clients = ", ".join(facts.client_names) or incident.client_id
    summary = (f"{facts.severity_label} {incident.incident_type.replace('_', ' ')} incident on "
               f"{facts.service_name} ({clients}): {incident.title}. Declared {minute(incident.created_at)}")
    if incident.resolved_at is not None:
        summary += f", resolved {minute(incident.resolved_at)} after {humanize(figures.time_to_resolve)}"
    summary += "."
    timeline = "\n".join(f"- {minute(r.at, '')} {r.text}" for r in review_timeline(facts.timeline))
    detect = "\n".join([
        f"- How: {found.how}",
        f"- First abnormal signal: {minute(found.first_signal) if found.first_signal else '—'}"
        f" ({found.first_signal_source})",
        f"- Time to detect: {humanize(found.time_to_detect)}",
        f"- Could it have been caught sooner? {found.caught_sooner}",
    ])
    waits = [s for s in response_steps(facts.timeline) if s.since_previous and s.since_previous >= timedelta(minutes=5)]
    response = [
        f"- Time to engage (first page delivered): {humanize(figures.time_to_engage)}",
        f"- Time to acknowledge: {humanize(figures.time_to_acknowledge)}",
        f"- Time to resolve: {humanize(figures.time_to_resolve)}",
        f"- Escalations: {escalations(facts.timeline)}",
    ]
    response += [f"- Waited {humanize(s.since_previous)} before {minute(s.at)}: {s.what}" for s in waits]
    if facts.clocks:
        response.append("- Clocks:")
        response += ["  " + _clock_line(c) for c in facts.clocks]
    effect = [
        f"- Duration (first abnormal signal to resolution): {humanize(hurt.duration)}",
        f"- Clients: {', '.join(hurt.clients) or '—'}",
        f"- Services: {', '.join(hurt.services) or facts.service_name}",
        "- Business metric: " + (hurt.metric_change or "none is known for this incident (no metric was stored)"),
    ]
    return {"summary": summary, "timeline": timeline, "detection": detect, "response": "\n".join(response),
            "impact": "\n".join(effect), "root_cause": "", "preventive_actions": "", "internal_notes": ""}


def redact(text: str, people: Mapping[str, str]) -> str:
    """Replace each person's name (and id) with their role, longest first, for the client-safe version."""
    for who in sorted(people, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(who)}\b", people[who], text)
    return text
