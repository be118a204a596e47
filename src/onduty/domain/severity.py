"""Severity levels, what each demands (SPEC §2), and how source severities map onto them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import IntEnum
from typing import Literal

ReviewRule = Literal["mandatory", "recommended", "optional", "none"]
Paging = Literal["all_hands", "on_call", "assess", "none"]


class Severity(IntEnum):
    SEV1 = 1
    SEV2 = 2
    SEV3 = 3
    SEV4 = 4

    @property
    def label(self) -> str:
        return f"Sev{self.value}"

    @classmethod
    def parse(cls, text: str | int) -> Severity:
        """Accept 1, "1", "sev1" or "Sev1"; raise ValueError naming the accepted forms."""
        raw = str(text).strip().lower().removeprefix("sev").strip()
        if raw in {"1", "2", "3", "4"}:
            return cls(int(raw))
        raise ValueError(f"severity {text!r} is not one of sev1, sev2, sev3, sev4")


@dataclass(frozen=True)
class SeverityLevel:
    """The obligations one severity carries; None means the obligation does not apply."""

    severity: Severity
    name: str
    meaning: str
    paging: Paging
    first_notice: timedelta | None
    update_every: timedelta | None
    dedicated_channel: bool
    monitor_for: timedelta | None
    review: ReviewRule
    review_due: timedelta | None

    @property
    def pages(self) -> bool:
        return self.paging != "none"


DEFAULT_LEVELS: Mapping[Severity, SeverityLevel] = {
    Severity.SEV1: SeverityLevel(
        Severity.SEV1, "critical",
        "production down or badly degraded; client revenue or data integrity hit",
        "all_hands", timedelta(minutes=30), timedelta(minutes=60), True,
        timedelta(minutes=60), "mandatory", timedelta(hours=48),
    ),
    Severity.SEV2: SeverityLevel(
        Severity.SEV2, "high", "degraded but working; the workaround is not sustainable",
        "on_call", timedelta(hours=2), timedelta(hours=4), False,
        timedelta(minutes=30), "recommended", timedelta(days=7),
    ),
    Severity.SEV3: SeverityLevel(
        Severity.SEV3, "medium", "a non-critical function impaired; no immediate business impact",
        "assess", None, None, False, timedelta(minutes=30), "optional", None,
    ),
    Severity.SEV4: SeverityLevel(
        Severity.SEV4, "low", "cosmetic or informational", "none", None, None, False, None, "none", None,
    ),
}

DEFAULT_EVENT_SEVERITY: Mapping[str, Severity] = {
    "critical": Severity.SEV1,
    "error": Severity.SEV2,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
}


@dataclass(frozen=True)
class SeverityPolicy:
    levels: Mapping[Severity, SeverityLevel] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    event_severity: Mapping[str, Severity] = field(default_factory=lambda: dict(DEFAULT_EVENT_SEVERITY))
    reminder_lead: timedelta = timedelta(minutes=5)  # how long before a clock is due its owner is reminded
    security_notification_deadline: timedelta = timedelta(hours=72)  # security incidents: notify authorities

    def from_event(self, event_severity: str) -> Severity:
        """Map a source's severity word (PagerDuty's critical/error/warning/info) to a level."""
        return self.event_severity.get(event_severity.lower(), Severity.SEV2)

    def level(self, severity: Severity) -> SeverityLevel:
        return self.levels[severity]
