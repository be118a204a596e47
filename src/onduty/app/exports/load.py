"""The on-call load and compensation report: who carried how much on-call time and how many pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from onduty.app.ports import Store
from onduty.app.schedules import clients_of_schedule, coverage_of, schedule_shifts
from onduty.domain.load import HOUR, Duty, PersonLoad, oncall_load
from onduty.domain.model import Compensation

REPORT_COLUMNS = ("person", "name", "time_zone", "hours_on_call", "hours_in_coverage", "hours_outside_coverage",
                  "pages", "night_pages", "units")


@dataclass(frozen=True)
class LoadReport:
    start: datetime
    end: datetime
    rates: Compensation
    rows: tuple[PersonLoad, ...]
    names: dict[str, str]
    zones: dict[str, str]

    def as_dicts(self) -> list[dict[str, Any]]:
        """One flat record per person (hours to 2 places, units to 2), in the report's order."""
        return [{
            "person": r.person_id, "name": self.names.get(r.person_id, r.person_id),
            "time_zone": self.zones.get(r.person_id, "UTC"),
            "hours_on_call": round(r.on_call / HOUR, 2), "hours_in_coverage": round(r.in_coverage / HOUR, 2),
            "hours_outside_coverage": round(r.outside_coverage / HOUR, 2),
            "pages": r.pages, "night_pages": r.night_pages, "units": round(r.units, 2),
            "hours_by_schedule": {s: round(h / HOUR, 2) for s, h in sorted(r.by_schedule.items())},
        } for r in self.rows]


def oncall_load_report(store: Store, start: datetime, end: datetime) -> LoadReport:
    """Hours on call (overrides included) split by the coverage of the clients each schedule answers for,
    pages delivered in [start, end), and comp-time units at the plan's rates. Busiest first."""
    if end <= start:
        raise ValueError("--to must come after --from")
    directory = store.directory()
    served = clients_of_schedule(directory)
    duties = []
    for schedule_id in sorted(directory.schedules):
        coverages = tuple(coverage_of(directory, c) for c in sorted(served.get(schedule_id, ())))
        duties += [
            Duty(s.person_id, schedule_id, s.start, s.end, coverages)
            for s in schedule_shifts(store, schedule_id, start, end) if s.person_id is not None
        ]
    members = {m for s in directory.schedules.values() for layer in s.layers for m in layer.members}
    zones = {p.id: p.time_zone for p in directory.people.values()}
    rows = oncall_load(duties, store.pages_delivered(start, end), zones, directory.compensation, members)
    names = {p.id: p.name for p in directory.people.values()}
    ordered = sorted(rows, key=lambda r: (-r.on_call, -r.pages, names.get(r.person_id, r.person_id)))
    return LoadReport(start, end, directory.compensation, tuple(ordered), names, zones)
