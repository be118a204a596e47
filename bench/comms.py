"""Client messages: how long drafting (template render + check) and delivering to a real local SMTP
server take. Prints JSON.

    .venv/bin/python bench/comms.py [--messages 200]
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller

from onduty.adapters.clock import SimulatedClock
from onduty.adapters.notify.console import ConsoleChannel
from onduty.adapters.notify.email import EmailChannel
from onduty.app.comms import draft, send
from onduty.app.ingest import ingest_event
from onduty.app.plans import apply_plan
from onduty.bootstrap import build
from onduty.config import Settings
from onduty.domain.alerts import AlertEvent
from onduty.plan.load import load_plan

PLAN = Path(__file__).resolve().parents[1] / "examples" / "agency" / "onduty.yaml"
FIELDS = {"what_is_known": "Recommendations show unrelated products since 17:25.",
          "what_is_being_done": "We switched to the popularity fallback and are checking the catalog batch."}


class Sink:
    received = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        Sink.received += 1
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    clock = SimulatedClock(datetime(2026, 11, 20, 17, 40, tzinfo=ZoneInfo("America/Chicago")))
    with tempfile.TemporaryDirectory() as folder:
        quiet = ConsoleChannel(lambda line: None)  # the sample plan's webhooks are not real hosts
        email = EmailChannel("127.0.0.1", port, starttls=False)
        channels = {kind: quiet for kind in ("console", "webhook", "sms", "slack", "teams", "apprise")}
        container = build(Settings(database_url=f"sqlite:///{folder}/bench.db"), clock=clock,
                          channels={**channels, "email": email})
        apply_plan(container.db, load_plan(PLAN), str(PLAN), clock.now())
        incident = ingest_event(container.db, "recs-model", AlertEvent("trigger", "k", "relevance", "bench",
                                                                       "critical"), clock.now()).incident_id
        assert incident is not None
        container.worker.run_once(clock.now())
        started = time.perf_counter()
        for _ in range(args.messages):
            draft(container.db, incident, "initial", FIELDS, clock.now())
        drafted = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(args.messages):
            send(container.db, incident, "update", FIELDS, clock.now(), actor="bench")
        queued = time.perf_counter() - started
        before = Sink.received
        started = time.perf_counter()
        container.worker.run_once(clock.now())
        delivered = time.perf_counter() - started
        emails = Sink.received - before
        container.db.dispose()
    controller.stop()
    print(json.dumps({
        "messages": args.messages,
        "draft_ms_per_message": round(drafted / args.messages * 1000, 2),
        "send_ms_per_message": round(queued / args.messages * 1000, 2),
        "smtp_emails_delivered": emails,
        "smtp_ms_per_email": round(delivered / max(emails, 1) * 1000, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
