"""The fault harness: real `onduty serve` and `onduty worker` processes, an alert storm, SIGKILLs at
random moments, and a closing audit against the harness's own record of every 2xx-acknowledged alert.

Used by `bench/faults.py` (the full run) and `tests/faults/` (a short run in the test suite).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select, text

from onduty.adapters.db import tables as t

PLAN = """
version: 1
organization: {{name: Fault Harness, allow_private_webhooks: true}}
people:
  - {{id: ana, name: Ana Silva, time_zone: UTC, contact: [{{type: webhook, address: "{url}/ana"}}]}}
  - {{id: ben, name: Ben Cho, time_zone: UTC, contact: [{{type: webhook, address: "{url}/ben"}}]}}
clients:
  - {{id: acme, name: Acme, time_zone: UTC, account_manager: ana, delivery_lead: ben}}
services:
  - {{id: shop-api, client: acme, kind: api, escalation_policy: api}}
schedules:
  - id: primary
    time_zone: UTC
    layers: [{{members: [ana], start: 2026-01-05}}]
escalation_policies:
  - id: api
    levels:
      - {{targets: [{{schedule: primary}}], ack_timeout: {ack_timeout}s}}
      - {{targets: [{{person: ben}}], ack_timeout: 24h}}
"""


@dataclass
class Config:
    database_url: str
    workers: int = 2
    events: int = 3000
    keys: int = 600
    senders: int = 8
    kills: int = 20
    ack_timeout: int = 3
    lease_seconds: float = 8.0
    kill_every: tuple[float, float] = (0.4, 1.5)
    settle_timeout: float = 120.0
    seed: int = 7
    journal: bool = True  # workers journal sent pages (off: a kill between send and record re-sends them)
    log: Callable[[str], None] = field(default=lambda _m: None)


class Receiver:
    """A loopback webhook receiver: every page it is sent, with its idempotency key (`webhook-id`)."""

    def __init__(self, delay: float = 0.0) -> None:
        """`delay`: seconds each answer takes after the page arrives (a real chat or paging API's latency)."""
        self.pages: list[tuple[str, int, str]] = []  # (webhook-id, incident id, person)
        self.arrivals: dict[str, float] = {}  # webhook-id → first arrival (Unix seconds)
        self.every_arrival: list[tuple[float, str]] = []  # (Unix seconds, webhook-id), duplicates included
        self.lock = threading.Lock()
        pages, lock, arrivals, every = self.pages, self.lock, self.arrivals, self.every_arrival

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with lock:
                    pages.append((self.headers["webhook-id"], body["incident"]["id"], body["person"]["id"]))
                    arrivals.setdefault(self.headers["webhook-id"], time.time())
                    every.append((time.time(), self.headers["webhook-id"]))
                if delay:
                    time.sleep(delay)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a sender killed mid-request resets its connection: expected here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> list[tuple[str, int, str]]:
        with self.lock:
            return list(self.pages)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def onduty_command(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "onduty", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"onduty {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


class Proc:
    """One onduty process that can be SIGKILLed and started again."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], health_url: str | None = None,
                 log_path: Path | None = None):
        self.name, self.args, self.env, self.health_url = name, args, env, health_url
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.killed_at: list[float] = []  # Unix seconds of each SIGKILL

    def start(self, wait: bool = True) -> None:
        log_path = self.log_path or Path(os.devnull)
        with open(log_path, "ab") as log:  # every life of the process, one after the other
            self.process = subprocess.Popen([sys.executable, "-m", "onduty", *self.args], env=self.env,
                                            stdout=subprocess.DEVNULL, stderr=log)
        if wait and self.health_url:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not self.healthy():
                time.sleep(0.05)

    def healthy(self) -> bool:
        if self.health_url is None:
            return self.alive()
        try:
            return httpx.get(self.health_url, timeout=1).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            assert self.process is not None
            self.killed_at.append(time.time())
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.kills += 1

    def stop(self) -> None:
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Storm:
    """Senders that post PagerDuty triggers and retry every one until it is acknowledged with a 2xx."""

    def __init__(self, url: str, routing_key: str, config: Config):
        self.url, self.routing_key, self.config = url, routing_key, config
        self.acknowledged: set[str] = set()
        self.answers: Counter[str] = Counter()
        self.sent = 0
        self._lock = threading.Lock()
        self._next = 0
        self.stopping = threading.Event()

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= self.config.events:
                return None
            self._next += 1
            return self._next - 1

    def _send_one(self, client: httpx.Client, index: int) -> None:
        key = f"storm-{index % self.config.keys}"
        event = {"routing_key": self.routing_key, "event_action": "trigger", "dedup_key": key,
                 "payload": {"summary": f"storm alert {key}", "source": "fault-harness", "severity": "critical"}}
        while not self.stopping.is_set():
            try:
                response = client.post(f"{self.url}/v2/enqueue", json=event, timeout=10)
                outcome = str(response.status_code)
            except httpx.HTTPError as exc:
                outcome, response = type(exc).__name__, None
            with self._lock:
                self.sent += 1
                self.answers[outcome] += 1
                if response is not None and response.is_success:
                    self.acknowledged.add(key)
                    return
            time.sleep(0.05 + random.random() * 0.1)

    def _sender(self) -> None:
        with httpx.Client() as client:
            while (index := self._take()) is not None:
                self._send_one(client, index)

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._sender, daemon=True) for _ in range(self.config.senders)]
        for thread in threads:
            thread.start()
        return threads


def reset_database(url: str) -> None:
    """An empty, migrated database: the harness owns it."""
    from onduty.bootstrap import build
    from onduty.config import Settings

    build(Settings(database_url=url)).db.dispose()
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            names = ", ".join(f'"{table.name}"' for table in t.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()


def audit(url: str, acknowledged: set[str], pages: list[tuple[str, int, str]], now_margin: float) -> dict[str, Any]:
    """Compare the database and the received pages with what the harness was promised."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(t.alerts.c.dedup_key, t.alerts.c.incident_id))
        stored = {r.dedup_key: r.incident_id for r in rows}
        incidents = {r.id: r.created_at for r in conn.execute(select(t.incidents.c.id, t.incidents.c.created_at))}
        stuck = conn.scalar(select(text("count(*)")).select_from(t.outbox).where(t.outbox.c.status != "delivered"))
    engine.dispose()
    lost = sorted(acknowledged - stored.keys())
    promised = {stored[k] for k in acknowledged if k in stored and stored[k] is not None}
    received = Counter(page_id for page_id, _, _ in pages)
    # By idempotency key: the on-call page of level 1, and the escalation to level 2 once it fell due
    # (Sev1 also pages the client's leads at once, under keys of their own).
    missed_first = sorted(i for i in incidents if f"page:{i}:escalate:0:0:ana:c0" not in received)
    missed_escalation = sorted(i for i in incidents if f"page:{i}:escalate:0:1:ben:c0" not in received)
    duplicates = sum(n - 1 for n in received.values())
    return {
        "alerts_acknowledged": len(acknowledged),
        "alerts_stored": len(stored),
        "incidents": len(incidents),
        "incidents_of_acknowledged_alerts": len(promised),
        "lost_alerts": len(lost),
        "lost_examples": lost[:5],
        "missed_first_pages": len(missed_first),
        "missed_escalations": len(missed_escalation),
        "missed_examples": (missed_first + missed_escalation)[:5],
        "pages_received": len(pages),
        "unique_pages": len(received),
        "duplicate_pages": duplicates,
        "duplicate_ratio": round(duplicates / max(len(received), 1), 5),
        "duplicate_examples": sorted(k for k, n in received.items() if n > 1)[:5],
        "outbox_not_delivered": int(stuck or 0),
    }


# The receiver notes a page when its handler thread reads it, which can be a moment after the sender was
# killed with the request already in the receiver's socket.
RECEIVER_LAG = 1.0


def resends_without_a_kill(arrivals: list[tuple[float, str]], kills: list[float], window: float) -> list[str]:
    """Pages that arrived again with no worker SIGKILLed within `window` seconds after the earlier arrival.

    A page a worker has sent and journaled is never sent again, so a kill can only re-send the pages whose
    HTTP request it cut short (after the receiver had the page, before the sender had the answer). Any other
    second arrival is a bug: a lease that ran out under a live sender, a journal line lost, a claim taken twice.
    """
    seen: dict[str, float] = {}
    unexplained: list[str] = []
    for at, key in sorted(arrivals):
        earlier = seen.get(key)
        if earlier is not None and not any(earlier - RECEIVER_LAG <= kill <= min(at, earlier + window)
                                           for kill in kills):
            unexplained.append(key)
        seen[key] = at
    return unexplained


def resend_figures(receiver: Receiver, workers: list[Proc], lease_seconds: float) -> dict[str, Any]:
    """How many pages arrived again with no worker killed while they were in flight (within a lease)."""
    kills = [at for worker in workers for at in worker.killed_at]
    with receiver.lock:
        arrivals = list(receiver.every_arrival)
    resent = resends_without_a_kill(arrivals, kills, lease_seconds)
    return {"resends_without_a_kill": len(resent), "resend_examples": resent[:5]}


def journal_recoveries(workers: list[Proc]) -> int:
    """Pages that killed workers had sent but not recorded, recorded by another worker from their journals
    (each one a duplicate page without the journal)."""
    pattern = re.compile(r"recorded (\d+) of \d+ sent pages from .* the journal of a worker that stopped")
    return sum(int(found.group(1)) for proc in workers if proc.log_path and proc.log_path.exists()
               for found in pattern.finditer(proc.log_path.read_text(errors="replace")))


def run(config: Config, workdir: Path) -> dict[str, Any]:
    """The whole run: set up, storm and kill, settle, audit. Returns the figures."""
    started = time.monotonic()
    rng = random.Random(config.seed)
    reset_database(config.database_url)
    receiver = Receiver()
    plan = workdir / "faults.yaml"
    plan.write_text(PLAN.format(url=receiver.url, ack_timeout=config.ack_timeout))
    env = {**os.environ, "ONDUTY_DATABASE_URL": config.database_url,
           "ONDUTY_DELIVERY_LEASE_SECONDS": str(config.lease_seconds),
           "ONDUTY_DELIVERY_JOURNAL_DIR": str(workdir / "journal") if config.journal else "off",
           "ONDUTY_INGEST_RATE_PER_KEY": "100000", "ONDUTY_INGEST_BURST_PER_KEY": "100000",
           "ONDUTY_INGEST_RATE_PER_CLIENT": "100000", "ONDUTY_INGEST_BURST_PER_CLIENT": "100000"}
    onduty_command(env, "plan", "apply", str(plan))
    routing_key = onduty_command(env, "keys", "create", "--service", "shop-api")
    port = free_port()
    server = Proc("server", ["serve", "--no-worker", "--port", str(port)], env,
                  f"http://127.0.0.1:{port}/healthz", workdir / "server.log")
    workers = [Proc(f"worker{i}", ["worker", "--poll", "0.2"], env, log_path=workdir / f"worker{i}.log")
               for i in range(config.workers)]
    everyone = [server, *workers]
    for proc in everyone:
        proc.start()
    config.log(f"{len(workers)} workers and a server up on {config.database_url.split(':')[0]}")
    storm = Storm(f"http://127.0.0.1:{port}", routing_key, config)
    senders = storm.run()
    kills = 0
    try:
        while kills < config.kills or any(s.is_alive() for s in senders):
            time.sleep(rng.uniform(*config.kill_every))
            if kills >= config.kills:
                continue
            victim = rng.choice(everyone)
            victim.kill()
            kills += 1
            time.sleep(rng.uniform(0.0, 0.5))
            victim.start(wait=False)
            if kills % 5 == 0:
                config.log(f"{kills} kills, {len(storm.acknowledged)} alerts acknowledged")
        for sender in senders:
            sender.join()
        storm_seconds = time.monotonic() - started
        for proc in everyone:
            if not proc.alive():
                proc.start()
        settle_started = time.monotonic()
        figures: dict[str, Any] = {}
        while time.monotonic() - settle_started < config.settle_timeout:
            time.sleep(1.0)
            figures = audit(config.database_url, storm.acknowledged, receiver.snapshot(), 0)
            if not (figures["missed_first_pages"] or figures["missed_escalations"]) and time.monotonic() - \
                    settle_started > config.ack_timeout + 1:
                break
        time.sleep(1.0)  # late duplicates, if any, land before the count
        figures = audit(config.database_url, storm.acknowledged, receiver.snapshot(), 0)
        figures.update(resend_figures(receiver, workers, config.lease_seconds))
    finally:
        storm.stopping.set()
        for proc in everyone:
            proc.stop()
        receiver.close()
    return {
        "database": config.database_url.split(":")[0].split("+")[0],
        "pages_recorded_from_journals": journal_recoveries(workers),
        "workers": config.workers,
        "kills": {"total": sum(p.kills for p in everyone), "server": server.kills,
                  "workers": sum(p.kills for p in workers)},
        "alerts_sent": storm.sent,
        "answers": dict(storm.answers),
        **figures,
        "storm_seconds": round(storm_seconds, 1),
        "settle_seconds": round(time.monotonic() - settle_started, 1),
        "seconds": round(time.monotonic() - started, 1),
    }
