"""The delivery journal file: a live worker's file is never taken, a dead one's is, torn lines are skipped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from onduty.app.delivery import Sent
from onduty.bootstrap import journal_directory
from onduty.config import Settings
from onduty.engine.journal import REWRITE_AFTER, DeliveryJournal, read_entries

LEASE = datetime(2026, 3, 2, 9, 1, 0, 123456, tzinfo=UTC)


def sent(n: int) -> Sent:
    """Odd pages carry the time their channel accepted them; even ones leave it to the recording."""
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + timedelta(seconds=n) if n % 2 else None
    return Sent(n, f"page:{n}:escalate:0:0:ana:c0", 1, LEASE, f"HTTP 204 ({n})", at)


def test_a_live_workers_journal_is_not_an_orphan_and_a_dead_ones_is(tmp_path: Path) -> None:
    alive, other = DeliveryJournal(tmp_path), DeliveryJournal(tmp_path)
    alive.add(sent(1))
    with other.orphans() as found:
        assert found == []  # its worker holds the lock
    alive.close(recorded=False)  # the worker died with a page unrecorded
    with other.orphans() as found:
        assert [(path.name, entries) for path, entries in found] == [(alive.path.name, [sent(1)])]
    assert not alive.path.exists()  # recorded by the block, so removed


def test_an_orphan_stays_when_recording_it_fails(tmp_path: Path) -> None:
    dead, other = DeliveryJournal(tmp_path), DeliveryJournal(tmp_path)
    dead.add(sent(1))
    dead.close(recorded=False)
    with pytest.raises(ConnectionError), other.orphans():
        raise ConnectionError("database down")
    with other.orphans() as found:
        assert [entries for _, entries in found] == [[sent(1)]]


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    journal = DeliveryJournal(tmp_path)
    journal.add(sent(1))
    journal.add(sent(2))
    with open(journal.path, "ab") as file:
        file.write(b'{"id": 3, "key": "page:3')  # killed in the middle of a write
    assert read_entries(journal.path) == [sent(1), sent(2)]


def test_clearing_empties_the_file_once_every_page_is_recorded(tmp_path: Path) -> None:
    journal = DeliveryJournal(tmp_path)
    journal.add(sent(1))
    journal.add(sent(2))
    journal.clear(keep=[sent(2)])
    assert read_entries(journal.path) == [sent(1), sent(2)]  # short: left as it is while a page is unrecorded
    journal.clear(keep=[])
    assert read_entries(journal.path) == []


def test_a_long_journal_is_rewritten_with_only_its_unrecorded_pages(tmp_path: Path) -> None:
    journal = DeliveryJournal(tmp_path)
    for n in range(REWRITE_AFTER):
        journal.add(sent(n))
    journal.clear(keep=[sent(REWRITE_AFTER - 1)])
    assert read_entries(journal.path) == [sent(REWRITE_AFTER - 1)]


def test_a_clean_stop_removes_the_file_and_an_unclean_one_leaves_it(tmp_path: Path) -> None:
    clean, unclean = DeliveryJournal(tmp_path), DeliveryJournal(tmp_path)
    for journal in (clean, unclean):
        journal.add(sent(1))
    clean.close(recorded=True)
    unclean.close(recorded=False)
    assert [p.name for p in tmp_path.iterdir()] == [unclean.path.name]


def test_each_database_has_its_own_journal_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = journal_directory(Settings(database_url="sqlite:///a.db"))
    assert first == journal_directory(Settings(database_url=f"sqlite:///{tmp_path}/a.db"))  # one file, two spellings
    assert first != journal_directory(Settings(database_url="sqlite:///b.db"))
    pg = "postgresql+psycopg://postgres@127.0.0.1:5432/"
    assert journal_directory(Settings(database_url=pg + "one")) != journal_directory(Settings(database_url=pg + "two"))
    assert journal_directory(Settings(database_url="sqlite://")) is None  # in memory: no other process to help
    assert journal_directory(Settings(database_url="sqlite:///a.db", delivery_journal_dir="off")) is None
    chosen = Settings(database_url="sqlite:///a.db", delivery_journal_dir=str(tmp_path / "j"))
    assert journal_directory(chosen) == tmp_path / "j"
