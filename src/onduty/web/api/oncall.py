"""`GET /api/v1/oncall`: who would be paged for a service, now or at a given instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, HTTPException, Request

from onduty.app.oncall import oncall_for_service
from onduty.app.ports import NotFound
from onduty.web.auth import Viewer
from onduty.web.schemas import OnCallLevel, OnCallOut, OnCallPerson

router = APIRouter(prefix="/api/v1", tags=["on-call"])


@router.get("/oncall", response_model=list[OnCallOut])
def oncall(request: Request, key: Viewer, service: str | None = None, at: datetime | None = None) -> list[OnCallOut]:
    """Every level of each service's policy resolved to people; `at` defaults to now (naive means UTC)."""
    container = request.app.state.container
    when = at or container.clock.now()
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    with container.db.transaction() as store:
        directory = store.directory()
        overrides = store.overrides(None, when, when + timedelta(seconds=1))
    wanted = [service] if service else sorted(
        s.id for s in directory.services.values() if key.client_id in (None, s.client_id)
    )
    out = []
    for service_id in wanted:
        try:
            levels = oncall_for_service(directory, service_id, when, key.client_id, overrides)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        people = directory.people
        out.append(OnCallOut(
            service=service_id, client=directory.services[service_id].client_id, at=when,
            levels=[OnCallLevel(
                level=lv.level, ack_timeout_minutes=lv.ack_timeout.total_seconds() / 60,
                on_call=[OnCallPerson(
                    person=r.person_id, name=people[r.person_id].name, via=f"{r.target.kind}:{r.target.id}",
                    covering_for=r.covering_for, cover_reason=r.cover_reason,
                ) for r in lv.recipients],
                unreachable=[f"{u.target.kind}:{u.target.id}: {u.reason}" for u in lv.unreachable],
            ) for lv in levels],
        ))
    return out
