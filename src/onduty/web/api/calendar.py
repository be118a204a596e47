"""Calendar feeds behind secret token URLs (no API key: calendar apps cannot send one).

A wrong or missing token answers 404, the same as an unknown id, so a feed's existence is not revealed.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from onduty.app.exports.calendar import FeedKind, authorized_feed
from onduty.app.ports import NotFound

router = APIRouter(prefix="/api/v1", tags=["calendars"])

ICS = "text/calendar"
FEED_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {ICS: {}}, "description": "An iCalendar (RFC 5545) feed, one event per shift, UTC times."},
    404: {"description": "Unknown id, or a wrong or missing token."},
}


def _feed(request: Request, kind: FeedKind, ident: str, token: str | None) -> Response:
    container = request.app.state.container
    try:
        with container.db.transaction() as store:
            body = authorized_feed(store, kind, ident, token, container.clock.now())
    except NotFound:
        raise HTTPException(404, "calendar not found; get the feed URL with `onduty export calendar --url`") from None
    return Response(body, media_type=ICS, headers={
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": f'inline; filename="{kind}-{ident}.ics"',
    })


@router.get("/schedules/{schedule_id}/calendar.ics", response_class=Response, responses=FEED_RESPONSES)
def schedule_calendar(request: Request, schedule_id: str, token: str | None = None) -> Response:
    """A schedule's shifts, 14 days back to 90 days ahead (URL from `onduty export calendar --url`)."""
    return _feed(request, "schedule", schedule_id, token)


@router.get("/people/{person_id}/calendar.ics", response_class=Response, responses=FEED_RESPONSES)
def person_calendar(request: Request, person_id: str, token: str | None = None) -> Response:
    """One person's shifts across every schedule, 14 days back to 90 days ahead."""
    return _feed(request, "person", person_id, token)
