"""schemathesis over the OpenAPI of every route (SQLite, a few examples each): no answer is a 5xx, and
every 4xx carries a message that says what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from onduty.adapters.clock import SimulatedClock
from onduty.app.keys import create_api_key, create_integration_key
from onduty.app.plans import apply_plan
from onduty.bootstrap import Container, build
from onduty.config import Settings
from onduty.plan.load import load_plan
from tests.conftest import SAMPLE_PLAN, STORY_START, RecordingChannel

HEADERS: dict[str, str] = {}


@pytest.fixture
def api_schema(tmp_path: Path) -> Any:
    from onduty.web.app import create_app

    pager = RecordingChannel()
    container = build(Settings(database_url=f"sqlite:///{tmp_path}/fuzz.db"), clock=SimulatedClock(STORY_START),
                      channels={kind: pager for kind in ("webhook", "email", "sms", "console")})
    now = container.clock.now()
    apply_plan(container.db, load_plan(SAMPLE_PLAN), str(SAMPLE_PLAN), now)
    create_integration_key(container.db, "recs-model", now)
    HEADERS["Authorization"] = f"Bearer {create_api_key(container.db, 'admin', None, now)}"
    container.settings.api_rate_per_key = container.settings.api_burst_per_key = 1e9
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(container))


def says_what_is_wrong(body: Any) -> bool:
    """A 4xx body names the problem: a non-empty `detail` (text, or fields with messages) or `errors`."""
    if not isinstance(body, dict):
        return False
    detail = body.get("detail", body.get("errors", body.get("message")))
    if isinstance(detail, str):
        return len(detail.strip()) > 3
    if isinstance(detail, list) and detail:
        return all(isinstance(d, str | dict) and (not isinstance(d, dict) or d.get("message") or d.get("msg"))
                   for d in detail)
    return False


def check(case: Any, problems: list[str]) -> None:
    response = case.call(headers=HEADERS)
    where = f"{case.method} {case.formatted_path}"
    if response.status_code >= 500:
        problems.append(f"{where} answered {response.status_code}: {response.text[:300]}")
    elif 400 <= response.status_code < 500 and response.status_code != 405:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not says_what_is_wrong(body):
            problems.append(f"{where} answered {response.status_code} without a reason: {response.text[:300]}")


def test_no_route_answers_5xx_and_every_4xx_says_what_is_wrong(api_schema: Any) -> None:
    problems: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20  # the route table, read from the live OpenAPI document
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def fuzz(case: Any) -> None:
            check(case, problems)

        fuzz()
    assert not problems, "\n".join(sorted(set(problems))[:30])


def test_an_id_too_large_for_the_database_is_refused_not_a_crash(planned: Container) -> None:
    from fastapi.testclient import TestClient

    from onduty.web.app import create_app

    auth = {"Authorization": f"Bearer {create_api_key(planned.db, 'admin', None, planned.clock.now())}"}
    with TestClient(create_app(planned)) as http:
        for too_large in (2**31, 2**63):  # past PostgreSQL's integer, past SQLite's
            response = http.get(f"/api/v1/incidents/{too_large}", headers=auth)
            assert response.status_code in (400, 404) and "detail" in response.json()
