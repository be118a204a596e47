"""Sign-in pages: password, one-time link, sign-out. The login form is guarded by a double-submit CSRF cookie."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onduty.app.accounts import (
    LINK_LIFETIME,
    SESSION_LIFETIME,
    SignInRefused,
    login_link_holder,
    sign_in_with_link,
)
from onduty.app.accounts import sign_in_with_password as password_sign_in
from onduty.app.accounts import sign_out as end_session
from onduty.web.ui.render import page
from onduty.web.ui.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginThrottle,
    SignedIn,
    check_csrf,
    set_cookie,
)

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only paths on this site: an open redirect would turn the login page into a phishing tool."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _with_login_csrf(request: Request, template: str, context: dict[str, object], status: int = 200) -> Response:
    """A sign-in page whose form carries the double-submit token of the login CSRF cookie (set here)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, template, {**context, "csrf": token}, status)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login")
    return response


def _login_page(request: Request, next_url: str, error: str = "", status: int = 200, person: str = "") -> Response:
    return _with_login_csrf(request, "login.html", {
        "next": next_url, "error": error, "person_id": person,
        "link_minutes": int(LINK_LIFETIME.total_seconds() // 60)}, status)


def _link_refused(request: Request, exc: SignInRefused) -> Response:
    return _login_page(request, "/", f"{exc}: onduty users login-link PERSON.", 401)


def _signed_in(request: Request, token: str, next_url: str) -> Response:
    response = RedirectResponse(_safe_next(next_url), 303)
    set_cookie(request, response, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, _safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request, person: Annotated[str, Form(max_length=64)], password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(csrf, request.cookies.get(LOGIN_CSRF_COOKIE) or "-")
    person = person.strip()
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.wait_seconds(person, address)
    if wait:
        minutes = max(1, round(wait / 60))
        return _login_page(request, next, f"Too many failed sign-ins. Try again in about {minutes} min.", 429,
                           person)
    container = request.app.state.container
    try:
        ticket = password_sign_in(container.db, person, password, container.clock.now())
    except SignInRefused as exc:
        throttle.failed(person, address)
        return _login_page(request, next, f"Could not sign in: {exc}.", 401, person)
    throttle.succeeded(person)
    return _signed_in(request, ticket.token, next)


@router.get("/login/link/{token}", response_class=HTMLResponse)
def login_link_form(request: Request, token: str) -> Response:
    """Ask before signing in: a GET never spends the link, so a mail scanner that opens it does no harm."""
    container = request.app.state.container
    try:
        person = login_link_holder(container.db, token, container.clock.now())
    except SignInRefused as exc:
        return _link_refused(request, exc)
    return _with_login_csrf(request, "login_link.html", {"token": token, "name": person.name})


@router.post("/login/link/{token}")
def login_link(request: Request, token: str, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(csrf, request.cookies.get(LOGIN_CSRF_COOKIE) or "-")
    container = request.app.state.container
    try:
        ticket = sign_in_with_link(container.db, token, container.clock.now())
    except SignInRefused as exc:
        return _link_refused(request, exc)
    return _signed_in(request, ticket.token, "/")


@router.post("/logout")
def logout(request: Request, person: SignedIn, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(csrf, person.csrf)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(request.app.state.container.db, token)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
