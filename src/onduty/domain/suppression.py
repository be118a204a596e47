"""What keeps an alert from paging: silences (made by people, for a span), recurring maintenance
windows (from the plan, in the client's zone), and inhibition by dependency (an open incident on a
service this one depends on takes the alert in, instead of a new page).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from onduty.domain.matchers import Matcher, match_all
from onduty.domain.model import Restriction, Service


@dataclass(frozen=True)
class Silence:
    """Alerts matching every matcher (on `service_id` only, when set) are held from `start` to `end`."""

    matchers: tuple[Matcher, ...]
    start: datetime
    end: datetime
    created_by: str
    comment: str
    service_id: str | None = None
    expired_at: datetime | None = None
    id: int | None = None

    def state(self, now: datetime) -> str:
        if self.expired_at is not None and self.expired_at <= now:
            return "expired"
        if now < self.start:
            return "pending"
        return "active" if now < self.end else "expired"

    def applies(self, service_id: str, labels: Mapping[str, str], now: datetime) -> bool:
        return (self.state(now) == "active" and self.service_id in (None, service_id)
                and match_all(self.matchers, labels))


@dataclass(frozen=True)
class MaintenanceWindow:
    """A recurring window (days, start-end wall time) during which matching alerts do not page.

    Scope: the services listed, every service of the clients listed, or (neither) every service; the
    window is read in `time_zone`, or else in the zone of the alert's client.
    """

    id: str
    window: Restriction
    services: frozenset[str] = frozenset()
    clients: frozenset[str] = frozenset()
    matchers: tuple[Matcher, ...] = ()
    time_zone: str | None = None

    def applies(self, service: Service, client_zone: str, labels: Mapping[str, str], now: datetime) -> bool:
        if self.services and service.id not in self.services:
            return False
        if self.clients and service.client_id not in self.clients:
            return False
        local = now.astimezone(ZoneInfo(self.time_zone or client_zone)).replace(tzinfo=None)
        return self.window.active(local) and match_all(self.matchers, labels)


def suppressed_by(
    service: Service, client_zone: str, labels: Mapping[str, str], now: datetime,
    silences: Sequence[Silence], windows: Sequence[MaintenanceWindow],
) -> str | None:
    """Why this alert must not page now ("silence 3", "maintenance window 'sunday-reindex'"), or None."""
    for silence in silences:
        if silence.applies(service.id, labels, now):
            return f"silence {silence.id}"
    for window in windows:
        if window.applies(service, client_zone, labels, now):
            return f"maintenance window {window.id!r}"
    return None


def upstream(services: Mapping[str, Service], service_id: str) -> list[str]:
    """Every service `service_id` depends on, directly or not, nearest first (cycles are cut)."""
    found: list[str] = []
    frontier = [service_id]
    seen = {service_id}
    while frontier:
        nxt: list[str] = []
        for current in frontier:
            service = services.get(current)
            for dep in service.depends_on if service else ():
                if dep not in seen:
                    seen.add(dep)
                    found.append(dep)
                    nxt.append(dep)
        frontier = nxt
    return found
