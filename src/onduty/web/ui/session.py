"""Browser sessions for the console and the portal: cookies, the signed-in person, CSRF, login throttling."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from onduty.app.accounts import WebSession, role_of, session_for
from onduty.app.ports import Role

SESSION_COOKIE = "onduty_session"
PORTAL_COOKIE = "onduty_portal"
LOGIN_CSRF_COOKIE = "onduty_login_csrf"
ROLE_RANK = {"viewer": 0, "responder": 1, "admin": 2}


class PageError(Exception):
    """A page that cannot be shown: rendered as an HTML page with the status and what to do."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class SignedOut(Exception):
    """No valid console session: the browser is sent to the sign-in page, then back."""

    def __init__(self, next_url: str):
        super().__init__(next_url)
        self.next_url = next_url


@dataclass(frozen=True)
class Person:
    """The signed-in responder."""

    id: str
    name: str
    role: Role
    session: WebSession

    @property
    def can_act(self) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK["responder"]

    @property
    def csrf(self) -> str:
        return self.session.csrf_token


@dataclass(frozen=True)
class ClientContact:
    """A client contact signed in to the portal through the client's secret link."""

    client_id: str
    client_name: str
    session: WebSession

    @property
    def csrf(self) -> str:
        return self.session.csrf_token


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int, path: str = "/") -> None:
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")


def _session(request: Request, cookie: str) -> WebSession | None:
    token = request.cookies.get(cookie)
    if not token:
        return None
    container = request.app.state.container
    return session_for(container.db, token, container.clock.now())


def current_person(request: Request) -> Person:
    session = _session(request, SESSION_COOKIE)
    if session is None or session.person_id is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignedOut(target)
    with request.app.state.container.db.transaction() as store:
        person = store.directory().people.get(session.person_id)
        if person is None:  # removed from the plan since signing in
            raise SignedOut(request.url.path)
        role = role_of(store, person.id)
    return Person(person.id, person.name, role, session)


def current_contact(request: Request) -> ClientContact:
    session = _session(request, PORTAL_COOKIE)
    if session is None or session.client_id is None:
        raise PageError(401, "The portal opens with your organisation's secret link. "
                             "Ask your account manager for it if you have lost it.")
    with request.app.state.container.db.transaction() as store:
        client = store.directory().clients.get(session.client_id)
    if client is None:
        raise PageError(401, "This portal link no longer works; ask your account manager for a new one.")
    return ClientContact(client.id, client.name, session)


def check_csrf(sent: str | None, expected: str) -> None:
    """Every form carries the session's CSRF token; anything else is refused with 403."""
    if not sent or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise PageError(403, "This form is out of date or came from another site (CSRF check failed). "
                             "Reload the page and try again.")


def acting(person: Annotated[Person, Depends(current_person)]) -> Person:
    if not person.can_act:
        raise PageError(403, f"Your role is {person.role}: you can look but not act. Ask an admin "
                             "(onduty users set-role) if you need to respond to incidents.")
    return person


def administering(person: Annotated[Person, Depends(current_person)]) -> Person:
    if person.role != "admin":
        raise PageError(403, f"Your role is {person.role}: only an admin manages people's roles and sign-in links.")
    return person


def login_url(next_url: str) -> str:
    return "/login?next=" + quote(next_url, safe="/")


SignedIn = Annotated[Person, Depends(current_person)]
Acting = Annotated[Person, Depends(acting)]
Admin = Annotated[Person, Depends(administering)]
Contact = Annotated[ClientContact, Depends(current_contact)]


class LoginThrottle:
    """Failed sign-ins per person and per address in a sliding window; past the limit, wait."""

    def __init__(self, per_person: int = 5, per_address: int = 20, window: float = 900.0):
        self.limits = {"person": per_person, "address": per_address}
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        found = self._failures.setdefault(key, deque())
        while found and found[0] <= now - self.window:
            found.popleft()
        return found

    def wait_seconds(self, person: str, address: str) -> int:
        """0 when a sign-in may be tried; otherwise how long until the oldest failure ages out."""
        now = time.monotonic()
        with self._lock:
            for kind, value in (("person", person), ("address", address)):
                recent = self._recent((kind, value), now)
                if len(recent) >= self.limits[kind]:
                    return int(recent[0] + self.window - now) + 1
        return 0

    def failed(self, person: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) > 50_000:
                self._failures.clear()
            for kind, value in (("person", person), ("address", address)):
                self._recent((kind, value), now).append(now)

    def succeeded(self, person: str) -> None:
        with self._lock:
            self._failures.pop(("person", person), None)
