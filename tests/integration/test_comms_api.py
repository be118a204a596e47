"""Communications over HTTP and the CLI, and the Apprise channel against a local JSON receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onduty.adapters.clock import SimulatedClock
from onduty.adapters.notify.apprise import AppriseChannel
from onduty.app.ports import DeliveryError
from onduty.bootstrap import Container
from onduty.cli import app
from onduty.domain.incidents import OutboxMessage
from onduty.web.app import create_app
from tests.conftest import SAMPLE_PLAN, STORY_START, advance
from tests.integration.comms_plan import apply_text, comms_container, comms_plan_text
from tests.integration.receivers import HttpReceiver, SmtpReceiver, free_port, http_receiver, smtp_receiver  # noqa: F401
from tests.integration.test_api import bearer
from tests.integration.test_comms import NOTICE
from tests.integration.test_escalation import trigger


@pytest.fixture
def comms(database_url: str, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
          http_receiver: HttpReceiver, tmp_path: Path) -> Iterator[Container]:  # noqa: F811
    container = comms_container(database_url, clock, smtp_receiver.port)
    apply_text(container, tmp_path / "plan", comms_plan_text(http_receiver.base))
    yield container
    container.db.dispose()


@pytest.fixture
def http(comms: Container) -> Iterator[TestClient]:
    with TestClient(create_app(comms)) as client:
        yield client


def test_dry_run_renders_and_checks_without_sending(http: TestClient, comms: Container) -> None:
    incident_id = trigger(comms)
    answer = http.post(f"/api/v1/incidents/{incident_id}/communications", headers=bearer(comms),
                       json={"kind": "initial", "fields": {"what_is_known": "not sure what happened"},
                             "dry_run": True})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["sent"] is False and body["subject"].startswith("[Sev1]")
    assert [r["name"] for r in body["recipients"]][:2] == ["Rachel Kim", "Maria Costa"]  # who would get it
    assert body["unreachable"] == ["Front desk (Northwind Home) has no e-mail address"]
    assert {(f["code"], f["field"]) for f in body["findings"]} == {
        ("banned_phrase", "what_is_known"), ("missing_field", "what_is_being_done")}
    assert http.get(f"/api/v1/incidents/{incident_id}/communications", headers=bearer(comms)).json() == []


def test_send_over_http_refuses_then_sends_and_lists_deliveries(
    http: TestClient, comms: Container, clock: SimulatedClock,
) -> None:
    incident_id = trigger(comms)
    url = f"/api/v1/incidents/{incident_id}/communications"
    refused = http.post(url, headers=bearer(comms), json={"kind": "initial", "fields": {}})
    assert refused.status_code == 422
    assert {f["code"] for f in refused.json()["detail"]["findings"]} == {"missing_field"}
    sent = http.post(url, headers=bearer(comms), json={"kind": "initial", "fields": NOTICE, "by": "maria"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["sent"] is True and len(sent.json()["recipients"]) == 4
    advance(comms, clock, timedelta(seconds=1))
    (listed,) = http.get(url, headers=bearer(comms)).json()
    assert listed["sent_by"] == "maria" and listed["kind"] == "initial"
    assert {d["recipient"]: d["status"] for d in listed["deliveries"]} == {
        "Rachel Kim": "delivered", "Maria Costa": "delivered", "Dev Patel": "delivered",
        "Hannah Weiss": "delivered"}


def test_bad_bodies_are_refused_naming_the_problem(http: TestClient, comms: Container) -> None:
    incident_id = trigger(comms)
    url = f"/api/v1/incidents/{incident_id}/communications"
    wrong_kind = http.post(url, headers=bearer(comms), json={"kind": "farewell"})
    assert wrong_kind.status_code == 400 and "kind" in wrong_kind.text
    unknown = http.post(url, headers=bearer(comms), json={"kind": "update", "fields": {"eta": "soon"}})
    assert unknown.status_code == 400 and "unknown field 'eta'" in unknown.json()["detail"]
    viewer = http.post(url, headers=bearer(comms, "viewer"), json={"kind": "update", "dry_run": True})
    assert viewer.status_code == 403


def test_client_keys_see_only_their_clients_messages(http: TestClient, comms: Container) -> None:
    incident_id = trigger(comms)
    url = f"/api/v1/incidents/{incident_id}/communications"
    assert http.post(url, headers=bearer(comms), json={"kind": "initial", "fields": NOTICE}).status_code == 200
    other = bearer(comms, "responder", "tidewater")
    assert http.get(url, headers=other).status_code == 404
    assert http.post(url, headers=other, json={"kind": "initial", "fields": NOTICE}).status_code == 404
    assert http.post(url, headers=other, json={"kind": "initial", "dry_run": True}).status_code == 404
    (seen,) = http.get(url, headers=bearer(comms, "viewer", "northwind")).json()
    assert [r["name"] for r in seen["recipients"]] == ["Rachel Kim"]  # internal copies stay internal
    assert seen["findings"] == [] and all(d["recipient"] == "Rachel Kim" for d in seen["deliveries"])


def _apprise_message(address: str) -> OutboxMessage:
    return OutboxMessage(
        idempotency_key="comms:1:dev:c0", incident_id=1, person_id="dev", channel="apprise",
        address=address, contact_index=0,
        payload={"body": {"event": "incident.communication", "subject": "[Sev1] Recs: investigating",
                          "text": "We are on it.", "incident": {"id": 1, "severity": "Sev1"}}},
        created_at=STORY_START, next_attempt_at=STORY_START,
    )


def test_apprise_channel_posts_to_a_json_receiver(http_receiver: HttpReceiver) -> None:  # noqa: F811
    message = _apprise_message(f"json://127.0.0.1:{http_receiver.port}/apprise")
    assert AppriseChannel(timeout=5).send(message, STORY_START) == "delivered by Apprise"
    (posted,) = http_receiver.at("/apprise")
    assert posted.json()["title"] == "[Sev1] Recs: investigating"
    assert posted.json()["message"].strip() == "We are on it."
    down = _apprise_message(f"json://127.0.0.1:{free_port()}/x")
    with pytest.raises(DeliveryError) as failed:
        AppriseChannel(timeout=2).send(down, STORY_START)
    assert not failed.value.permanent
    with pytest.raises(DeliveryError) as unknown:
        AppriseChannel().send(_apprise_message("nosuch://x"), STORY_START)
    assert unknown.value.permanent


def test_cli_check_exits_non_zero_and_send_refuses_a_failing_sev1(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONDUTY_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("COLUMNS", "200")
    cli = CliRunner()
    assert cli.invoke(app, ["plan", "apply", str(SAMPLE_PLAN)]).exit_code == 0
    assert cli.invoke(app, ["page", "--service", "recs-model", "--summary", "relevance down",
                            "--severity", "sev1"]).exit_code == 0
    checked = cli.invoke(app, ["incidents", "comms", "check", "1", "--kind", "initial", "--set",
                               "what_is_known=should not have happened", "--json"])
    assert checked.exit_code == 1
    assert {f["code"] for f in json.loads(checked.stdout)} == {"banned_phrase", "missing_field"}
    drafted = cli.invoke(app, ["incidents", "comms", "draft", "1", "--kind", "update", "--json"])
    assert drafted.exit_code == 0 and json.loads(drafted.stdout)["subject"].startswith("[Sev1] Update on")
    refused = cli.invoke(app, ["incidents", "comms", "send", "1", "--kind", "initial"])
    assert refused.exit_code == 1 and "not sent" in refused.stderr and "what_is_being_done" in refused.stderr
    sets = [a for k, v in NOTICE.items() for a in ("--set", f"{k}={v}")]
    sent = cli.invoke(app, ["incidents", "comms", "send", "1", "--kind", "initial", *sets, "--by", "maria"])
    assert sent.exit_code == 0, sent.stderr
    assert "Rachel Kim (email)" in sent.stdout
    overridden = cli.invoke(app, ["incidents", "comms", "send", "1", "--kind", "update", "--set", "what_is_known=",
                                  "--override-reason", "phone call covered it"])
    assert overridden.exit_code == 0 and "reason recorded" in overridden.stdout
    bad = cli.invoke(app, ["incidents", "comms", "draft", "1", "--kind", "farewell"])
    assert bad.exit_code == 2 and "initial, update, resolution" in bad.stderr
    bad_set = cli.invoke(app, ["incidents", "comms", "draft", "1", "--set", "oops"])
    assert bad_set.exit_code == 2 and "name=value" in bad_set.stderr
