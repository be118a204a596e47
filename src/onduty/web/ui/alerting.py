"""Silences in force and heartbeat checks, read-only: what is being held back, and which jobs went quiet."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from onduty.app.heartbeats import heartbeat_report
from onduty.app.silences import list_silences
from onduty.web.ui.render import page
from onduty.web.ui.session import SignedIn

router = APIRouter(include_in_schema=False)
BEAT_STATES = {"ok": ("✓", "ok"), "missed": ("✗", "MISSED"), "never": ("○", "never pinged")}


@router.get("/alerting", response_class=HTMLResponse)
def alerting_page(request: Request, person: SignedIn) -> Response:
    container = request.app.state.container
    now = container.clock.now()
    silences = list_silences(container.db, now)
    beats = heartbeat_report(container.db, now)
    with container.db.transaction() as store:
        services = {s.id: s.name for s in store.directory().services.values()}
    return page(request, "alerting.html", {
        "person": person, "now": now, "services": services, "beat_states": BEAT_STATES, "beats": beats,
        "silences": [(s, [str(m) for m in s.matchers], s.state(now)) for s in silences]})
