"""The MTTx summary in the console: a period and filters, the figures overall and by client, service,
severity and type, and the monthly trend chart drawn by the report's own chart code."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from onduty.app.exports.charts import trend_chart
from onduty.app.ports import ReportFilter
from onduty.app.reports import summary_report
from onduty.domain.playbook import INCIDENT_TYPES
from onduty.domain.severity import Severity
from onduty.web.ui.render import page
from onduty.web.ui.session import PageError, SignedIn

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 90
GROUP_TITLES = {"client": "By client", "service": "By service", "severity": "By severity", "type": "By type"}


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PageError(400, f"{name} must be a date like 2026-11-01; got {text!r}") from None


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request, person: SignedIn, start: str = "", end: str = "", client: str = "", service: str = "",
    severity: str = "", type: str = "",
) -> Response:
    container = request.app.state.container
    now = container.clock.now()
    last = _day(end, "to") if end else now.astimezone(UTC).date()
    first = _day(start, "from") if start else last - timedelta(days=DEFAULT_DAYS)
    if last < first:
        raise PageError(400, f"the period must end after it starts (from {first}, to {last})")
    if type and type not in INCIDENT_TYPES:
        raise PageError(400, f"type must be one of {', '.join(INCIDENT_TYPES)}; got {type!r}")
    try:
        sev = int(Severity.parse(severity)) if severity else None
    except ValueError as exc:
        raise PageError(400, str(exc)) from None
    with container.db.transaction() as store:
        directory = store.directory()
        for value, known, what in ((client, directory.clients, "client"), (service, directory.services, "service")):
            if value and value not in known:
                raise PageError(400, f"{what} {value!r} is not in the plan")
        query = ReportFilter(datetime.combine(first, datetime.min.time(), UTC),
                             datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC),
                             client or None, service or None, sev, type or None)
        report = summary_report(store, query, now)
    chart = base64.b64encode(trend_chart(report.by_month, "svg")).decode() if report.by_month else ""
    names = {c.id: c.name for c in directory.clients.values()}
    names.update({s.id: s.name for s in directory.services.values()})
    return page(request, "reports.html", {
        "person": person, "report": report, "chart": chart, "names": names, "titles": GROUP_TITLES,
        "chosen": {"start": first.isoformat(), "end": last.isoformat(), "client": client, "service": service,
                   "severity": severity, "type": type},
        "clients": sorted(directory.clients.values(), key=lambda c: c.name),
        "services": sorted(directory.services.values(), key=lambda s: s.name),
        "severities": [s.label for s in Severity], "types": INCIDENT_TYPES})
