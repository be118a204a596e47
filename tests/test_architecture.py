"""House rules that keep the code honest: a pure domain, injected time, migrations matching the models."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from onduty.adapters.db.database import make_engine
from onduty.adapters.db.migrate import MIGRATIONS, alembic_config, head_revision, is_current, upgrade
from onduty.adapters.db.tables import metadata

SRC = Path(__file__).resolve().parents[1] / "src" / "onduty"
CLOCK_READS = re.compile(r"datetime\.now\(|datetime\.utcnow\(|time\.time\(|date\.today\(")


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=SRC.parents[1], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_domain_and_use_cases_never_read_the_clock() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for folder in ("domain", "app", "engine")
        for path in (SRC / folder).rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if CLOCK_READS.search(line)
    ]
    assert offenders == []


def test_migrations_produce_exactly_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_brings_a_database_one_migration_behind_to_the_newest(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/m.db")
    head = head_revision()
    assert head is not None
    previous = ScriptDirectory(str(MIGRATIONS)).get_revision(head).down_revision
    assert isinstance(previous, str)
    command.upgrade(alembic_config(engine), previous)
    assert not is_current(engine)
    upgrade(engine)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == (head,)
    assert is_current(engine)
    engine.dispose()
