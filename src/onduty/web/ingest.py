"""Build the ingest machinery of one app: the group-commit writer and the rate limiters (per key, per client)."""

from __future__ import annotations

from onduty.adapters.db.batch_store import batch_transactions
from onduty.app.ingest import IngestResult
from onduty.bootstrap import Container
from onduty.config import Settings
from onduty.domain.alerts import Decision
from onduty.engine.ingest_writer import IngestWriter
from onduty.web.limits import RateLimiter

WAKES_THE_WORKER = {Decision.OPEN, Decision.ACKNOWLEDGE, Decision.RESOLVE, Decision.REOPEN}


def ingest_writer(container: Container) -> IngestWriter:
    def committed(results: list[IngestResult]) -> None:
        if any(r.decision in WAKES_THE_WORKER for r in results):
            container.worker.wake()  # a new incident pages now, not at the next poll

    writers = container.settings.ingest_writers if container.db.is_postgres else 1
    # each writer thread keeps its connection: no pool checkout (and, on PostgreSQL, pre-ping) per commit
    return IngestWriter(batch_transactions(container.db, keep=True), container.clock, on_commit=committed,
                        max_batch_events=container.settings.ingest_batch_events, writers=writers,
                        on_thread_end=container.db.release_kept)


def rate_limiter(settings: Settings) -> RateLimiter:
    return RateLimiter(settings.ingest_rate_per_key, settings.ingest_burst_per_key)


def client_rate_limiter(settings: Settings) -> RateLimiter:
    """All of one client's integration keys together: many keys cannot add up to a flood."""
    return RateLimiter(settings.ingest_rate_per_client, settings.ingest_burst_per_client)
