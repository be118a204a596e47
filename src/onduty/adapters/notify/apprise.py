"""Apprise URLs (ntfy://, mailto://, tgram://, json://, …): the many services Apprise reaches."""

from __future__ import annotations

import logging
from datetime import datetime

from onduty.adapters.notify.render import plain_text, summarize
from onduty.app.ports import DeliveryError
from onduty.domain.incidents import OutboxMessage


class AppriseChannel:
    def __init__(self, public_url: str = "", timeout: float = 10.0):
        self.public_url = public_url
        self.timeout = timeout

    def send(self, message: OutboxMessage, now: datetime) -> str:
        import apprise  # imported here: it loads its many plugins, which only this channel needs

        summary = summarize(message, self.public_url)
        notifier = apprise.Apprise()
        url = message.address
        if "cto=" not in url and "rto=" not in url:  # Apprise's own connect and read timeouts
            url += ("&" if "?" in url else "?") + f"cto={self.timeout:g}&rto={self.timeout:g}"
        if not notifier.add(url):
            raise DeliveryError("Apprise does not understand this URL; see the Apprise wiki for the form",
                                permanent=True)
        with apprise.LogCapture(level=logging.WARNING) as logs:  # type: ignore[no-untyped-call]
            delivered = notifier.notify(title=summary.title, body=plain_text(summary),
                                        body_format=apprise.NotifyFormat.TEXT)
        if not delivered:
            detail = logs.getvalue().strip().splitlines()
            raise DeliveryError(f"Apprise could not deliver: {detail[-1] if detail else 'no detail'}")
        return "delivered by Apprise"
