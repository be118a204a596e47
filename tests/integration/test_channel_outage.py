"""Channels down for ten minutes (a webhook receiver gone, an SMTP server refusing), on real receivers.

Pages are retried with growing backoff, a person's next contact method takes over, escalation keeps
its time, every failed attempt is on the timeline, and once the channels return every page still due
is delivered, once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from itertools import pairwise
from pathlib import Path

import pytest

from onduty.adapters.clock import SimulatedClock
from onduty.bootstrap import Container
from onduty.domain.incidents import TimelineEntry
from onduty.engine.worker import TickReport
from tests.conftest import advance
from tests.integration.comms_plan import apply_text, comms_container
from tests.integration.receivers import HttpReceiver, SmtpReceiver, serve_http, smtp_receiver, stop_http  # noqa: F401
from tests.integration.test_escalation import trigger

OUTAGE = timedelta(minutes=10)
REFUSED = "451 4.3.0 mail system busy, try again later"


def outage_plan(down: str, up: str) -> str:
    """Ana: the gone receiver, then e-mail, then a receiver that works. Omar and Lena: one channel
    each, both down. Level 2 (after 5 minutes) pages Raj, whose receiver works, and Lena."""
    return f"""\
version: 1
organization: {{name: Halyard Labs, time_zone: Europe/Lisbon, webhook_allow_networks: [127.0.0.0/8]}}
people:
  - id: ana
    name: Ana Souza
    time_zone: Europe/Lisbon
    contact:
      - {{type: webhook, address: "{down}/hooks/ana"}}
      - {{type: email, address: ana@halyard.example}}
      - {{type: webhook, address: "{up}/hooks/ana"}}
  - id: omar
    name: Omar Haddad
    time_zone: Europe/Lisbon
    contact:
      - {{type: webhook, address: "{down}/hooks/omar"}}
  - id: raj
    name: Raj Iyer
    time_zone: Europe/Lisbon
    contact:
      - {{type: webhook, address: "{up}/hooks/raj"}}
  - id: lena
    name: Lena Berg
    time_zone: Europe/Lisbon
    contact:
      - {{type: email, address: lena@halyard.example}}
  - id: maria
    name: Maria Costa
    time_zone: Europe/Lisbon
    roles: [account_manager, delivery_lead]
    contact:
      - {{type: webhook, address: "{up}/hooks/maria"}}
clients:
  - {{id: northwind, name: Northwind Home, time_zone: America/Chicago, coverage: 24x7, account_manager: maria,
     delivery_lead: maria}}
services:
  - {{id: recs-model, name: Northwind recommendation engine, client: northwind, kind: model,
     escalation_policy: ml}}
schedules:
  - id: primary
    time_zone: Europe/Lisbon
    layers:
      - {{members: [ana], start: 2026-01-05}}
escalation_policies:
  - id: ml
    levels:
      - {{targets: [{{schedule: primary}}, {{person: omar}}], ack_timeout: 5m}}
      - {{targets: [{{person: raj}}, {{person: lena}}], ack_timeout: 30m}}
"""


@dataclass
class Outage:
    container: Container
    clock: SimulatedClock
    down: HttpReceiver  # its port is closed until `restore`
    up: HttpReceiver
    smtp: SmtpReceiver
    reports: list[TickReport]
    restore: object  # () -> None: the receiver listens again and SMTP accepts


@pytest.fixture
def outage(database_url: str, clock: SimulatedClock, smtp_receiver: SmtpReceiver,  # noqa: F811
           tmp_path: Path) -> Iterator[Outage]:
    down, up = HttpReceiver(), HttpReceiver()
    servers = [serve_http(down), serve_http(up)]
    container = comms_container(database_url, clock, smtp_receiver.port)
    apply_text(container, tmp_path / "plan", outage_plan(down.base, up.base))
    stop_http(servers.pop(0))  # the webhook receiver is gone: connection refused
    smtp_receiver.refuse_rcpt = REFUSED

    def restore() -> None:
        servers.append(serve_http(down, down.port))
        smtp_receiver.refuse_rcpt = None

    reports: list[TickReport] = []
    tick = container.worker.run_once

    def counted(now: datetime) -> TickReport:
        reports.append(tick(now))
        return reports[-1]

    container.worker.run_once = counted  # type: ignore[method-assign]
    try:
        yield Outage(container, clock, down, up, smtp_receiver, reports, restore)
    finally:
        container.db.dispose()
        for server in servers:
            stop_http(server)


def timeline(outage: Outage, incident_id: int) -> list[TimelineEntry]:
    with outage.container.db.transaction() as store:
        return store.timeline(incident_id)


def seconds(entries: list[TimelineEntry], kind: str, person: str, start: datetime,
            channel: str | None = None) -> list[int]:
    """When (seconds after `start`) `person` had an entry of `kind` about the page, on `channel` if given."""
    return [int((e.at - start).total_seconds()) for e in entries
            if e.kind == kind and e.data.get("person") == person and channel in (None, e.data.get("channel"))
            and str(e.data.get("idempotency_key", "page:")).startswith("page:")]


def page_ids(requests: list[str | None]) -> list[str]:
    return [r for r in requests if r is not None and r.startswith("page:")]


def mail_ids(mails: list[EmailMessage]) -> list[str]:
    return [str(m["Message-ID"]) for m in mails]


def message_id(idempotency_key: str) -> str:
    """The Message-ID the e-mail channel gives a message (the same on every re-send)."""
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@onduty>"


def test_a_channel_down_for_ten_minutes_loses_no_page_and_holds_up_no_escalation(outage: Outage) -> None:
    c, clock = outage.container, outage.clock
    start = clock.now()
    incident_id = trigger(c)
    advance(c, clock, timedelta(minutes=5))
    during = timeline(outage, incident_id)

    # Ana's page: the gone receiver is tried at 0, 10, 30, 70 s; then her e-mail (refused) at 70, 80,
    # 100, 140 s; then her third contact takes it at 140 s, while the first two are still down.
    assert seconds(during, "page.retry", "ana", start, "webhook") == [0, 10, 30]
    assert seconds(during, "page.failed", "ana", start, "webhook") == [70]
    assert seconds(during, "page.retry", "ana", start, "email") == [70, 80, 100]
    assert seconds(during, "page.failed", "ana", start, "email") == [140]
    assert seconds(during, "page.delivered", "ana", start) == [140]
    assert all("ConnectError" in e.message for e in during if e.kind == "page.retry" and e.data["channel"] == "webhook")
    assert all("451" in e.message for e in during if e.kind == "page.retry" and e.data["channel"] == "email")

    # Level 2 is paged at 5:00 as planned, whatever level 1's channels did; Raj's page goes out at once.
    assert seconds(during, "page.queued", "raj", start) == [300]
    assert seconds(during, "page.queued", "lena", start) == [300]
    assert seconds(during, "page.delivered", "raj", start) == [300]
    assert [r.path for r in outage.up.requests if r.headers["webhook-id"].startswith("page:")] == [
        "/hooks/ana", "/hooks/raj"]

    advance(c, clock, OUTAGE - timedelta(minutes=5))
    outage.restore()
    advance(c, clock, timedelta(minutes=10))
    after = timeline(outage, incident_id)

    # Omar and Lena have one channel each: it keeps being retried, each wait longer than the last,
    # and their pages go out at the first attempt after the channel is back (10:10).
    omar_attempts = seconds(after, "page.retry", "omar", start)
    assert omar_attempts == [0, 10, 30, 70, 150, 310]
    assert seconds(after, "page.delivered", "omar", start) == [610]
    lena_attempts = seconds(after, "page.retry", "lena", start)
    assert lena_attempts == [300, 310, 330, 370, 450]
    assert seconds(after, "page.delivered", "lena", start) == [610]
    for attempts in (omar_attempts, lena_attempts):
        gaps = [b - a for a, b in pairwise(attempts)]
        assert gaps == sorted(gaps) and len(set(gaps)) == len(gaps)  # growing backoff

    # Every failed attempt (pages, and the reminders that their acknowledgement is due) is on the
    # timeline, numbered per message; nothing is undeliverable.
    failures = [e for e in after if e.kind in ("page.retry", "page.failed")]
    assert len(failures) == sum(r.failed for r in outage.reports)
    assert len([e for e in failures if e.data["idempotency_key"].startswith("page:")]) == 4 + 4 + 6 + 5
    for key in {e.data["idempotency_key"] for e in failures}:
        numbers = [e.data["attempt"] for e in failures if e.data["idempotency_key"] == key]
        assert numbers == list(range(1, len(numbers) + 1)), key
    assert not [e for e in after if e.kind == "page.undeliverable"]

    # Nothing lost, nothing twice: each person got the page once, and the outbox is empty.
    webhook_pages = page_ids([r.headers.get("webhook-id") for r in outage.up.requests + outage.down.requests])
    assert sorted(webhook_pages) == sorted(set(webhook_pages))
    assert sorted(r.path for r in outage.up.requests + outage.down.requests
                  if r.headers["webhook-id"].startswith("page:")) == ["/hooks/ana", "/hooks/omar", "/hooks/raj"]
    delivered = [e for e in after if e.kind == "page.delivered" and e.data["idempotency_key"].startswith("page:")]
    assert sorted(e.data["person"] for e in delivered) == ["ana", "lena", "omar", "raj"]
    (lena_page,) = [e.data["idempotency_key"] for e in delivered if e.data["person"] == "lena"]
    assert mail_ids(outage.smtp.to("lena@halyard.example")).count(message_id(lena_page)) == 1
    assert outage.smtp.to("ana@halyard.example") == []
    assert len(set(mail_ids([m for _, m in outage.smtp.messages]))) == len(outage.smtp.messages)
    with c.db.transaction() as store:
        assert store.outbox_depth() == 0
