"""Change events (deploys, data releases): stored per service and listed beside its incidents, since
"what changed just before?" is the first question of an assessment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from onduty.app.ports import NotFound, Transactions
from onduty.domain.changes import Change
from onduty.domain.suppression import upstream

RECENT = timedelta(hours=24)


def record_change(
    txs: Transactions, service_id: str, summary: str, source: str, occurred_at: datetime | None,
    details: dict[str, Any], links: list[dict[str, str]], now: datetime,
) -> int:
    with txs() as store:
        if service_id not in store.directory().services:
            raise NotFound(f"service {service_id!r} is no longer in the applied plan")
        return store.add_change(Change(service_id, summary, source, occurred_at or now, now, details, links))


def service_changes(txs: Transactions, service_id: str, since: datetime, client_id: str | None = None,
                    limit: int = 100) -> list[Change]:
    with txs() as store:
        service = store.directory().services.get(service_id)
        if service is None or (client_id is not None and service.client_id != client_id):
            raise NotFound(f"service {service_id!r} not found")
        return store.changes([service_id], since, limit)


def changes_around(txs: Transactions, service_ids: list[str], at: datetime) -> list[Change]:
    """Changes to these services and everything they depend on, in the day before `at` and since."""
    with txs() as store:
        services = store.directory().services
        wanted = {s for sid in service_ids for s in [sid, *upstream(services, sid)]}
        return store.changes(sorted(wanted), at - RECENT)
