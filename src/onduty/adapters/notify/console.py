"""The console channel: a page printed as one line, for local use and the demo."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from onduty.adapters.notify.render import summarize
from onduty.domain.incidents import OutboxMessage


def page_line(message: OutboxMessage) -> str:
    body = message.payload["body"]
    if body.get("event") == "review.reminder":
        return f"REMINDER → {body['person']['name']}: {body['text']}"
    if "incident" not in body:  # a reminder, not a page
        who = (body.get("person") or {}).get("name", message.person_id)
        return f"NOTE → {who}: {body.get('subject', '')}: {body.get('text', '')}"
    if body.get("event") != "incident.page":  # a client message or a channel post
        summary = summarize(message)
        return f"MESSAGE → {message.address or message.person_id}: {summary.title}"
    incident = body["incident"]
    return (
        f"PAGE → {body['person']['name']}: [{incident['severity']}] #{incident['id']} "
        f"{incident['title']} ({incident['client']} / {incident['service']}), level {body.get('level', 1)}"
    )


class ConsoleChannel:
    def __init__(self, write: Callable[[str], None] = print):
        self.write = write

    def send(self, message: OutboxMessage, now: datetime) -> str:
        self.write(page_line(message))
        return "printed"
