"""iCalendar (RFC 5545) feeds of on-call shifts, per schedule and per person, behind a secret token URL.

A feed covers 14 days back to 90 days ahead. Shifts are computed with a margin on both sides, so a
shift crossing the window's edge keeps its real start and end: its UID (schedule, person, start)
stays the same from one fetch to the next while the window slides, and calendar apps update the
event instead of replacing it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import quote

from icalendar import Calendar, Event

from onduty.app.exports.text import name_of
from onduty.app.ports import NotFound, Store
from onduty.app.schedules import LONGEST_SHIFT, schedule_or_404, schedule_shifts
from onduty.domain.model import Directory
from onduty.domain.schedules import Shift

FeedKind = Literal["schedule", "person"]
FEED_BACK = timedelta(days=14)
FEED_AHEAD = timedelta(days=90)
MARGIN = LONGEST_SHIFT
SECRET_NAME = "calendar"
TOKEN_LENGTH = 32
PRODID = "-//onduty//on-call calendar//EN"


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """The span a feed covers by default: 14 days back to 90 days ahead."""
    return now - FEED_BACK, now + FEED_AHEAD


def feed_token(store: Store, kind: FeedKind, ident: str, now: datetime) -> str:
    """The URL token of one feed: HMAC-SHA256 keyed by this installation's secret (made on first use)."""
    secret = store.instance_secret(SECRET_NAME, lambda: secrets.token_urlsafe(32), now)
    digest = hmac.new(secret.encode(), f"calendar:{kind}:{ident}".encode(), hashlib.sha256).hexdigest()
    return digest[:TOKEN_LENGTH]


def token_matches(store: Store, kind: FeedKind, ident: str, token: str | None, now: datetime) -> bool:
    """Constant-time check of a presented token."""
    expected = feed_token(store, kind, ident, now)
    return hmac.compare_digest(expected.encode(), (token or "").encode())


def feed_url(public_url: str, kind: FeedKind, ident: str, token: str) -> str:
    """The address a calendar app subscribes to; the token in it is the only key."""
    folder = "schedules" if kind == "schedule" else "people"
    return f"{public_url.rstrip('/')}/api/v1/{folder}/{quote(ident, safe='')}/calendar.ics?token={token}"


def check_feed_exists(directory: Directory, kind: FeedKind, ident: str) -> None:
    """Raise NotFound naming the known ids when the schedule or person is not in the plan."""
    if kind == "schedule":
        schedule_or_404(directory, ident)
    elif ident not in directory.people:
        known = ", ".join(sorted(directory.people)) or "none"
        raise NotFound(f"person {ident!r} not found; known people: {known}")


def feed_shifts(store: Store, kind: FeedKind, ident: str, start: datetime, end: datetime) -> list[tuple[str, Shift]]:
    """(schedule id, shift) of every owned shift overlapping [start, end), unclipped, in time order."""
    directory = store.directory()
    check_feed_exists(directory, kind, ident)
    wanted = [ident] if kind == "schedule" else sorted(directory.schedules)
    found = []
    for schedule_id in wanted:
        for shift in schedule_shifts(store, schedule_id, start - MARGIN, end + MARGIN):
            if shift.person_id is None or shift.end <= start or shift.start >= end:
                continue
            if kind == "person" and shift.person_id != ident:
                continue
            found.append((schedule_id, shift))
    return sorted(found, key=lambda item: (item[1].start, item[0]))


def event_uid(schedule_id: str, person_id: str, start: datetime) -> str:
    """Deterministic, so a re-fetch names the same shift the same way and apps update rather than duplicate."""
    return f"{schedule_id}.{person_id}.{start.astimezone(UTC):%Y%m%dT%H%M%SZ}@onduty"


def describe(directory: Directory, schedule_id: str, shift: Shift) -> str:
    """Who the shift covers and why, then where it comes from."""
    schedule = directory.schedules[schedule_id]
    lines = []
    if shift.covering_for is not None:
        lines.append(f"Covering for {name_of(directory, shift.covering_for)} ({shift.cover_reason}).")
    elif shift.override_id is not None:
        lines.append(f"Override: {shift.cover_reason}.")
    source = "set by an override" if shift.layer == "override" else f"rotation layer {shift.layer}"
    lines.append(f"Schedule: {schedule.name} (id {schedule_id}); {source}.")
    return "\n".join(lines)


def render_calendar(directory: Directory, title: str, items: list[tuple[str, Shift]], now: datetime) -> bytes:
    """The VCALENDAR text: one VEVENT per shift, UTC times, DTSTAMP from `now`."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", title)
    calendar.add("x-wr-calname", title)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # the older name of REFRESH-INTERVAL (Outlook)
    stamp = now.astimezone(UTC)
    for schedule_id, shift in items:
        assert shift.person_id is not None
        event = Event()
        event.add("uid", event_uid(schedule_id, shift.person_id, shift.start))
        event.add("dtstamp", stamp)
        event.add("dtstart", shift.start.astimezone(UTC))
        event.add("dtend", shift.end.astimezone(UTC))
        event.add("summary", f"On call: {schedule_id} ({name_of(directory, shift.person_id)})")
        event.add("description", describe(directory, schedule_id, shift))
        event.add("transp", "TRANSPARENT")  # on call is not busy: keep free/busy open
        event.add("categories", ["on-call"])
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def calendar_feed(store: Store, kind: FeedKind, ident: str, now: datetime,
                  start: datetime | None = None, end: datetime | None = None) -> bytes:
    """The feed of a schedule or a person over [start, end) (default: the feed window around `now`)."""
    default_start, default_end = feed_window(now)
    start, end = start or default_start, end or default_end
    items = feed_shifts(store, kind, ident, start, end)
    directory = store.directory()
    title = (f"On call: {directory.schedules[ident].name}" if kind == "schedule"
             else f"On call: {directory.people[ident].name}")
    return render_calendar(directory, title, items, now)


def authorized_feed(store: Store, kind: FeedKind, ident: str, token: str | None, now: datetime) -> bytes:
    """The feed, if `token` is right; otherwise NotFound, the same as for an id that does not exist."""
    if not token_matches(store, kind, ident, token, now):
        raise NotFound("calendar not found")
    try:
        return calendar_feed(store, kind, ident, now)
    except NotFound:
        raise NotFound("calendar not found") from None
