"""Templates and the small formatting helpers they share: times in a zone, time left, status and clocks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from onduty.domain.clocks import Clock
from onduty.domain.incidents import ALLOWED, VERBS
from onduty.domain.severity import Severity

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))

# Status is told in words and a symbol, never by colour alone.
STATUS = {
    "triggered": ("▲", "Triggered"),
    "acknowledged": ("●", "Acknowledged"),
    "mitigated": ("◐", "Mitigated"),
    "resolved": ("✓", "Resolved"),
    "monitoring": ("◑", "Monitoring"),
    "closed": ("■", "Closed"),
}
CLOCK_NAMES = {
    "acknowledge": "Acknowledge", "first_notice": "First client notice", "next_update": "Next client update",
    "resolve": "Resolve or escalate", "review": "Review", "security_notice": "Security notification",
}
ACTION_LABELS = {"acknowledged": "Acknowledge", "mitigated": "Mark mitigated", "resolved": "Resolve"}


def humanize(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} d {hours % 24} h"


def local(when: datetime | None, zone: str = "UTC", fmt: str = "%a %d %b %H:%M %Z") -> str:
    if when is None:
        return "—"
    return when.astimezone(ZoneInfo(zone)).strftime(fmt)


@dataclass(frozen=True)
class ClockView:
    name: str
    label: str
    state: str  # running, met, missed, met_late
    due: datetime
    text: str
    symbol: str
    left_s: float = 0.0  # seconds left on the server's clock when drawn; the page counts down from it


def clock_view(clock: Clock, now: datetime, zone: str, is_open: bool = True) -> ClockView:
    """A clock in words; a missed one says by how much only while the incident is still open."""
    label = CLOCK_NAMES.get(clock.name, clock.name)
    near = abs(clock.due - now) < timedelta(hours=20)  # a due time on another day names its day
    due = local(clock.due, zone, "%H:%M %Z" if near else "%a %d %b %H:%M %Z")
    if clock.state == "running":
        return ClockView(clock.name, label, "running", clock.due, f"{humanize(clock.left(now))} left (due {due})", "◔",
                         clock.left(now).total_seconds())
    if clock.state == "missed":
        by = f" by {humanize(clock.left(now))}" if is_open else ""
        return ClockView(clock.name, label, "missed", clock.due, f"MISSED{by} (due {due})", "✗")
    met = local(clock.met_at, zone, "%H:%M %Z")
    if clock.state == "met_late":
        return ClockView(clock.name, label, "met_late", clock.due, f"met late at {met} (due {due})", "!")
    return ClockView(clock.name, label, "met", clock.due, f"met at {met} (due {due})", "✓")


def severity_label(severity: int) -> str:
    return Severity(severity).label


def allowed_actions(status: str) -> list[tuple[str, str]]:
    order = ("acknowledged", "mitigated", "resolved")
    return [(to, ACTION_LABELS[to]) for to in order if to in ALLOWED[status] and to in VERBS]


def from_epoch(seconds: float) -> datetime:
    """Detector evidence gives instants as Unix seconds; pages show them as times."""
    return datetime.fromtimestamp(seconds, UTC)


def humanize_seconds(seconds: float) -> str:
    return humanize(timedelta(seconds=seconds))


templates.env.globals.update(STATUS=STATUS, local=local, humanize=humanize, humanize_seconds=humanize_seconds,
                             severity_label=severity_label, from_epoch=from_epoch)


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response
