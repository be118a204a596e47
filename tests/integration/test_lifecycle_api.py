"""The lifecycle's HTTP routes and CLI commands: severity changes and roles, their refusals and scoping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onduty.bootstrap import Container
from onduty.cli import app as cli_app
from onduty.web.app import create_app
from tests.conftest import SAMPLE_PLAN
from tests.integration.test_api import bearer, pd_trigger


@pytest.fixture
def http(planned: Container) -> Iterator[TestClient]:
    with TestClient(create_app(planned)) as client:
        yield client


@pytest.fixture
def opened(http: TestClient, planned: Container) -> int:
    from onduty.app.keys import create_integration_key

    key = create_integration_key(planned.db, "recs-model", planned.clock.now())
    http.post("/v2/enqueue", json=pd_trigger(key, payload={"summary": "relevance 0.08", "source": "monitor",
                                                           "severity": "warning"}))
    return 1


def test_severity_change_over_the_api_is_recorded(http: TestClient, planned: Container, opened: int) -> None:
    headers = bearer(planned)
    changed = http.post(f"/api/v1/incidents/{opened}/severity", headers=headers,
                        json={"severity": "sev1", "reason": "conversions down 19%", "by": "aiko"})
    assert changed.status_code == 200 and changed.json()["severity"] == "Sev1"
    timeline = http.get(f"/api/v1/incidents/{opened}/timeline", headers=headers).json()
    (entry,) = [e for e in timeline if e["kind"] == "incident.severity_changed"]
    assert entry["actor"] == "aiko" and entry["data"] == {"from": 3, "to": 1, "reason": "conversions down 19%"}


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"severity": "sev9", "reason": "x"}, 400, "not one of sev1, sev2, sev3, sev4"),
    ({"severity": "sev3", "reason": "same"}, 400, "already Sev3"),
    ({"severity": "sev2", "reason": "   "}, 400, "needs a reason"),
    ({"severity": "sev2"}, 400, "reason"),
])
def test_bad_severity_changes_are_refused_naming_what_is_wrong(http: TestClient, planned: Container, opened: int,
                                                               body: dict[str, str], status: int, says: str) -> None:
    response = http.post(f"/api/v1/incidents/{opened}/severity", headers=bearer(planned), json=body)
    assert response.status_code == status and says in json.dumps(response.json())


def test_roles_over_the_api(http: TestClient, planned: Container, opened: int) -> None:
    headers = bearer(planned)
    answer = http.post(f"/api/v1/incidents/{opened}/roles", headers=headers,
                       json={"role": "commander", "person": "tomas", "by": "hannah"})
    assert answer.status_code == 200
    roles = {r["role"]: (r["person"], r["source"]) for r in answer.json()}
    assert roles["commander"] == ("tomas", "assigned") and roles["communications_lead"] == ("maria", "default")
    listed = http.get(f"/api/v1/incidents/{opened}/roles", headers=bearer(planned, "viewer")).json()
    assert {r["role"]: r["name"] for r in listed}["commander"] == "Tomás Ferreira"
    bad = http.post(f"/api/v1/incidents/{opened}/roles", headers=headers, json={"role": "scribe", "person": "tomas"})
    assert bad.status_code == 400 and "responder, commander, communications_lead" in bad.json()["detail"]
    nobody = http.post(f"/api/v1/incidents/{opened}/roles", headers=headers, json={"role": "ic", "person": "zed"})
    assert nobody.status_code == 400 and "'zed' is not in the applied plan" in nobody.json()["detail"]


def test_another_clients_key_gets_404_on_the_lifecycle_routes(http: TestClient, planned: Container,
                                                               opened: int) -> None:
    other = bearer(planned, "responder", client="tidewater")
    assert http.post(f"/api/v1/incidents/{opened}/severity", headers=other,
                     json={"severity": "sev1", "reason": "x"}).status_code == 404
    assert http.post(f"/api/v1/incidents/{opened}/roles", headers=other,
                     json={"role": "commander", "person": "tomas"}).status_code == 404
    assert http.get(f"/api/v1/incidents/{opened}/roles", headers=other).status_code == 404
    assert http.post(f"/api/v1/incidents/{opened}/roles", headers=bearer(planned, "viewer"),
                     json={"role": "commander", "person": "tomas"}).status_code == 403


def test_list_filters_by_the_new_statuses(http: TestClient, planned: Container, opened: int) -> None:
    headers = bearer(planned)
    http.post(f"/api/v1/incidents/{opened}/resolve", headers=headers)
    assert [i["status"] for i in http.get("/api/v1/incidents?status=monitoring", headers=headers).json()] == [
        "monitoring"]
    assert http.get("/api/v1/incidents?status=open", headers=headers).json() == []


def test_severity_and_role_from_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("COLUMNS", "200")
    cli = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = cli.invoke(cli_app, list(args))
        return result.exit_code, result.stdout, result.stderr

    run("plan", "apply", str(SAMPLE_PLAN))
    run("page", "--service", "recs-model", "--summary", "relevance 0.08", "--severity", "sev3")
    code, out, _ = run("incidents", "severity", "1", "--to", "sev1", "--reason", "conversions down 19%")
    assert code == 0 and "now Sev1" in out
    code, _, err = run("incidents", "severity", "1", "--to", "sev1", "--reason", "again")
    assert code == 2 and "already Sev1" in err
    code, out, _ = run("incidents", "role", "1", "--role", "commander", "--person", "tomas", "--by", "hannah")
    assert code == 0 and "tomas is the incident commander of incident 1" in out
    code, _, err = run("incidents", "role", "1", "--role", "commander", "--person", "zed")
    assert code == 2 and "not in the applied plan" in err
    code, out, _ = run("incidents", "show", "1", "--json")
    shown = json.loads(out)
    assert {r["role"]: r["person"] for r in shown["roles"]}["commander"] == "tomas"
    assert shown["severity"] == "Sev1"
    code, out, _ = run("incidents", "show", "1")
    assert code == 0 and "incident commander" in out and "Tomás Ferreira" in out
