"""The metric around an incident as a small inline SVG, drawn on the server from the series a detector
attached to its alert: the values, the expected values, and the alert, the first page and the resolve
marked by line style and label (not by colour alone), with a one-line summary as its text alternative."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from onduty.domain.alerts import Alert
from onduty.domain.incidents import Incident, TimelineEntry
from onduty.domain.review import Evidence, evidence_of
from onduty.web.ui.render import local

WIDTH, HEIGHT = 640, 214
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 42, 30
MARK_STYLES = {"alert": "6 3", "paged": "2 3", "resolved": ""}  # dash patterns: told apart without colour


@dataclass(frozen=True)
class Mark:
    label: str
    at: datetime
    x: float
    text: str  # the label with its local time
    dash: str

    @property
    def anchor(self) -> str:
        """Labels near an edge run inward, so none is cut off."""
        return "end" if self.x > WIDTH - RIGHT - 60 else "start" if self.x < LEFT + 60 else "middle"


@dataclass(frozen=True)
class Tick:
    at: float  # pixel position
    text: str


@dataclass(frozen=True)
class MetricChart:
    """Everything the template draws: SVG paths in pixels, ticks, marks, and the text alternative."""

    title: str
    summary: str
    description: str
    values_path: str
    expected_path: str
    window: tuple[float, float] | None  # the abnormal window's x range
    marks: list[Mark]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def _formatter(kind: str) -> Any:
    if kind == "kpi":
        return lambda v: f"{v:.1%}"
    if kind == "relevance":
        return lambda v: f"{v:.2f}"
    return lambda v: f"{v:.3g}"


def _path(points: Sequence[tuple[datetime, float]], x: Any, y: Any, gap: float) -> str:
    """An SVG path through the points, lifted over gaps longer than `gap` seconds."""
    parts, last = [], None
    for at, value in points:
        verb = "M" if last is None or (at - last).total_seconds() > gap else "L"
        parts.append(f"{verb}{x(at):.1f},{y(value):.1f}")
        last = at
    return " ".join(parts)


def _step(points: Sequence[tuple[datetime, float]]) -> float:
    gaps = sorted((b[0] - a[0]).total_seconds() for a, b in pairwise(points))
    return gaps[len(gaps) // 2] if gaps else 60.0


def chart_for(alerts: Sequence[Alert], incident: Incident, timeline: Sequence[TimelineEntry],
              zone: str) -> MetricChart | None:
    """The chart of the first alert whose evidence carries a series of two points or more; else None."""
    for alert in alerts:
        evidence = evidence_of(alert.details or {})
        if evidence is not None and len(evidence.points) >= 2:
            details = alert.details.get("custom_details") or {}
            raw = details.get("evidence")
            raw = raw if isinstance(raw, dict) else {}
            return _chart(evidence, alert, incident, timeline, zone, str(details.get("kind", "")),
                          str(raw.get("ratio") or evidence.unit or "value"))
    return None


def _chart(evidence: Evidence, alert: Alert, incident: Incident, timeline: Sequence[TimelineEntry], zone: str,
           kind: str, measure: str) -> MetricChart:
    fmt = _formatter(kind)
    pages = ([e.at for e in timeline if e.kind == "page.delivered"]
             or [e.at for e in timeline if e.kind == "page.queued"])
    fired = evidence.window_end or alert.created_at  # the detector's own times, on the series' clock
    moments = {"alert": fired, "paged": min(pages) if pages else None,
               "resolved": _recovered(alert) or alert.resolved_at or incident.resolved_at}
    start, end = evidence.points[0][0], evidence.points[-1][0]
    slack = (end - start) * 0.1  # a moment just past the last point (the resolve, a bucket later) still shows
    end = max([end, *(at for at in moments.values() if at is not None and end < at <= end + slack)])
    span = max((end - start).total_seconds(), 1.0)
    values = [v for _, v in evidence.points] + [v for _, v in evidence.expected]
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad

    def x(at: datetime) -> float:
        return LEFT + (at - start).total_seconds() / span * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)

    gap = 3 * _step(evidence.points)
    marks, outside = [], []
    for label, at in moments.items():
        if at is None:
            continue
        text = f"{label} {local(at, zone, '%H:%M')}"
        if start <= at <= end:
            marks.append(Mark(label, at, x(at), text, MARK_STYLES[label]))
        else:
            outside.append(text)
    window = None
    if evidence.window_start is not None and evidence.window_start <= end:
        left = max(evidence.window_start, start)
        window = (x(left), x(min(evidence.window_end or end, end)))
    x_ticks = [Tick(x(at), local(at, zone, "%H:%M")) for at in
               (start + (end - start) * (k / 4) for k in range(5))]
    y_ticks = [Tick(y(v), fmt(v)) for v in (low + pad, (low + high) / 2, high - pad)]
    summary = _summary(evidence, alert, zone, fmt)
    zone_name = local(end, zone, "%Z")
    description = (
        f"{evidence.metric} ({measure}) from {local(start, zone, '%a %H:%M')} to "
        f"{local(end, zone, '%a %H:%M %Z')}, {len(evidence.points)} points"
        + (", with the expected value as a dashed line" if evidence.expected else "")
        + "".join(f"; {m.text}" for m in marks)
        + (f" ({', '.join(outside)}: outside the series)" if outside else "") + ".")
    return MetricChart(
        title=f"{evidence.metric} around the incident ({zone_name})", summary=summary, description=description,
        values_path=_path(evidence.points, x, y, gap), expected_path=_path(evidence.expected, x, y, gap),
        window=window, marks=marks, x_ticks=x_ticks, y_ticks=y_ticks)


def _summary(evidence: Evidence, alert: Alert, zone: str, fmt: Any) -> str:
    """e.g. "relevance 0.66 → 0.05 at 17:42; back to 0.66 at 18:11"."""
    before = evidence.baseline if evidence.baseline is not None else (
        evidence.expected[0][1] if evidence.expected else evidence.points[0][1])
    during = evidence.rate if evidence.rate is not None else min(v for _, v in evidence.points)
    fired = evidence.window_end or alert.created_at
    text = f"{evidence.metric} {fmt(before)} → {fmt(during)} at {local(fired, zone, '%H:%M')}"
    later = (alert.details or {}).get("resolve_evidence")
    rate = later.get("rate") if isinstance(later, dict) else None
    back = _recovered(alert) or alert.resolved_at
    if back is not None and isinstance(rate, int | float):
        text += f"; back to {fmt(float(rate))} at {local(back, zone, '%H:%M')}"
    return text


def _recovered(alert: Alert) -> datetime | None:
    """When the detector saw the metric recover (its resolve's own time), if it said."""
    later = (alert.details or {}).get("resolve_evidence")
    at = later.get("at") if isinstance(later, dict) else None
    return datetime.fromtimestamp(at, UTC) if isinstance(at, int | float) and at > 0 else None
