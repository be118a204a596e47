"""The tenant isolation matrix, generated from the app's route table: every route that takes an object
id, called with an admin key scoped to another client, answers 404 (403 allowed for writes); every list
route answers without a trace of the other client's objects; calendar feed tokens open one feed only.

The console and the portal (the routes left out of the OpenAPI document) are covered the same way:
a client contact gets 404 for every portal route naming another client's object, and the portal's
lists show only their own client. People signed in to the console are the agency's own staff and are
not scoped to clients by design (they answer pages for every client); what the console promises is
that every page needs a signed-in person (a portal session is not one) and that a viewer can read
but every write answers 403 and changes nothing. Admin-only pages (those whose route depends on
`administering`, found in the route table like the rest) answer 403 to viewers and responders alike and
200 to an admin.

A new route is covered as soon as it exists, provided its path parameters are known below; a parameter
this test cannot fill fails it, so the route's author adds the object here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from onduty.app.accounts import issue_portal_link, role_of
from onduty.app.client_requests import create_request
from onduty.app.exports.calendar import feed_token
from onduty.app.incidents import change_status
from onduty.app.ingest import ingest_event
from onduty.app.keys import create_api_key
from onduty.app.reviews import add_action, complete_review, edit_review
from onduty.app.schedules import OverrideRequest, clients_of_schedule, create_override
from onduty.app.silences import create_silence
from onduty.bootstrap import Container
from onduty.domain.alerts import AlertEvent
from onduty.web.app import create_app
from onduty.web.ui.session import PORTAL_COOKIE, SESSION_COOKIE, administering
from tests.integration.console_helpers import client_for, csrf_of, people, sign_in
from tests.integration.test_escalation import trigger

OWNER, OTHER = "northwind", "tidewater"
CANARY = "canary-7f3e"  # written into the owner's objects; must never show in the other client's lists


def api_routes(http: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every route, from the app's own OpenAPI document."""
    paths = http.app.openapi()["paths"]  # type: ignore[attr-defined]
    return sorted((method.upper(), path, op) for path, ops in paths.items() for method, op in ops.items())


def uses_api_key(http: TestClient, method: str, path: str, key: dict[str, str]) -> bool:
    """Whether the route takes API keys: 401 without one, and something else with one (routes that
    take integration keys or tokens answer 401 to an API key too)."""
    url = re.sub(r"{\w+}", "1", path)
    return http.request(method, url).status_code == 401 and http.request(method, url, headers=key).status_code != 401


@pytest.fixture
def world(planned: Container) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    """The owner's objects (ids by path parameter name), and an admin key of the other client."""
    now = planned.clock.now()
    with planned.db.transaction() as store:
        directory = store.directory()
    service = next(s.id for s in directory.services.values() if s.client_id == OWNER)
    schedule = next(s for s, clients in clients_of_schedule(directory).items() if clients == {OWNER})
    layer_people = {p for layer in directory.schedules[schedule].layers for p in layer.members}
    person = sorted(layer_people)[0]
    incident_id = trigger(planned, service=service, key=CANARY)
    planned.worker.run_once(now)
    override = create_override(planned.db, OverrideRequest(schedule, person, now + timedelta(hours=1),
                                                           now + timedelta(hours=2), reason=CANARY), "ops", now)
    silence = create_silence(planned.db, [f'alertname="{CANARY}"'], now, now + timedelta(hours=1), "ops", CANARY,
                             now, service_id=service)
    request = create_request(planned.db, incident_id, CANARY, now + timedelta(hours=1), "ops", now)
    reviewed = trigger(planned, service=service, key=CANARY + "-resolved")
    change_status(planned.db, reviewed, "resolved", "ops", now)  # drafts its review
    action = add_action(planned.db, reviewed, CANARY, person, now + timedelta(days=7), "ops", now)
    ids = {"incident_id": str(incident_id), "service_id": service, "schedule_id": schedule,
           "override_id": str(override.id), "silence_id": str(silence.id), "person_id": person,
           "item_id": "resolve.fallback", "request_id": str(request.id), "action_id": str(action.id)}
    other = {"Authorization": f"Bearer {create_api_key(planned.db, 'admin', OTHER, now)}"}
    with TestClient(create_app(planned)) as http:
        yield http, ids, other


BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/incidents/{incident_id}/notes"): {"text": "a note"},
    ("POST", "/api/v1/schedules/{schedule_id}/overrides"): {
        "person": "{person_id}", "start": "2026-11-21T10:00:00Z", "end": "2026-11-21T12:00:00Z"},
    ("POST", "/api/v1/incidents/{incident_id}/playbook/{item_id}"): {"done": True},
    ("POST", "/api/v1/incidents/{incident_id}/type"): {"to": "pipeline_failure", "reason": "a reason"},
    ("POST", "/api/v1/incidents/{incident_id}/requests"): {"text": "please check", "due": "30m"},
    ("POST", "/api/v1/incidents/{incident_id}/workarounds"): {"text": "pin the feed"},
    ("POST", "/api/v1/incidents/{incident_id}/severity"): {"severity": "sev2", "reason": "a reason"},
    ("POST", "/api/v1/incidents/{incident_id}/escalate"): {"reason": "a reason"},
    ("POST", "/api/v1/incidents/{incident_id}/roles"): {"role": "commander", "person": "{person_id}"},
    ("POST", "/api/v1/schedules/{schedule_id}/swaps"): {
        "shift_at": "2026-11-21T10:00:00Z", "with_shift_at": "2026-11-28T10:00:00Z"},
}


def test_every_object_route_hides_another_clients_objects(
    world: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    http, ids, other = world
    checked, wrong = [], []
    for method, path, operation in api_routes(http):
        params = re.findall(r"{(\w+)}", path)
        if not params or not uses_api_key(http, method, path, other):
            continue
        missing = [p for p in params if p not in ids]
        assert not missing, f"{method} {path}: add an object of client {OWNER} for {missing} to this test"
        url = path.format(**ids)
        body = BODIES.get((method, path))
        if body is not None:
            body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in body.items()}
        response = http.request(method, url, headers=other, json=body)
        allowed = {404} if method == "GET" else {403, 404}
        if body is None and operation.get("requestBody", {}).get("required"):
            allowed |= {400}  # refused for its body before any lookup: nothing about the object shows
        checked.append(f"{method} {path}")
        if response.status_code not in allowed or CANARY in response.text:
            wrong.append(f"{method} {url} → {response.status_code}: {response.text[:200]}")
    assert len(checked) >= 12, checked
    assert not wrong, "\n".join(wrong)


def test_list_routes_never_show_another_clients_objects(
    world: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    http, _, other = world
    listed = []
    for method, path, _ in api_routes(http):
        if method != "GET" or "{" in path or not uses_api_key(http, method, path, other):
            continue
        response = http.get(path, headers=other, params={"include_expired": "true", "from": "2026-11-01",
                                                         "to": "2026-12-31"})
        listed.append(path)
        assert response.status_code == 200, f"GET {path} → {response.status_code}: {response.text[:200]}"
        assert CANARY not in response.text, f"GET {path} shows client {OWNER}'s objects to a {OTHER} key"
    assert {"/api/v1/incidents", "/api/v1/silences", "/api/v1/alerts"} <= set(listed)


def test_a_calendar_token_opens_its_own_feed_only(
    planned: Container, world: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    http, ids, _ = world
    now = planned.clock.now()
    with planned.db.transaction() as store:
        schedules = sorted(store.directory().schedules)
        token = feed_token(store, "schedule", ids["schedule_id"], now)
        person_token = feed_token(store, "person", ids["person_id"], now)
    elsewhere = next(s for s in schedules if s != ids["schedule_id"])
    assert http.get(f"/api/v1/schedules/{ids['schedule_id']}/calendar.ics", params={"token": token}).status_code == 200
    assert http.get(f"/api/v1/schedules/{elsewhere}/calendar.ics", params={"token": token}).status_code == 404
    assert http.get(f"/api/v1/people/{ids['person_id']}/calendar.ics", params={"token": token}).status_code == 404
    assert http.get(f"/api/v1/schedules/{ids['schedule_id']}/calendar.ics",
                    params={"token": person_token}).status_code == 404
    assert http.get(f"/api/v1/schedules/{ids['schedule_id']}/calendar.ics").status_code == 404


# -- the console and the portal ---------------------------------------------------------------------

PUBLIC_PAGES = {"/login", "/login/link/{token}", "/logout", "/portal/enter/{token}"}  # open to anyone, by design


def web_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every console and portal page: the app's own routes left out of the OpenAPI
    document (FastAPI's documentation pages aside)."""
    found = []
    for route in iter_route_contexts(app.routes):
        endpoint = route.endpoint
        if getattr(route, "include_in_schema", True) or endpoint is None or endpoint.__module__.startswith("fastapi"):
            continue
        found += [(method, str(route.path)) for method in sorted(route.methods or ()) if method != "HEAD"]
    return sorted(found)


def depends_on(dependant: Dependant, call: Any) -> bool:
    """Whether `call` is among the dependencies of `dependant`, however deep."""
    return any(d.call is call or depends_on(d, call) for d in dependant.dependencies)


def admin_only_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every console route that needs an admin: its route depends on `administering`,
    so a new admin-only page is known here as soon as it declares so."""
    found = set()
    for route in iter_route_contexts(app.routes):
        dependant = getattr(route, "dependant", None)
        if dependant is not None and depends_on(dependant, administering):
            found |= {(method, str(route.path)) for method in route.methods or () if method != "HEAD"}
    return found


def fill(method: str, path: str, ids: dict[str, str]) -> str:
    missing = [p for p in re.findall(r"{(\w+)}", path) if p not in ids]
    assert not missing, f"{method} {path}: add an object of client {OWNER} for {missing} to this test"
    return path.format(**ids)


@dataclass
class Web:
    container: Container
    app: FastAPI
    ids: dict[str, str]  # path parameter → an object of the owner client (its incident has a shared review)

    def routes(self, portal: bool) -> list[tuple[str, str]]:
        return [(m, p) for m, p in web_routes(self.app)
                if p not in PUBLIC_PAGES and p.startswith("/portal") is portal]

    def contact(self, client: str) -> TestClient:
        """A browser signed in to `client`'s portal through its secret link."""
        http = client_for(self.container)
        token = issue_portal_link(self.container.db, client, self.container.clock.now())
        assert http.get(f"/portal/enter/{token}").status_code == 303
        return http

    def state(self) -> list[Any]:
        """What a console write could change: the timelines, the review, the overrides, the roles."""
        with self.container.db.transaction() as store:
            timelines = [[e.kind for e in store.timeline(int(self.ids[k]))] for k in ("incident_id", "open_id")]
            reviews = store.reviews_of([int(self.ids["incident_id"])])
            overrides = store.overrides(self.ids["schedule_id"], self.container.clock.now() - timedelta(days=1),
                                        self.container.clock.now() + timedelta(days=30))
            roles = {p: role_of(store, p) for p in sorted(store.directory().people)}
        return [timelines, repr(reviews), [(o.person_id, o.start, o.end) for o in overrides], roles]


@pytest.fixture
def web(planned: Container, world: tuple[TestClient, dict[str, str], dict[str, str]]) -> Web:
    """The owner's objects of `world`, and an incident of the owner with CANARY in its title and a
    completed (so shared) review; lucia is an admin, tomas a responder, hannah a viewer."""
    http, ids, _ = world
    people(planned)
    now = planned.clock.now()
    event = AlertEvent("trigger", CANARY + "-portal", f"{CANARY} storefront down", "monitor", "critical")
    shared = ingest_event(planned.db, ids["service_id"], event, now).incident_id
    assert shared is not None
    change_status(planned.db, shared, "resolved", "tomas", now)
    edit_review(planned.db, shared, {"root_cause": f"{CANARY}: a schema change upstream"}, "lucia", now)
    action = add_action(planned.db, shared, f"{CANARY} schema check", ids["person_id"], now + timedelta(days=7),
                        "lucia", now)
    complete_review(planned.db, shared, "lucia", now)
    web_ids = {**ids, "incident_id": str(shared), "open_id": ids["incident_id"], "action_id": str(action.id)}
    return Web(planned, http.app, web_ids)  # type: ignore[arg-type]


def test_every_portal_route_shows_a_contact_their_own_client_only(web: Web) -> None:
    own, other = web.contact(OWNER), web.contact(OTHER)
    other_csrf = csrf_of(other, "/portal")
    checked, wrong = [], []
    for method, path in web.routes(portal=True):
        url = fill(method, path, web.ids)
        has_object = "{" in path
        if method == "GET":
            mine = own.get(url)
            if mine.status_code != 200 or CANARY not in mine.text:
                wrong.append(f"{OWNER}'s contact: GET {url} → {mine.status_code}, without its own object")
        elif not has_object:
            continue  # a form with no object (signing out) has nothing to leak
        theirs = other.request(method, url, data={"csrf": other_csrf} if method == "POST" else None)
        expected = 404 if has_object else 200
        checked.append(f"{method} {path}")
        if theirs.status_code != expected or CANARY in theirs.text:
            wrong.append(f"{OTHER}'s contact: {method} {url} → {theirs.status_code}: {theirs.text[:200]}")
        anonymous = client_for(web.container).request(method, url)
        if anonymous.status_code != 401 or CANARY in anonymous.text:
            wrong.append(f"no session: {method} {url} → {anonymous.status_code}")
    assert {"GET /portal", "GET /portal/incidents/{incident_id}", "GET /portal/incidents/{incident_id}/review",
            } <= set(checked), checked
    assert not wrong, "\n".join(wrong)


def test_every_console_route_needs_a_signed_in_person_and_a_portal_session_is_not_one(web: Web) -> None:
    portal_token = web.contact(OWNER).cookies.get(PORTAL_COOKIE)
    assert portal_token
    checked, wrong = [], []
    for method, path in web.routes(portal=False):
        url = fill(method, path, web.ids)
        for label, cookies in (("no session", {}), ("a portal session", {SESSION_COOKIE: portal_token})):
            http = client_for(web.container)
            http.cookies.update(cookies)
            answer = http.request(method, url, data={} if method == "POST" else None)
            to_login = answer.status_code == 303 and answer.headers["location"].startswith("/login")
            if not to_login or CANARY in answer.text:
                wrong.append(f"{label}: {method} {url} → {answer.status_code}")
        checked.append(f"{method} {path}")
    assert len(checked) >= 20, checked
    assert not wrong, "\n".join(wrong)


def test_a_viewer_reads_every_console_page_and_every_console_write_is_refused(web: Web) -> None:
    viewer = client_for(web.container)
    sign_in(viewer, "hannah")
    csrf = csrf_of(viewer)
    admin_only = admin_only_routes(web.app)
    before = web.state()
    reads, writes, wrong = [], [], []
    for method, path in web.routes(portal=False):
        url = fill(method, path, web.ids)
        if method == "GET":
            answer = viewer.get(url)
            reads.append(path)
            if (method, path) in admin_only:
                if answer.status_code != 403 or "admin" not in answer.text:
                    wrong.append(f"admin-only GET {url} → {answer.status_code} for a viewer")
                continue
            if answer.status_code != 200:
                wrong.append(f"GET {url} → {answer.status_code}: {answer.text[:200]}")
            if "{" in path:  # an object that does not exist is 404, not an error page
                missing = viewer.get(fill(method, path, {k: "99999" for k in web.ids}))
                if missing.status_code != 404:
                    wrong.append(f"GET {path} of no object → {missing.status_code}")
            continue
        answer = viewer.post(url, data={"csrf": csrf, "status": "acknowledged", "text": "a note", "severity": "sev1",
                                        "reason": "r", "role": "commander", "who": "tomas", "done": "true"})
        writes.append(path)
        if answer.status_code != 403 or "viewer" not in answer.text:
            wrong.append(f"POST {url} → {answer.status_code}: {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert len(writes) >= 10 and len(reads) >= 10, (reads, writes)
    assert web.state() == before


def test_admin_only_pages_answer_403_to_a_responder_and_200_to_an_admin(web: Web) -> None:
    admin_only = admin_only_routes(web.app)
    assert {("GET", "/people"), ("POST", "/people/{person_id}/role")} <= admin_only, admin_only
    assert admin_only <= set(web.routes(portal=False)), "an admin-only route is missing from the console's routes"
    responder, admin = client_for(web.container), client_for(web.container)
    sign_in(responder, "tomas")
    sign_in(admin, "lucia")
    csrf = csrf_of(responder)
    before = web.state()
    wrong = []
    for method, path in sorted(admin_only):
        url = fill(method, path, web.ids)
        answer = responder.request(method, url, data={"csrf": csrf, "role": "admin"} if method == "POST" else None)
        if answer.status_code != 403 or "responder" not in answer.text:
            wrong.append(f"responder: {method} {url} → {answer.status_code}: {answer.text[:200]}")
        if method == "GET":
            answer = admin.get(url)
            if answer.status_code != 200:
                wrong.append(f"admin: GET {url} → {answer.status_code}: {answer.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert web.state() == before
