"""Client messages from the incident page: check a message, or check and send it, as the API does.

A Sev1/Sev2 message the check objects to is refused unless an override reason is given (then recorded).
Bad input re-renders the page with the form as typed and what to change; nothing is sent.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from onduty.app.comms import MessageRefused, send
from onduty.app.ports import NotFound
from onduty.domain.comms import Kind
from onduty.plan.comms_templates import TemplateFailed
from onduty.web.ui.composer import FIELD_PREFIX, composer, kind_from
from onduty.web.ui.console import render_incident
from onduty.web.ui.session import Acting, PageError, Person, check_csrf

router = APIRouter(include_in_schema=False)
MAX_OVERRIDE_CHARS = 2000
ACTIONS = ("check", "send")


@router.post("/incidents/{incident_id}/messages")
async def message(request: Request, incident_id: int, person: Acting) -> Response:
    """`action=check` shows the findings; `action=send` checks again and sends when allowed."""
    form = await request.form()
    values = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    return await run_in_threadpool(_handle, request, incident_id, person, values)


def _handle(request: Request, incident_id: int, person: Person, form: dict[str, str]) -> Response:
    check_csrf(form.get("csrf"), person.csrf)
    action = form.get("action", "")
    if action not in ACTIONS:
        raise PageError(400, f"action must be check or send; got {action!r}")
    try:
        kind: Kind = kind_from(form.get("kind", ""), "initial")
    except ValueError as exc:
        raise PageError(400, f"{exc}.") from None
    given = {key.removeprefix(FIELD_PREFIX): value for key, value in form.items() if key.startswith(FIELD_PREFIX)}
    reason = form.get("override_reason", "").strip()
    container = request.app.state.container
    with container.db.transaction() as store:
        incident = store.incident(incident_id)
    if incident is None:
        raise PageError(404, f"Incident {incident_id} not found.")

    def again(status: int, error: str = "") -> Response:
        view = composer(request, incident, kind, given, checked=True, error=error, override_reason=reason)
        if view["composer"]["error"] and status == 200:
            status = 400  # the fields themselves are wrong (unknown, too long): nothing to check
        return render_incident(request, person, incident_id, composer_view=view, status=status)

    if len(reason) > MAX_OVERRIDE_CHARS:
        return again(400, f"The override reason is {len(reason)} characters; keep it under {MAX_OVERRIDE_CHARS}.")
    if action == "check":
        return again(200)
    try:
        _, record = send(container.db, incident_id, kind, given, container.clock.now(), actor=person.name,
                         override_reason=reason or None, link_base=container.settings.public_url)
    except NotFound:
        raise PageError(404, f"Incident {incident_id} not found.") from None
    except MessageRefused as exc:
        return again(422, f"Not sent: the check found {len(exc.findings)} problem(s) in this Sev"
                          f"{incident.severity} message. Fix them, or give an override reason (it is recorded "
                          "on the timeline).")
    except TemplateFailed as exc:
        return again(422, f"Not sent: the message template failed: {exc}")
    except ValueError as exc:
        return again(400, f"Not sent: {exc}")
    return RedirectResponse(f"/incidents/{incident_id}?sent={record.id}#compose-h", 303)
