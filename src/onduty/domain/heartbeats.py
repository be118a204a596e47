"""Heartbeat checks (dead-man's switches): a job pings every `period`; no ping within period + grace
raises an alert for its service, and the next ping resolves it. A check is armed when its first key
is issued (or by its first ping, whichever comes first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from onduty.domain.alerts import AlertEvent


@dataclass(frozen=True)
class HeartbeatCheck:
    id: str
    service_id: str
    period: timedelta
    grace: timedelta
    severity: str = "error"  # a source severity word, mapped like any event's

    def due_after(self, beat_at: datetime) -> datetime:
        """When silence since `beat_at` becomes a missed beat."""
        return beat_at + self.period + self.grace

    @property
    def dedup_key(self) -> str:
        return f"heartbeat:{self.id}"

    def labels(self) -> dict[str, str]:
        return {"alertname": "HeartbeatMissed", "heartbeat": self.id, "severity": self.severity}


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def missed_event(check: HeartbeatCheck, last_beat_at: datetime, never_pinged: bool = False) -> AlertEvent:
    """The alert a missed beat raises (`last_beat_at` is when the key was issued if it never pinged)."""
    since = "its key was issued at" if never_pinged else "no ping since"
    return AlertEvent(
        action="trigger", dedup_key=check.dedup_key,
        summary=(f"Heartbeat {check.id!r} missed: {'no ping since ' if never_pinged else ''}{since} "
                 f"{last_beat_at:%Y-%m-%d %H:%M:%S %Z} "
                 f"(expected every {_span(check.period)}, grace {_span(check.grace)})"),
        source="onduty heartbeat", severity=check.severity, timestamp=check.due_after(last_beat_at),
        custom_details={"last_beat_at": last_beat_at.isoformat(), "period": _span(check.period),
                        "grace": _span(check.grace)},
        labels=check.labels(),
    )


def resumed_event(check: HeartbeatCheck) -> AlertEvent:
    """The resolve a ping after a missed beat sends."""
    return AlertEvent(action="resolve", dedup_key=check.dedup_key, source="onduty heartbeat",
                      labels=check.labels())


@dataclass(frozen=True)
class HeartbeatState:
    """What the database knows of a check: its last ping, when it falls due, and whether it is missed."""

    check_id: str
    service_id: str
    last_beat_at: datetime
    due_at: datetime
    missed_at: datetime | None
    beats: int
