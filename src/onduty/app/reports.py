"""The summary report: MTTD, MTTA, MTTR, deadlines met, escalations, reviews and actions over a period,
overall, by client, service, severity and type, and per month. Exercises and tests never count."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from onduty.app.ports import ReportFilter, Store
from onduty.domain.mttx import IncidentFigures, Summary, incident_figures, summarize
from onduty.domain.review import detector_of, evidence_of
from onduty.domain.severity import Severity

GROUPINGS: dict[str, Callable[[IncidentFigures], str]] = {
    "client": lambda r: r.client_id,
    "service": lambda r: r.service_id,
    "severity": lambda r: Severity(r.severity).label,
    "type": lambda r: r.incident_type,
}
CSV_COLUMNS = (
    "scope", "key", "incidents", "open", "reopened",
    "mttd_mean_s", "mttd_median_s", "mttd_p90_s", "mtta_mean_s", "mtta_median_s", "mtta_p90_s",
    "mttr_mean_s", "mttr_median_s", "mttr_p90_s", "first_notice_met_pct", "updates_met_pct", "escalations",
    "reviews_on_time_pct", "actions_done", "actions_overdue",
)


@dataclass(frozen=True)
class SummaryReport:
    query: ReportFilter
    rows: tuple[IncidentFigures, ...]
    overall: Summary
    by: dict[str, dict[str, Summary]]
    by_month: dict[str, Summary]

    def as_dict(self) -> dict[str, Any]:
        q = self.query
        return {
            "from": q.start.isoformat(), "to": q.end.isoformat(),
            "filters": {"client": q.client_id, "service": q.service_id,
                        "severity": Severity(q.severity).label if q.severity else None, "type": q.incident_type},
            "overall": asdict(self.overall),
            **{f"by_{name}": {k: asdict(v) for k, v in groups.items()} for name, groups in self.by.items()},
            "by_month": {k: asdict(v) for k, v in self.by_month.items()},
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        rows = [_csv_row("overall", "all", self.overall)]
        for name, groups in (*self.by.items(), ("month", self.by_month)):
            rows += [_csv_row(name, key, value) for key, value in groups.items()]
        return rows


def _csv_row(scope: str, key: str, s: Summary) -> dict[str, Any]:
    row: dict[str, Any] = {"scope": scope, "key": key, "incidents": s.incidents, "open": s.open,
                           "reopened": s.reopened}
    for name, figure in (("mttd", s.mttd), ("mtta", s.mtta), ("mttr", s.mttr)):
        row.update({f"{name}_mean_s": figure.mean, f"{name}_median_s": figure.median, f"{name}_p90_s": figure.p90})
    row.update(first_notice_met_pct=s.first_notice_met_pct, updates_met_pct=s.updates_met_pct,
               escalations=s.escalations, reviews_on_time_pct=s.reviews_on_time_pct,
               actions_done=s.actions_done, actions_overdue=s.actions_overdue)
    return row


def _grouped(rows: Sequence[IncidentFigures], key: Callable[[IncidentFigures], str]) -> dict[str, Summary]:
    groups: dict[str, list[IncidentFigures]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return {name: summarize(members) for name, members in sorted(groups.items())}


def summary_report(store: Store, query: ReportFilter, now: datetime) -> SummaryReport:
    """Figures for the incidents declared in [query.start, query.end) that match the filters."""
    incidents = store.report_incidents(query)
    ids = [i.id for i in incidents if i.id is not None]
    timelines, alerts, reviews = store.timelines(ids), store.alerts_of_incidents(ids), store.reviews_of(ids)
    policy = store.directory().severity
    rows = []
    for incident in incidents:
        assert incident.id is not None
        signals = [incident.first_signal_at] + [a.first_signal_at for a in alerts[incident.id]]
        for alert in alerts[incident.id]:
            found = evidence_of(alert.details) if detector_of(alert.source, alert.details) else None
            signals.append(found.window_start if found else None)
        first = min((s for s in signals if s is not None), default=None)
        review, actions = reviews.get(incident.id, (None, []))
        rows.append(incident_figures(incident, timelines[incident.id], first,
                                     policy.level(Severity(incident.severity)), review, actions, now))
    return SummaryReport(query, tuple(rows), summarize(rows),
                         {name: _grouped(rows, key) for name, key in GROUPINGS.items()},
                         _grouped(rows, lambda r: r.month))
