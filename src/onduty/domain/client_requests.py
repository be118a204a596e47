"""Requests to the client's own team (SPEC §5 step 3), tracked like a clock: due, time left, met or missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

RequestState = Literal["running", "met", "met_late", "missed"]


@dataclass(frozen=True)
class ClientRequest:
    id: int
    incident_id: int
    text: str
    due_at: datetime
    created_by: str
    created_at: datetime
    done_at: datetime | None = None
    done_by: str | None = None
    miss_recorded_at: datetime | None = None

    def state(self, now: datetime) -> RequestState:
        """Met when done by its due time; missed once the due time passes undone (met late if done after)."""
        if self.done_at is not None:
            return "met" if self.done_at <= self.due_at else "met_late"
        return "missed" if now > self.due_at else "running"

    def left(self, now: datetime) -> timedelta:
        return self.due_at - now

    def miss_to_record(self, now: datetime) -> bool:
        """A miss goes on the timeline once: the first time anyone looks after the due time."""
        return self.miss_recorded_at is None and (self.done_at or now) > self.due_at
