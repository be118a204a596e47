"""PostgreSQL under faults, with real processes: three workers share the due work and a SIGKILLed one
loses nothing; the database cut off mid-storm makes the server answer 503 (never 2xx for what it could
not store), and everything recovers by itself when it is back."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from onduty.config import Settings
from tests.faults.harness import (
    PLAN,
    Config,
    Proc,
    Receiver,
    Storm,
    audit,
    free_port,
    onduty_command,
    resend_figures,
    reset_database,
)
from tests.faults.proxy import CuttableProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
LEASE_SECONDS = 6.0  # short enough to recover a killed worker's claims, long enough for a loaded machine


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def setup(postgres_url: str, tmp_path: Path) -> Iterator[tuple[dict[str, str], str, Receiver]]:
    reset_database(postgres_url)
    receiver = Receiver()
    plan = tmp_path / "faults.yaml"
    plan.write_text(PLAN.format(url=receiver.url, ack_timeout=2))
    env = {**os.environ, "ONDUTY_DATABASE_URL": postgres_url, "ONDUTY_DELIVERY_LEASE_SECONDS": str(LEASE_SECONDS),
           "ONDUTY_INGEST_RATE_PER_KEY": "100000", "ONDUTY_INGEST_BURST_PER_KEY": "100000",
           "ONDUTY_INGEST_RATE_PER_CLIENT": "100000", "ONDUTY_INGEST_BURST_PER_CLIENT": "100000"}
    onduty_command(env, "plan", "apply", str(plan))
    routing_key = onduty_command(env, "keys", "create", "--service", "shop-api")
    try:
        yield env, routing_key, receiver
    finally:
        receiver.close()


def everything_paged(url: str, storm: Storm, receiver: Receiver) -> bool:
    figures = audit(url, storm.acknowledged, receiver.snapshot(), 0)
    return bool(figures["incidents"]) and not (figures["missed_first_pages"] or figures["missed_escalations"])


def test_three_workers_share_due_work_and_a_killed_one_loses_nothing(
    postgres_url: str, setup: tuple[dict[str, str], str, Receiver],
) -> None:
    env, routing_key, receiver = setup
    port = free_port()
    server = Proc("server", ["serve", "--no-worker", "--port", str(port)], env, f"http://127.0.0.1:{port}/healthz")
    workers = [Proc(f"worker{i}", ["worker", "--poll", "0.2"], env) for i in range(3)]
    procs = [server, *workers]
    for proc in procs:
        proc.start()
    storm = Storm(f"http://127.0.0.1:{port}", routing_key, Config(postgres_url, events=120, keys=120, senders=4))
    try:
        senders = storm.run()
        assert wait_for(lambda: len(receiver.snapshot()) >= 20, 60)
        workers[0].kill()  # mid-storm, with pages claimed and timers in hand
        for sender in senders:
            sender.join()
        assert wait_for(lambda: everything_paged(postgres_url, storm, receiver), 60)
        time.sleep(1)
        figures = audit(postgres_url, storm.acknowledged, receiver.snapshot(), 0)
        figures.update(resend_figures(receiver, workers, LEASE_SECONDS))
        survivors_alive = all(w.alive() for w in workers[1:])
    finally:
        storm.stopping.set()
        for proc in procs:
            proc.stop()
    assert figures["lost_alerts"] == 0 and figures["incidents"] == 120
    assert figures["missed_first_pages"] == 0 and figures["missed_escalations"] == 0
    # Each page once; a kill may re-send only the pages whose HTTP requests it cut short (at most one per
    # sender thread of the killed worker).
    assert figures["resends_without_a_kill"] == 0, figures
    assert figures["duplicate_pages"] <= Settings().delivery_threads, figures
    assert workers[0].kills == 1 and survivors_alive


def test_database_cut_mid_storm_answers_503_and_recovers_by_itself(
    postgres_url: str, setup: tuple[dict[str, str], str, Receiver],
) -> None:
    env, routing_key, receiver = setup
    url = make_url(postgres_url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxied = {**env, "ONDUTY_DATABASE_URL": through_proxy}
    port = free_port()
    server = Proc("server", ["serve", "--port", str(port)], proxied, f"http://127.0.0.1:{port}/healthz")
    server.start()
    base = f"http://127.0.0.1:{port}"
    storm = Storm(base, routing_key, Config(postgres_url, events=300, keys=60, senders=3))
    answers: Counter[int] = Counter()
    try:
        senders = storm.run()
        assert wait_for(lambda: len(storm.acknowledged) >= 10, 60)
        proxy.cut()
        for _ in range(5):  # while the database is away: 503 and a reason, never 2xx
            response = httpx.post(f"{base}/v2/enqueue", timeout=20, json={
                "routing_key": routing_key, "event_action": "trigger", "dedup_key": "during-cut",
                "payload": {"summary": "sent while the database is away", "source": "t", "severity": "error"}})
            answers[response.status_code] += 1
            time.sleep(0.5)
        health = httpx.get(f"{base}/healthz", timeout=20)
        time.sleep(3)
        proxy.restore()
        for sender in senders:
            sender.join(120)
        assert wait_for(lambda: everything_paged(postgres_url, storm, receiver), 60)
        figures = audit(postgres_url, storm.acknowledged, receiver.snapshot(), 0)
    finally:
        storm.stopping.set()
        server.stop()
        proxy.close()
    assert set(answers) == {503}, answers
    assert health.status_code == 503 and "database" in health.json()["reason"]
    assert "500" not in storm.answers, storm.answers
    assert figures["lost_alerts"] == 0 and figures["alerts_acknowledged"] == 60
    assert figures["missed_first_pages"] == 0 and figures["missed_escalations"] == 0
