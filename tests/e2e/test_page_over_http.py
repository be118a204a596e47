"""End to end with real processes: a PagerDuty event over HTTP → a signed webhook page → escalation
→ acknowledgement → resolution; and a server killed with SIGKILL that still sends every due page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

SECRET = "e2e-webhook-secret"
PLAN = """
version: 1
organization: {{name: E2E Agency, webhook_allow_networks: [127.0.0.0/8]}}
people:
  - {{id: ana, name: Ana Silva, time_zone: UTC, contact: [{{type: webhook, address: "{url}/ana"}}]}}
  - {{id: ben, name: Ben Cho, time_zone: UTC, contact: [{{type: webhook, address: "{url}/ben"}}]}}
  - {{id: cleo, name: Cleo Park, time_zone: UTC, roles: [delivery_lead, account_manager]}}
clients:
  - {{id: acme, name: Acme, time_zone: UTC, account_manager: cleo, delivery_lead: cleo}}
services:
  - {{id: shop-api, client: acme, kind: api, escalation_policy: api}}
schedules:
  - id: primary
    time_zone: UTC
    layers: [{{members: [ana], start: 2026-01-05}}]
escalation_policies:
  - id: api
    levels:
      - {{targets: [{{schedule: primary}}], ack_timeout: 3s}}
      - {{targets: [{{person: ben}}], ack_timeout: 1h}}
"""


class Receiver:
    """A loopback HTTP server that records every webhook it is sent."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], bytes]] = []
        received = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                received.append((self.path, dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.calls]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def onduty(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "onduty", *args], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.strip()


class Server:
    def __init__(self, env: dict[str, str]):
        self.env, self.port = env, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "onduty", "serve", "--port", str(self.port)], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._healthy)

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def stack(database_url: str, tmp_path: Path) -> Iterator[tuple[Server, Receiver, str, str]]:
    receiver = Receiver()
    plan = tmp_path / "onduty.yaml"
    plan.write_text(PLAN.format(url=receiver.url))
    env = {**os.environ, "ONDUTY_DATABASE_URL": database_url, "ONDUTY_WEBHOOK_SECRET": SECRET,
           "ONDUTY_WORKER_POLL_SECONDS": "0.2"}
    onduty(env, "plan", "apply", str(plan))
    routing_key = onduty(env, "keys", "create", "--service", "shop-api")
    api_key = onduty(env, "keys", "create", "--role", "responder")
    server = Server(env)
    server.start()
    try:
        yield server, receiver, routing_key, api_key
    finally:
        server.kill()
        receiver.server.shutdown()


def verify_signature(headers: dict[str, str], body: bytes) -> bool:
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()
    return headers["webhook-signature"] == f"v1,{expected}"


def trigger(server: Server, routing_key: str, action: str = "trigger") -> httpx.Response:
    return httpx.post(f"{server.url}/v2/enqueue", json={
        "routing_key": routing_key, "event_action": action, "dedup_key": "checkout-5xx",
        "payload": {"summary": "checkout 5xx at 40%", "source": "prometheus", "severity": "critical"},
    }, timeout=10)


def test_event_to_signed_page_to_escalation_to_resolution(stack: tuple[Server, Receiver, str, str]) -> None:
    server, receiver, routing_key, api_key = stack
    assert trigger(server, routing_key).status_code == 202
    wait_for(lambda: "/ana" in receiver.paths())
    _, headers, body = receiver.calls[0]
    assert verify_signature(headers, body)
    page = json.loads(body)
    assert page["incident"]["severity"] == "Sev1" and page["person"]["id"] == "ana"
    wait_for(lambda: "/ben" in receiver.paths())  # no ack within 3 s → level 2
    auth = {"Authorization": f"Bearer {api_key}"}
    acked = httpx.post(f"{server.url}/api/v1/incidents/1/acknowledge", headers=auth, json={"by": "ben"})
    assert acked.json()["status"] == "acknowledged"
    assert trigger(server, routing_key, "resolve").status_code == 202
    incident = httpx.get(f"{server.url}/api/v1/incidents/1", headers=auth).json()
    assert incident["status"] == "monitoring"
    timeline = httpx.get(f"{server.url}/api/v1/incidents/1/timeline", headers=auth).json()
    kinds = [e["kind"] for e in timeline]
    delivered = [e["data"]["person"] for e in timeline if e["kind"] == "page.delivered"]
    assert sorted(delivered) == ["ana", "ben", "cleo"]  # Sev1: Cleo (delivery lead) is paged at once too
    assert kinds.index("status.acknowledged") < kinds.index("status.resolved") < kinds.index("status.monitoring")


def test_server_killed_mid_incident_still_sends_every_due_page(stack: tuple[Server, Receiver, str, str]) -> None:
    server, receiver, routing_key, _ = stack
    assert trigger(server, routing_key).status_code == 202
    wait_for(lambda: "/ana" in receiver.paths())
    server.kill()
    time.sleep(3.5)  # the level-2 escalation falls due while nothing runs
    server.start()
    wait_for(lambda: "/ben" in receiver.paths())
    time.sleep(0.5)
    assert receiver.paths().count("/ana") == 1  # delivered before the kill, not sent again
    assert receiver.paths().count("/ben") == 1
