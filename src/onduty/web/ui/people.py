"""People, for admins: everyone in the plan with their console role; change a role, hand out a one-time sign-in link.

The same operations as `onduty users set-role` and `onduty users login-link`; an admin cannot change their
own role here, so the console is never left without one by accident.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from onduty.app.accounts import LINK_LIFETIME, ROLES, issue_login_link, role_of, set_role
from onduty.app.ports import NotFound
from onduty.web.ui.render import page
from onduty.web.ui.session import Admin, PageError, Person, check_csrf

router = APIRouter(include_in_schema=False)


def _people(request: Request) -> list[dict[str, Any]]:
    with request.app.state.container.db.transaction() as store:
        directory = store.directory()
        rows = []
        for person in sorted(directory.people.values(), key=lambda p: p.name):
            account = store.account(person.id)
            rows.append({"id": person.id, "name": person.name, "role": role_of(store, person.id),
                         "password": bool(account and account.password_hash)})
    return rows


def _page(request: Request, person: Person, status: int = 200, **extra: str) -> Response:
    return page(request, "people.html", {"person": person, "people": _people(request), "roles": ROLES,
                                         "link_minutes": int(LINK_LIFETIME.total_seconds() // 60),
                                         "error": "", "link": "", "link_for": "", **extra}, status)


@router.get("/people", response_class=HTMLResponse)
def people(request: Request, person: Admin) -> Response:
    return _page(request, person)


@router.post("/people/{person_id}/role", response_class=HTMLResponse)
def change_role(request: Request, person_id: str, person: Admin, role: Annotated[str, Form(max_length=16)],
                csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(csrf, person.csrf)
    if person_id == person.id:
        return _page(request, person, 400, error="You cannot change your own role here; ask another admin "
                                                 "(or run onduty users set-role).")
    container = request.app.state.container
    try:
        set_role(container.db, person_id, role, container.clock.now())
    except NotFound as exc:
        raise PageError(404, f"{exc}.") from None
    except ValueError as exc:
        return _page(request, person, 400, error=f"{exc}.")
    return RedirectResponse(f"/people#person-{person_id}", 303)


@router.post("/people/{person_id}/login-link", response_class=HTMLResponse)
def login_link(request: Request, person_id: str, person: Admin, csrf: Annotated[str, Form()] = "") -> Response:
    """Shown once on this page, never stored in clear: pass it on to the person by a channel you trust."""
    check_csrf(csrf, person.csrf)
    container = request.app.state.container
    try:
        token = issue_login_link(container.db, person_id, container.clock.now())
    except NotFound as exc:
        raise PageError(404, f"{exc}.") from None
    base = container.settings.public_url.rstrip("/")
    return _page(request, person, link=f"{base}/login/link/{token}", link_for=person_id)
