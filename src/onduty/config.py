"""Settings from the environment (prefix ONDUTY_); a SQLite file in the working directory by default."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

SERVE_WORKER_ENV = "ONDUTY_SERVE_WORKER"  # set by `onduty serve --processes N` for its child processes


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONDUTY_", extra="ignore")

    database_url: str = "sqlite:///onduty.db"
    webhook_secret: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    worker_poll_seconds: float = 1.0
    max_engine_lag_seconds: float = 60.0
    delivery_lease_seconds: float = 60.0  # a page claimed by a worker that dies is re-sent after this
    # Pages sent but not yet recorded are journaled here, so a killed worker's are recorded by the others
    # instead of re-sent: "" for a directory per database under the temp dir, "off" for none.
    delivery_journal_dir: str = ""
    delivery_threads: int = 32  # pages one worker sends at once: a slow channel holds one sender, not every page
    ingest_rate_per_key: float = 100.0  # events a second per integration key, sustained
    ingest_burst_per_key: float = 2000.0  # events a key may send at once before the rate applies
    ingest_rate_per_client: float = 300.0  # events a second for all of one client's integration keys together
    ingest_burst_per_client: float = 5000.0
    max_body_bytes: int = 4 * 1024 * 1024  # larger ingest bodies are refused with 413
    max_feed_bytes: int = 256 * 1024 * 1024  # larger feed batches are refused with 413
    ingest_batch_events: int = 2000  # at most this many events per group commit
    ingest_writers: int = 3  # group-commit threads on PostgreSQL (SQLite always has one)
    smtp_host: str | None = None  # the e-mail channel is off until a host is set
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "onduty@localhost"
    smtp_starttls: bool = True
    notify_timeout_seconds: float = 10.0  # per delivery attempt, for SMTP and every HTTP channel
    api_rate_per_key: float = 50.0  # API requests a second per API key, sustained (429 past it)
    api_burst_per_key: float = 200.0
    api_rate_per_client: float = 100.0  # all of one client's API keys together
    api_burst_per_client: float = 400.0
