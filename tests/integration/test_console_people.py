"""The People page: only an admin sees it, changes roles and hands out one-time sign-in links."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from onduty.app.accounts import role_of
from onduty.bootstrap import Container
from tests.integration.console_helpers import client_for, csrf_of, follow_login_link, people, sign_in


@pytest.fixture
def console(planned: Container) -> Container:
    people(planned)
    return planned


def _role(c: Container, person: str) -> str:
    with c.db.transaction() as store:
        return role_of(store, person)


def test_an_admin_sees_everyone_with_their_role_and_password_state(console: Container) -> None:
    http = client_for(console)
    sign_in(http, "lucia")
    page = http.get("/people")
    assert page.status_code == 200 and 'href="/people"' in page.text
    row = page.text[page.text.index('id="person-hannah"'):]
    assert '<option value="viewer" selected>' in row[:1500] and "✓</span> set" in row[:1500]


@pytest.mark.parametrize("who", ["tomas", "hannah"])
def test_responders_and_viewers_cannot_open_or_use_the_people_page(console: Container, who: str) -> None:
    http = client_for(console)
    sign_in(http, who)
    assert 'href="/people"' not in http.get("/").text
    refused = http.get("/people")
    assert refused.status_code == 403 and "only an admin" in refused.text
    csrf = csrf_of(http)
    assert http.post("/people/hannah/role", data={"role": "admin", "csrf": csrf}).status_code == 403
    assert http.post("/people/hannah/login-link", data={"csrf": csrf}).status_code == 403
    assert _role(console, "hannah") == "viewer"


def test_an_admin_changes_a_role_with_the_form(console: Container) -> None:
    http = client_for(console)
    sign_in(http, "lucia")
    csrf = csrf_of(http, "/people")
    assert http.post("/people/hannah/role", data={"role": "responder", "csrf": "forged"}).status_code == 403
    assert _role(console, "hannah") == "viewer"
    response = http.post("/people/hannah/role", data={"role": "responder", "csrf": csrf})
    assert response.status_code == 303 and _role(console, "hannah") == "responder"


@pytest.mark.parametrize(("path", "role", "status", "said"), [
    ("/people/hannah/role", "owner", 400, "role must be one of admin, responder, viewer"),
    ("/people/lucia/role", "viewer", 400, "cannot change your own role"),
    ("/people/nobody/role", "viewer", 404, "is not in the applied plan"),
])
def test_a_bad_role_change_says_why_and_changes_nothing(
    console: Container, path: str, role: str, status: int, said: str,
) -> None:
    http = client_for(console)
    sign_in(http, "lucia")
    response = http.post(path, data={"role": role, "csrf": csrf_of(http, "/people")})
    assert response.status_code == status and said in response.text
    assert (_role(console, "hannah"), _role(console, "lucia")) == ("viewer", "admin")


def test_a_sign_in_link_from_the_page_works_once(console: Container) -> None:
    http = client_for(console)
    sign_in(http, "lucia")
    response = http.post("/people/tomas/login-link", data={"csrf": csrf_of(http, "/people")})
    assert response.status_code == 200
    found = re.search(r'id="new-link" value="([^"]+)"', response.text)
    assert found and "/login/link/" in found.group(1)
    path = urlparse(found.group(1)).path
    tomas = client_for(console)
    assert follow_login_link(tomas, path) == 303
    assert "Tomás Ferreira" in tomas.get("/").text
    assert client_for(console).get(path).status_code == 401  # used up
