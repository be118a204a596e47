"""The tenant isolation matrix, generated from the app's route table: every route that takes an object
id, called with an admin key scoped to another client, answers 404 (403 allowed for writes); every list
route answers without a trace of the other client's objects; calendar feed tokens open one feed only.

A new route is covered as soon as it exists, provided its path parameters are known below; a parameter
this test cannot fill fails it, so the route's author adds the object here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from onduty.app.client_requests import create_request
from onduty.app.exports.calendar import feed_token
from onduty.app.incidents import change_status
from onduty.app.keys import create_api_key
from onduty.app.reviews import add_action
from onduty.app.schedules import OverrideRequest, clients_of_schedule, create_override
from onduty.app.silences import create_silence
from onduty.bootstrap import Container
from onduty.web.app import create_app
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
