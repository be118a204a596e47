"""The fallback action against a real HTTP receiver on loopback: signed, recorded, failures reported."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from onduty.adapters.notify.fallback import HttpFallbackCaller
from onduty.adapters.notify.http import allowed_networks
from onduty.app.fallback import FallbackFailed, run_fallback
from onduty.app.plans import apply_plan
from onduty.bootstrap import Container
from onduty.domain.model import FallbackWebhook
from onduty.plan.load import load_plan
from onduty.web.app import create_app
from tests.conftest import SAMPLE_PLAN
from tests.integration.test_playbook import bearer, open_incident

SECRET = "whsec_" + base64.b64encode(b"fallback-secret-of-the-tests").decode()


@dataclass
class Receiver:
    """A loopback HTTP server that records each request and answers with `status`."""

    status: int = 200
    location: str | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            self.send_response(state.status)
            if state.location:
                self.send_header("location", state.location)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


LOOPBACK = allowed_networks(False, ["127.0.0.0/8"])


def plan_with_fallback(container: Container, tmp_path: Path, url: str) -> None:
    """The sample plan with recs-model's fallback webhook pointed at `url`."""
    folder = tmp_path / "plan"
    shutil.copytree(SAMPLE_PLAN.parent, folder)
    path = folder / "onduty.yaml"
    text = path.read_text()
    assert text.count("https://ops.halyard.example/northwind/recs/fallback") == 1
    text = text.replace("organization:\n", "organization:\n  webhook_allow_networks: [127.0.0.0/8]\n", 1)
    path.write_text(text.replace("https://ops.halyard.example/northwind/recs/fallback", url))
    apply_plan(container.db, load_plan(path), str(path), container.clock.now())


@pytest.fixture
def fallback_ready(container: Container, receiver: Receiver, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Container:
    monkeypatch.setenv("RECS_FALLBACK_SECRET", SECRET)
    plan_with_fallback(container, tmp_path, receiver.url + "/northwind/recs/fallback")
    return container


def kinds(container: Container, incident_id: int) -> list[str]:
    with container.db.transaction() as store:
        return [e.kind for e in store.timeline(incident_id)]


def test_fallback_calls_the_webhook_signed_and_records_it(
    fallback_ready: Container, receiver: Receiver
) -> None:
    incident_id = open_incident(fallback_ready, kind="model_degradation")
    with TestClient(create_app(fallback_ready)) as http:
        response = http.post(f"/api/v1/incidents/{incident_id}/fallback", headers=bearer(fallback_ready),
                             json={"by": "aiko"})
        playbook = http.get(f"/api/v1/incidents/{incident_id}/playbook", headers=bearer(fallback_ready)).json()
    assert response.status_code == 200 and response.json()["ok"] and response.json()["result"] == "HTTP 200"
    (sent,) = receiver.received
    assert sent["path"] == "/northwind/recs/fallback"
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + sent["body"]
    expected = base64.b64encode(hmac.new(base64.b64decode(SECRET.removeprefix("whsec_")), signed,
                                         hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert headers["webhook-id"] == f"incident-{incident_id}-fallback-1"
    body = json.loads(sent["body"])
    assert body["incident"]["id"] == incident_id and "popularity" in body["fallback"] and body["requested_by"] == "aiko"
    assert kinds(fallback_ready, incident_id)[-2:] == ["fallback.requested", "fallback.succeeded"]
    item = next(i for s in playbook["steps"] for i in s["items"] if i["id"] == "resolve.fallback")
    assert item["done"] and item["by"] == "aiko"


@pytest.mark.parametrize(("status", "location", "detail"), [
    (500, None, "HTTP 500"),
    (302, "http://127.0.0.1:9/elsewhere", "redirects are not followed"),
])
def test_a_refused_fallback_is_reported_and_recorded(
    fallback_ready: Container, receiver: Receiver, status: int, location: str | None, detail: str
) -> None:
    receiver.status, receiver.location = status, location
    incident_id = open_incident(fallback_ready, kind="model_degradation")
    with TestClient(create_app(fallback_ready)) as http:
        response = http.post(f"/api/v1/incidents/{incident_id}/fallback", headers=bearer(fallback_ready))
    assert response.status_code == 502 and detail in response.json()["detail"]
    assert len(receiver.received) == 1  # a redirect is not followed
    assert kinds(fallback_ready, incident_id)[-2:] == ["fallback.requested", "fallback.failed"]
    with fallback_ready.db.transaction() as store:
        failed = store.timeline(incident_id)[-1]
        assert detail in failed.data["error"]
        assert not [t for t in store.ticks(incident_id) if t.item_id == "resolve.fallback"]


def test_a_receiver_that_is_down_is_a_recorded_failure(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECS_FALLBACK_SECRET", SECRET)
    plan_with_fallback(container, tmp_path, "http://127.0.0.1:9/fallback")  # the discard port: nothing listens
    incident_id = open_incident(container, kind="model_degradation")
    caller = HttpFallbackCaller(timeout=2.0, allow=LOOPBACK)
    outcome = run_fallback(container.db, caller, incident_id, "aiko", container.clock.now())
    assert not outcome.ok and "ConnectError" in outcome.detail
    assert kinds(container, incident_id)[-1] == "fallback.failed"


def test_the_caller_gives_up_after_its_timeout() -> None:
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        hook = FallbackWebhook(f"http://127.0.0.1:{silent.getsockname()[1]}/fallback")
        with pytest.raises(FallbackFailed, match=r"no answer .* within 0\.3 s"):
            HttpFallbackCaller(timeout=0.3, allow=LOOPBACK).call(hook, {"x": 1}, "id-1",
                                                                 datetime(2026, 11, 20, tzinfo=UTC))


def test_a_service_without_a_fallback_webhook_is_refused_clearly(planned: Container) -> None:
    incident_id = open_incident(planned, service="claims-triage")
    with TestClient(create_app(planned)) as http:
        response = http.post(f"/api/v1/incidents/{incident_id}/fallback", headers=bearer(planned))
    assert response.status_code == 409 and "has no webhook" in response.json()["detail"]
    assert "fallback.requested" not in kinds(planned, incident_id)


def test_cli_fallback_reports_success(
    fallback_ready: Container, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from onduty.cli import app

    incident_id = open_incident(fallback_ready, kind="model_degradation")
    monkeypatch.setenv("ONDUTY_DATABASE_URL", fallback_ready.settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["incidents", "fallback", str(incident_id), "--by", "aiko"])
    assert result.exit_code == 0, result.output
    assert "fallback switched on" in result.stdout and len(receiver.received) == 1
