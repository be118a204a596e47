"""Settings from the environment (prefix ONDUTY_); a SQLite file in the working directory by default."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ONDUTY_", extra="ignore")

    database_url: str = "sqlite:///onduty.db"
    webhook_secret: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    worker_poll_seconds: float = 1.0
    max_engine_lag_seconds: float = 60.0
