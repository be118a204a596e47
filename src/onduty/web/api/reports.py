"""The summary report over HTTP; a client-scoped key gets its own client's figures only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request

from onduty.app.ports import ReportFilter
from onduty.app.reports import summary_report
from onduty.domain.severity import Severity
from onduty.web.auth import Viewer

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
IncidentType = Literal["model_degradation", "pipeline_failure", "api_availability", "security", "other"]


def _bound(value: date | datetime, *, end: bool) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value + timedelta(days=1) if end else value, time(), tzinfo=UTC)


@router.get("/summary")
def summary(
    request: Request, key: Viewer,
    start: Annotated[date | datetime, Query(alias="from", description="a date or time (naive means UTC)")],
    end: Annotated[date | datetime, Query(alias="to", description="a bare date includes that whole day")],
    client: str | None = None, service: str | None = None,
    severity: Annotated[str | None, Query(description="sev1 … sev4")] = None,
    incident_type: Annotated[IncidentType | None, Query(alias="type")] = None,
) -> dict[str, Any]:
    """MTTD, MTTA, MTTR (mean, median, p90), deadlines met, escalations, reviews and actions."""
    lo, hi = _bound(start, end=False), _bound(end, end=True)
    if hi <= lo:
        raise HTTPException(400, "`to` must come after `from`")
    try:
        sev = int(Severity.parse(severity)) if severity else None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    if key.client_id is not None:
        if client not in (None, key.client_id):
            raise HTTPException(404, f"client {client!r} not found")
        client = key.client_id
    container = request.app.state.container
    now = container.clock.now()
    with container.db.transaction() as store:
        if client is not None and client not in store.directory().clients:
            raise HTTPException(404, f"client {client!r} not found")
        return summary_report(store, ReportFilter(lo, hi, client, service, sev, incident_type), now).as_dict()
