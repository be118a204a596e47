"""The composition root: build the database, channels, worker and clock once, in one place."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from onduty.adapters.clock import SystemClock
from onduty.adapters.db.batch_store import batch_transactions
from onduty.adapters.db.database import Database, sqlite_file
from onduty.adapters.db.migrate import upgrade
from onduty.adapters.notify.apprise import AppriseChannel
from onduty.adapters.notify.console import ConsoleChannel
from onduty.adapters.notify.email import EmailChannel
from onduty.adapters.notify.slack import SlackChannel
from onduty.adapters.notify.teams import TeamsChannel
from onduty.adapters.notify.webhook import WebhookChannel
from onduty.app.ports import Channel, Clock
from onduty.config import Settings
from onduty.engine.worker import Kept, Worker


@dataclass
class Container:
    settings: Settings
    db: Database
    clock: Clock
    worker: Worker
    channels: Mapping[str, Channel] = field(default_factory=dict)


def default_channels(settings: Settings, write: Callable[[str], None] = print) -> dict[str, Channel]:
    timeout, url = settings.notify_timeout_seconds, settings.public_url
    return {
        "console": ConsoleChannel(write),
        "webhook": WebhookChannel(settings.webhook_secret, timeout=timeout),
        "email": EmailChannel(
            settings.smtp_host, settings.smtp_port, sender=settings.smtp_from, username=settings.smtp_username,
            password=settings.smtp_password, starttls=settings.smtp_starttls, timeout=timeout, public_url=url,
        ),
        "slack": SlackChannel(url, timeout=timeout),
        "teams": TeamsChannel(url, timeout=timeout),
        "apprise": AppriseChannel(url, timeout=timeout),
    }


def journal_directory(settings: Settings) -> Path | None:
    """Where this database's workers on this machine keep their delivery journals: one directory per
    database, so a worker records only the pages of its own. None for an in-memory database or when off."""
    chosen = settings.delivery_journal_dir
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(settings.database_url)
        if path is None:
            return None
        identity = str(Path(path).expanduser().resolve())
    else:
        identity = url.render_as_string(hide_password=True)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"onduty-journal-{digest}"


def build(
    settings: Settings | None = None, *, clock: Clock | None = None,
    channels: Mapping[str, Channel] | None = None, migrate: bool = True,
) -> Container:
    """Wire everything; migrations run first so every entry point sees the newest schema."""
    settings = settings or Settings()
    db = Database(settings.database_url)
    if migrate:
        upgrade(db.engine)
    chosen = dict(channels) if channels is not None else default_channels(settings)
    # SQLite has one writer: small worker transactions keep ingest's wait for the lock short.
    batch = 100 if db.is_postgres else 10
    senders = max(settings.delivery_threads, 1)
    # On PostgreSQL the loop's thread keeps its connection between ticks (see `Kept`); SQLite has no pool.
    kept = Kept(lambda: db.transaction(durable=False, keep=True), batch_transactions(db, durable=False, keep=True),
                db.release_kept) if db.is_postgres else None
    worker = Worker(db.relaxed, chosen, batch=batch, lease=timedelta(seconds=settings.delivery_lease_seconds),
                    senders=senders, bulk=batch_transactions(db, durable=False),
                    journal_dir=journal_directory(settings), kept=kept)
    return Container(settings, db, clock or SystemClock(), worker, chosen)
