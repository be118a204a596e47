"""Bring a database to the newest schema with Alembic; safe to call on every start."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@cache
def head_revision() -> str | None:
    """The newest migration's revision: read from the scripts once per process."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def is_current(engine: Engine) -> bool:
    """Whether the database already stands at the newest migration (and only there)."""
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    return heads == (head_revision(),)


def upgrade(engine: Engine) -> None:
    """Apply every pending migration in one go (each in its own transaction).

    A database already at the newest revision is left alone after one look at its version table:
    Alembic itself would compile every migration script again just to find nothing to do, a cost
    paid by each process start and CLI command."""
    if is_current(engine):
        return
    command.upgrade(alembic_config(engine), "head")
