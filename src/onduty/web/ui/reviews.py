"""The post-incident review in the console: sections, actions and the change log, edited through forms;
exports; completion with every reason it is refused. A refused root cause is shown beside its box."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onduty.app.exports.review import TITLES, Audience, export_review
from onduty.app.ports import NotFound
from onduty.app.reviews import (
    ReviewBundle,
    ReviewIncomplete,
    RootCauseRefused,
    add_action,
    complete_review,
    edit_review,
    review_bundle,
    update_action,
)
from onduty.domain.review import ACTION_STATUSES, REQUIRED_SECTIONS, SECTIONS
from onduty.web.ui.render import page
from onduty.web.ui.session import Acting, PageError, Person, SignedIn, check_csrf

router = APIRouter(include_in_schema=False)
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
STATUS_WORDS = {"open": "open", "in_progress": "in progress", "done": "done", "wont_do": "won't do"}


def has_review(request: Request, incident_id: int) -> bool:
    """Whether the incident has a review yet (it is drafted when the incident resolves)."""
    with request.app.state.container.db.transaction() as store:
        return store.review(incident_id) is not None


def _bundle(request: Request, incident_id: int) -> ReviewBundle:
    container = request.app.state.container
    try:
        return review_bundle(container.db, incident_id, container.clock.now())
    except NotFound as exc:
        raise PageError(404, f"{str(exc).capitalize()}.") from None


def _show(request: Request, incident_id: int, person: Person, status: int = 200, **extra: Any) -> Response:
    bundle = _bundle(request, incident_id)
    now = request.app.state.container.clock.now()
    directory = bundle.directory
    client = directory.clients.get(bundle.incident.client_id)
    people = sorted(directory.people.values(), key=lambda p: p.name)
    return page(request, "review.html", {
        "person": person, "b": bundle, "review": bundle.review, "incident": bundle.incident, "now": now,
        "zone": client.time_zone if client else "UTC", "titles": TITLES, "sections": SECTIONS,
        "required": REQUIRED_SECTIONS, "names": {p.id: p.name for p in people}, "people": people,
        "statuses": ACTION_STATUSES, "status_words": STATUS_WORDS, "errors": {}, "drafts": {}, **extra,
    }, status)


def _back(incident_id: int, anchor: str) -> Response:
    return RedirectResponse(f"/incidents/{incident_id}/review#{anchor}", 303)


def _due(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text.strip()), time(23, 59), tzinfo=UTC)
    except ValueError:
        raise PageError(400, f"due must be a date like 2026-12-31; got {text!r}") from None


@router.get("/incidents/{incident_id}/review", response_class=HTMLResponse)
def review_page(request: Request, incident_id: int, person: SignedIn) -> Response:
    return _show(request, incident_id, person)


@router.post("/incidents/{incident_id}/review/sections")
def save_section(
    request: Request, incident_id: int, person: Acting, section: Annotated[str, Form(max_length=40)],
    text: Annotated[str, Form(max_length=20000)] = "", csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    if section not in SECTIONS:
        raise PageError(400, f"unknown section {section!r}; sections are: {', '.join(SECTIONS)}")
    container = request.app.state.container
    try:
        edit_review(container.db, incident_id, {section: text}, person.name, container.clock.now())
    except NotFound as exc:
        raise PageError(404, f"{str(exc).capitalize()}.") from None
    except RootCauseRefused as exc:
        return _show(request, incident_id, person, 422, errors={section: f"Root cause refused: {exc}"},
                     drafts={section: text})
    except ValueError as exc:
        raise PageError(400, f"{exc}.") from None
    return _back(incident_id, f"sec-{section}")


@router.post("/incidents/{incident_id}/review/actions")
def new_action(
    request: Request, incident_id: int, person: Acting, title: Annotated[str, Form(max_length=500)] = "",
    owner: Annotated[str, Form(max_length=64)] = "", due: Annotated[str, Form(max_length=20)] = "",
    tracker_url: Annotated[str, Form(max_length=2000)] = "", csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        add_action(container.db, incident_id, title, owner, _due(due), person.name, container.clock.now(),
                   tracker_url.strip() or None)
    except NotFound as exc:
        raise PageError(404, f"{str(exc).capitalize()}.") from None
    except ValueError as exc:
        raise PageError(400, f"{exc}.") from None
    return _back(incident_id, "actions-h")


@router.post("/incidents/{incident_id}/review/actions/{action_id}")
def change_action(
    request: Request, incident_id: int, action_id: int, person: Acting,
    status: Annotated[str, Form(max_length=20)] = "", owner: Annotated[str, Form(max_length=64)] = "",
    due: Annotated[str, Form(max_length=20)] = "", tracker_url: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        update_action(container.db, incident_id, action_id, person.name, container.clock.now(),
                      status=status or None, owner=owner or None, due_at=_due(due) if due else None,
                      tracker_url=tracker_url.strip() or None)
    except NotFound as exc:
        raise PageError(404, f"{str(exc).capitalize()}.") from None
    except ValueError as exc:
        raise PageError(400, f"{exc}.") from None
    return _back(incident_id, f"action-{action_id}")


@router.post("/incidents/{incident_id}/review/complete")
def complete(request: Request, incident_id: int, person: Acting, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        complete_review(container.db, incident_id, person.name, container.clock.now())
    except NotFound as exc:
        raise PageError(404, f"{str(exc).capitalize()}.") from None
    except ReviewIncomplete as exc:
        return _show(request, incident_id, person, 409, refused=exc.problems)
    except ValueError as exc:
        return _show(request, incident_id, person, 409, refused=[str(exc)])
    return _back(incident_id, "complete-h")


@router.get("/incidents/{incident_id}/review/export")
def export(request: Request, incident_id: int, person: SignedIn, format: str = "md",
           audience: str = "internal") -> Response:
    """The review as Markdown or self-contained HTML, internal or client-safe."""
    if format not in MEDIA:
        raise PageError(400, f"format must be md or html; got {format!r}")
    if audience not in ("internal", "client"):
        raise PageError(400, f"audience must be internal or client; got {audience!r}")
    chosen: Audience = "client" if audience == "client" else "internal"
    body = export_review(_bundle(request, incident_id), format, chosen)
    name = f"review-{incident_id}-{chosen}.{format}"
    return Response(body, media_type=MEDIA[format],
                    headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"})
