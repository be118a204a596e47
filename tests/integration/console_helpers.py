"""Shared set-up for the console tests: incidents for two clients, people with passwords, signing in."""

from __future__ import annotations

import re
import warnings

from onduty.app.accounts import set_password, set_role
from onduty.app.incidents import add_note, declare
from onduty.bootstrap import Container
from onduty.domain.severity import Severity
from onduty.web.app import create_app

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"


def incidents_for_two_clients(c: Container) -> dict[str, int]:
    """A Sev1 for Northwind (with an internal note) and a Sev2 for Tidewater; returns their ids."""
    now = c.clock.now()
    made = {}
    with c.db.transaction() as store:
        directory = store.directory()
        for client, service, title, sev in (
            ("northwind", "recs-model", "Recommendations irrelevant on the storefront", Severity.SEV1),
            ("tidewater", "eta-model", "Delivery estimates frozen", Severity.SEV2),
        ):
            incident = declare(store, directory, directory.services[service], title, sev, now, "monitor")
            assert incident.id is not None
            made[client] = incident.id
    add_note(c.db, made["northwind"], "INTERNAL: suspect the 17:40 catalog delta", "Lucía Navarro", now)
    return made


def people(c: Container) -> None:
    """lucia is an admin, tomas a responder, hannah a viewer; each with PASSWORD."""
    now = c.clock.now()
    for person, role in (("lucia", "admin"), ("tomas", "responder"), ("hannah", "viewer")):
        set_password(c.db, person, PASSWORD, now)
        set_role(c.db, person, role, now)


def client_for(c: Container) -> TestClient:
    return TestClient(create_app(c), follow_redirects=False)


def login_csrf(http: TestClient) -> str:
    page = http.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def sign_in(http: TestClient, person: str, password: str = PASSWORD) -> None:
    response = http.post("/login", data={"person": person, "password": password, "csrf": login_csrf(http)})
    assert response.status_code == 303, response.text


def follow_login_link(http: TestClient, path: str) -> int:
    """Open a one-time link as a person would (the page asks, its button signs in); the button's status."""
    page = http.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    response = http.post(path, data={"csrf": found.group(1)})
    assert response.status_code != 303 or response.headers["location"] == "/", response.headers
    return response.status_code


def csrf_of(http: TestClient, path: str = "/") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', http.get(path).text)
    assert found
    return found.group(1)
