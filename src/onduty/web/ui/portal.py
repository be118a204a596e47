"""The client portal: a client contact sees their own organisation's incidents, nothing internal.

Shown: status, severity, service, start, the status times and the messages sent to the client (as sent).
Never shown: notes, the timeline, alerts, internal-only messages, or who sent a message. Another client's
incident answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onduty.app.accounts import PORTAL_SESSION_LIFETIME, SignInRefused, portal_sign_in, sign_out
from onduty.app.comms import communications
from onduty.app.ports import IncidentFilter
from onduty.domain.comms import KIND_NAMES, SentMessage
from onduty.domain.incidents import Incident
from onduty.web.ui.portal_reviews import shared_reviews
from onduty.web.ui.render import page
from onduty.web.ui.session import PORTAL_COOKIE, Contact, PageError, check_csrf, set_cookie

router = APIRouter(prefix="/portal", include_in_schema=False)


def _public(incident: Incident, services: dict[str, str]) -> dict[str, Any]:
    """The fields a client may see: no actor names, no notes."""
    return {"id": incident.id, "title": incident.title, "status": incident.status, "severity": incident.severity,
            "service": services.get(incident.service_id, incident.service_id), "started": incident.created_at,
            "acknowledged": incident.acknowledged_at, "mitigated": incident.mitigated_at,
            "resolved": incident.resolved_at}


def _message(message: SentMessage) -> dict[str, Any]:
    """A message as the client received it: when, what kind, subject and body; not who sent it or the findings."""
    return {"id": message.id, "kind": KIND_NAMES.get(message.kind, message.kind), "sent_at": message.sent_at,
            "subject": message.subject, "body": message.body}


@router.get("/enter/{token}")
def enter(request: Request, token: str) -> Response:
    container = request.app.state.container
    try:
        ticket = portal_sign_in(container.db, token, container.clock.now())
    except SignInRefused as exc:
        raise PageError(404, f"{exc}.") from None
    response = RedirectResponse("/portal", 303)
    set_cookie(request, response, PORTAL_COOKIE, ticket.token, int(PORTAL_SESSION_LIFETIME.total_seconds()),
               path="/portal")
    return response


@router.get("", response_class=HTMLResponse)
def portal_home(request: Request, contact: Contact) -> Response:
    with request.app.state.container.db.transaction() as store:
        directory = store.directory()
        found = store.incidents(IncidentFilter(client_id=contact.client_id, limit=200))
        shared = shared_reviews(store, [i.id for i in found if i.id is not None and not i.is_open])
    zone = directory.clients[contact.client_id].time_zone
    services = {s.id: s.name for s in directory.services.values() if s.client_id == contact.client_id}
    return page(request, "portal.html", {"contact": contact, "zone": zone, "shared": shared,
                                         "open": [_public(i, services) for i in found if i.is_open],
                                         "closed": [_public(i, services) for i in found if not i.is_open]})


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def portal_incident(request: Request, incident_id: int, contact: Contact) -> Response:
    with request.app.state.container.db.transaction() as store:
        directory = store.directory()
        incident = store.incident(incident_id, contact.client_id)
        shared = shared_reviews(store, [incident_id]) if incident is not None else set()
    if incident is None:
        raise PageError(404, f"Incident {incident_id} not found.")
    sent = [_message(m) for m, _ in communications(request.app.state.container.db, incident_id, contact.client_id)]
    services = {s.id: s.name for s in directory.services.values() if s.client_id == contact.client_id}
    return page(request, "portal_incident.html", {
        "contact": contact, "zone": directory.clients[contact.client_id].time_zone,
        "item": _public(incident, services), "shared": shared, "messages": sent})


@router.post("/sign-out")
def portal_sign_out(request: Request, contact: Contact, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(csrf, contact.csrf)
    token = request.cookies.get(PORTAL_COOKIE)
    if token:
        sign_out(request.app.state.container.db, token)
    response = page(request, "portal_signed_out.html", {})
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response
