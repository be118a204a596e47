"""Prometheus metrics of the engine, served at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ENGINE_LAG = Gauge("onduty_engine_lag_seconds", "How far the oldest due work (timer or page) is behind now")
TIMER_LAG = Gauge("onduty_timer_lag_seconds", "How far the oldest unfired due timer is behind now")
DELIVERY_LAG = Gauge("onduty_delivery_lag_seconds", "How far the oldest page due to be sent is behind now")
OUTBOX_FAILED = Gauge("onduty_outbox_failed", "Pages that failed for good (every attempt refused)")
OUTBOX_DEPTH = Gauge("onduty_outbox_depth", "Pages waiting to be delivered")
LAST_TICK = Gauge("onduty_worker_last_tick_timestamp_seconds", "When the worker last completed a tick")
PAGES_DELIVERED = Counter("onduty_pages_delivered_total", "Pages delivered", ["channel"])
DELIVERY_FAILURES = Counter("onduty_delivery_failures_total", "Failed delivery attempts", ["channel"])
EVENTS_ACCEPTED = Counter("onduty_events_accepted_total", "Alert events stored", ["source", "decision"])
EVENTS_REJECTED = Counter("onduty_events_rejected_total", "Alert events refused as invalid", ["source"])
INGEST_SECONDS = Histogram("onduty_ingest_seconds", "Time to store one event, commit included")
INGEST_COMMIT_EVENTS = Histogram("onduty_ingest_commit_events", "Events stored per ingest group commit",
                                 buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096))
