"""Post-incident reviews over HTTP. A client-scoped key sees only its own client's reviews (404 for any
other) and only ever the client-safe version; it cannot change them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from onduty.app.exports.review import build_document, client_dict, export_review
from onduty.app.ports import ApiKey, NotFound
from onduty.app.reviews import (
    ReviewBundle,
    ReviewIncomplete,
    RootCauseRefused,
    action_dict,
    add_action,
    bundle_dict,
    complete_review,
    edit_review,
    review_bundle,
    update_action,
)
from onduty.web.auth import Responder, Viewer

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])
MEDIA = {"md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReviewPatch(Body):
    sections: dict[str, str] = Field(default_factory=dict, description="section name → new text")
    owner: str | None = Field(None, description="hand the review to this person (id)")
    by: str | None = None


class ActionNew(Body):
    title: str = Field(min_length=1)
    owner: str
    due: date | datetime = Field(description="a date (due at the end of that day, UTC) or a time")
    tracker_url: str | None = None
    by: str | None = None


class ActionPatch(Body):
    title: str | None = Field(None, min_length=1)
    owner: str | None = None
    due: date | datetime | None = None
    status: Literal["open", "in_progress", "done", "wont_do"] | None = None
    tracker_url: str | None = None
    by: str | None = None


class CompleteIn(Body):
    by: str | None = None


def _due(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(23, 59), tzinfo=UTC)


def _actor(key: ApiKey, by: str | None) -> str:
    return by or f"api ({key.role} key)"


def _writable(key: ApiKey) -> None:
    if key.client_id is not None:
        raise HTTPException(403, "a client-scoped key can read its client's reviews (client-safe), not change them")


def _bundle(request: Request, incident_id: int, key: ApiKey) -> ReviewBundle:
    container = request.app.state.container
    try:
        return review_bundle(container.db, incident_id, container.clock.now(), key.client_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None


def _view(request: Request, incident_id: int, key: ApiKey) -> dict[str, Any]:
    bundle = _bundle(request, incident_id, key)
    if key.client_id is not None:
        return client_dict(build_document(bundle, "client"), incident_id)
    return {"audience": "internal", **bundle_dict(bundle)}


@router.get("/{incident_id}")
def get_review(request: Request, incident_id: int, key: Viewer) -> dict[str, Any]:
    """The review: sections, figures, actions and who changed what (client keys: the client-safe version)."""
    return _view(request, incident_id, key)


@router.patch("/{incident_id}")
def patch_review(request: Request, incident_id: int, key: Responder, body: ReviewPatch) -> dict[str, Any]:
    """Write sections or change the owner; a root cause naming no systemic condition answers 422."""
    container = request.app.state.container
    _bundle(request, incident_id, key)  # another client's review is a 404 before anything else
    _writable(key)
    try:
        edit_review(container.db, incident_id, body.sections, _actor(key, body.by), container.clock.now(),
                    key.client_id, body.owner)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except RootCauseRefused as exc:
        raise HTTPException(422, {"field": "sections.root_cause", "message": f"root cause refused: {exc}"}) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return _view(request, incident_id, key)


@router.post("/{incident_id}/actions", status_code=201)
def post_action(request: Request, incident_id: int, key: Responder, body: ActionNew) -> dict[str, Any]:
    container = request.app.state.container
    _bundle(request, incident_id, key)
    _writable(key)
    try:
        action = add_action(container.db, incident_id, body.title, body.owner, _due(body.due),
                            _actor(key, body.by), container.clock.now(), body.tracker_url, key.client_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return action_dict(action)


@router.patch("/{incident_id}/actions/{action_id}")
def patch_action(request: Request, incident_id: int, action_id: int, key: Responder,
                 body: ActionPatch) -> dict[str, Any]:
    """Change an action: status (open, in_progress, done, wont_do), owner, due, title, tracker link."""
    container = request.app.state.container
    _bundle(request, incident_id, key)
    _writable(key)
    try:
        action = update_action(container.db, incident_id, action_id, _actor(key, body.by), container.clock.now(),
                               title=body.title, owner=body.owner, due_at=_due(body.due) if body.due else None,
                               status=body.status, tracker_url=body.tracker_url, client_id=key.client_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return action_dict(action)


@router.post("/{incident_id}/complete")
def complete(request: Request, incident_id: int, key: Responder, body: CompleteIn | None = None) -> dict[str, Any]:
    """Complete the review; 409 with every problem while a required section is empty or the root cause refused."""
    container = request.app.state.container
    _bundle(request, incident_id, key)
    _writable(key)
    try:
        complete_review(container.db, incident_id, _actor(key, body.by if body else None), container.clock.now(),
                        key.client_id)
    except NotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except ReviewIncomplete as exc:
        raise HTTPException(409, {"message": "the review cannot be completed yet", "problems": exc.problems}) from None
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return _view(request, incident_id, key)


@router.get("/{incident_id}/export")
def export(
    request: Request, incident_id: int, key: Viewer,
    fmt: Annotated[Literal["md", "html"], Query(alias="format")] = "md",
    audience: Literal["internal", "client"] = "internal",
) -> Response:
    """The review as Markdown or self-contained HTML; client-scoped keys always get the client version."""
    bundle = _bundle(request, incident_id, key)
    chosen: Literal["internal", "client"] = "client" if key.client_id is not None else audience
    return Response(export_review(bundle, fmt, chosen), media_type=MEDIA[fmt])
