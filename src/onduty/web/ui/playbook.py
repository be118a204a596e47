"""The incident's playbook in the console: the five steps with their timeboxes, ticked from the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from onduty.app.playbook import PlaybookConflict, PlaybookReport, playbook, tick
from onduty.app.ports import NotFound
from onduty.web.ui.render import humanize
from onduty.web.ui.session import Acting, PageError, check_csrf

router = APIRouter(include_in_schema=False)
STATES = {"upcoming": ("○", "upcoming"), "running": ("◔", "in progress"), "overrun": ("✗", "OVERRUN"),
          "done": ("✓", "done"), "done_late": ("!", "done late"), "waiting": ("…", "waits for the resolution")}


def playbook_for(request: Request, incident_id: int) -> PlaybookReport:
    container = request.app.state.container
    return playbook(container.db, incident_id, container.clock.now())


def step_state(state: str, left: object, is_open: bool = True) -> str:
    """A step's timebox in words: the state, and the time left or overrun while the incident is open."""
    symbol, text = STATES.get(state, ("", state))
    if not is_open:
        return f"{symbol} {text}"
    if state == "running" and left is not None:
        return f"{symbol} {text}, {humanize(left)} left"  # type: ignore[arg-type]
    if state == "overrun" and left is not None:
        return f"{symbol} {text} by {humanize(left)}"  # type: ignore[arg-type]
    return f"{symbol} {text}"


@router.post("/incidents/{incident_id}/playbook/{item_id}")
def tick_item(
    request: Request, incident_id: int, item_id: str, person: Acting, done: Annotated[str, Form()] = "1",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        tick(container.db, incident_id, item_id, person.name, container.clock.now(), done=done == "1")
    except NotFound:
        raise PageError(404, f"Incident {incident_id} not found.") from None
    except PlaybookConflict as exc:
        raise PageError(409, f"{exc}; the page was out of date.") from None
    except ValueError as exc:
        raise PageError(400, str(exc)) from None
    return RedirectResponse(f"/incidents/{incident_id}#playbook-h", 303)
