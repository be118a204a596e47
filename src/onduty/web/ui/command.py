"""Incident command in the console: change the severity with a reason, escalate now, assign or hand over roles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from onduty.app.escalate import CannotEscalate, escalate_now
from onduty.app.lifecycle import change_severity
from onduty.app.ports import NotFound
from onduty.app.roles import assign_role, roles_of
from onduty.domain.incidents import IllegalTransition, Incident
from onduty.domain.roles import ROLE_LABELS, ROLES
from onduty.domain.severity import Severity
from onduty.web.ui.session import Acting, PageError, check_csrf

router = APIRouter(include_in_schema=False)


def command_context(request: Request, incident: Incident) -> dict[str, Any]:
    """Who holds each role (assigned or by default), and the people and levels the forms offer."""
    with request.app.state.container.db.transaction() as store:
        directory = store.directory()
        held = roles_of(store, directory, incident)
    people = sorted(directory.people.values(), key=lambda p: p.name)
    roles = [(name, ROLE_LABELS[name], held.get(name)) for name in ROLES]
    return {"roles": roles, "role_people": people, "names": {p.id: p.name for p in people},
            "severities": [s.label for s in Severity]}


def _back(incident_id: int) -> Response:
    return RedirectResponse(f"/incidents/{incident_id}#command-h", 303)


@router.post("/incidents/{incident_id}/severity")
def severity(
    request: Request, incident_id: int, person: Acting, severity: Annotated[str, Form(max_length=8)],
    reason: Annotated[str, Form(max_length=2000)] = "", csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        change_severity(container.db, incident_id, Severity.parse(severity), reason, person.name,
                        container.clock.now())
    except NotFound:
        raise PageError(404, f"Incident {incident_id} not found.") from None
    except IllegalTransition as exc:
        raise PageError(409, str(exc)) from None
    except ValueError as exc:
        raise PageError(400, f"{exc}.") from None
    return _back(incident_id)


@router.post("/incidents/{incident_id}/roles")
def assign(
    request: Request, incident_id: int, person: Acting, role: Annotated[str, Form(max_length=40)],
    who: Annotated[str, Form(max_length=64)], csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        assign_role(container.db, incident_id, role, who, person.name, container.clock.now())
    except NotFound:
        raise PageError(404, f"Incident {incident_id} not found.") from None
    except ValueError as exc:
        raise PageError(400, f"{exc}.") from None
    return _back(incident_id)


@router.post("/incidents/{incident_id}/escalate")
def escalate(
    request: Request, incident_id: int, person: Acting, reason: Annotated[str, Form(max_length=4000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        escalate_now(container.db, incident_id, reason, person.name, container.clock.now())
    except NotFound:
        raise PageError(404, f"Incident {incident_id} not found.") from None
    except CannotEscalate as exc:
        raise PageError(409 if reason.strip() else 400, f"{exc}.") from None
    return RedirectResponse(f"/incidents/{incident_id}", 303)
