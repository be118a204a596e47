"""Switch a service to its fallback (the plan's restore-first action) by calling its webhook.

The request is on the timeline before the call and the result after it; the call itself runs
outside any transaction, so a slow receiver holds no lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from onduty.app.ports import NotFound, Transactions
from onduty.domain.incidents import TimelineEntry
from onduty.domain.model import FallbackWebhook
from onduty.domain.playbook import Tick
from onduty.domain.severity import Severity

FALLBACK_ITEM = "resolve.fallback"


class FallbackFailed(Exception):
    """The webhook did not accept the call; the message says what happened (status, timeout, refusal)."""


class NoFallback(ValueError):
    """The service has no fallback, or none that can be switched on remotely."""


class FallbackCaller(Protocol):
    def call(self, hook: FallbackWebhook, body: dict[str, Any], message_id: str, now: datetime) -> str:
        """POST the signed body; return a short receipt, or raise FallbackFailed."""
        ...


@dataclass(frozen=True)
class FallbackOutcome:
    ok: bool
    detail: str
    url: str
    message_id: str


def run_fallback(
    txs: Transactions, caller: FallbackCaller, incident_id: int, by: str, now: datetime,
    client_id: str | None = None,
) -> FallbackOutcome:
    """Call the fallback webhook of the incident's service; success ticks the playbook's fallback item."""
    with txs() as store:
        incident = store.incident(incident_id, client_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        service = store.directory().services.get(incident.service_id)
        if service is None or not service.fallback:
            raise NoFallback(f"service {incident.service_id} has no fallback in the plan")
        hook = service.fallback_webhook
        if hook is None:
            raise NoFallback(f"the fallback of {service.id} ({service.fallback}) has no webhook in the plan: "
                             f"switch it by hand, then tick {FALLBACK_ITEM}")
        attempt = 1 + sum(1 for e in store.timeline(incident_id) if e.kind == "fallback.requested")
        message_id = f"incident-{incident_id}-fallback-{attempt}"
        body = {
            "type": "fallback.requested", "fallback": service.fallback, "requested_by": by,
            "requested_at": now.isoformat(),
            "incident": {"id": incident_id, "title": incident.title, "severity": Severity(incident.severity).label,
                         "type": incident.incident_type, "service": service.id, "client": incident.client_id},
        }
        store.append(incident_id, [TimelineEntry(
            now, "fallback.requested", f"Fallback requested by {by}: {service.fallback} ({hook.method} {hook.url})",
            by, {"url": hook.url, "webhook_id": message_id, "body": body},
        )])
    try:
        detail, ok = caller.call(hook, body, message_id, now), True
    except FallbackFailed as exc:
        detail, ok = str(exc), False
    with txs() as store:
        if ok:
            store.append(incident_id, [TimelineEntry(
                now, "fallback.succeeded", f"Fallback switched on ({detail}): {service.fallback}", by,
                {"url": hook.url, "webhook_id": message_id, "result": detail},
            )])
            ticked = {t.item_id for t in store.ticks(incident_id) if t.done}
            if FALLBACK_ITEM not in ticked:
                store.save_tick(incident_id, Tick(FALLBACK_ITEM, True, by, now, f"webhook answered {detail}"))
        else:
            store.append(incident_id, [TimelineEntry(
                now, "fallback.failed", f"Fallback call failed ({detail}): switch it by hand or retry", by,
                {"url": hook.url, "webhook_id": message_id, "error": detail},
            )])
    return FallbackOutcome(ok, detail, hook.url, message_id)
