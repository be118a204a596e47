"""Shared reviews in the client portal: the client-safe version of a completed review of the client's own
incident (roles instead of names, no internal notes, no change log); drafts and other clients' are 404."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from onduty.app.exports.review import build_document, export_review
from onduty.app.ports import NotFound, Store
from onduty.app.reviews import ReviewBundle, review_bundle
from onduty.web.ui.render import page
from onduty.web.ui.session import Contact, PageError

router = APIRouter(prefix="/portal", include_in_schema=False)


def shared_reviews(store: Store, incident_ids: Sequence[int]) -> set[int]:
    """The incidents (of those given) whose review is completed, and so shared with the client."""
    return {i for i, (review, _) in store.reviews_of(list(incident_ids)).items() if review.status == "completed"}


def _shared(request: Request, incident_id: int, client_id: str) -> ReviewBundle:
    container = request.app.state.container
    try:
        bundle = review_bundle(container.db, incident_id, container.clock.now(), client_id)
    except NotFound:
        bundle = None
    if bundle is None or bundle.review.status != "completed":
        raise PageError(404, f"No shared review for incident {incident_id}.")
    return bundle


@router.get("/incidents/{incident_id}/review", response_class=HTMLResponse)
def portal_review(request: Request, incident_id: int, contact: Contact) -> Response:
    doc = build_document(_shared(request, incident_id, contact.client_id), "client")
    chart = base64.b64encode(doc.chart_png).decode()
    return page(request, "portal_review.html", {"contact": contact, "doc": doc, "incident_id": incident_id,
                                                "chart": chart})


@router.get("/incidents/{incident_id}/review.html")
def portal_review_html(request: Request, incident_id: int, contact: Contact) -> Response:
    body = export_review(_shared(request, incident_id, contact.client_id), "html", "client")
    return Response(body, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})
