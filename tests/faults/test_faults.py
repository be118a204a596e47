"""A short fault run in the suite: real server and worker processes, an alert storm and SIGKILLs at random
moments; every acknowledged alert stored, every incident paged and escalated."""

from __future__ import annotations

from pathlib import Path

import pytest

from onduty.config import Settings
from tests.faults.harness import Config, run


@pytest.mark.slow
def test_storm_with_random_sigkills_loses_no_alert_and_misses_no_page(database_url: str, tmp_path: Path) -> None:
    workers = 3 if database_url.startswith("postgresql") else 2
    # Leases of 6 s: a killed worker's unsent claims come back quickly, and a live worker on a loaded machine
    # still sends and records a page well within its lease, so a second arrival means a kill or a bug.
    figures = run(Config(database_url, workers=workers, events=400, keys=80, senders=4, kills=6,
                         ack_timeout=2, lease_seconds=6.0, settle_timeout=40), tmp_path)
    assert figures["kills"]["total"] >= 6
    assert figures["alerts_acknowledged"] == 80
    assert figures["lost_alerts"] == 0, figures
    assert figures["missed_first_pages"] == 0, figures
    assert figures["missed_escalations"] == 0, figures
    assert figures["incidents"] == 80
    # Pages sent and not yet recorded are journaled, so only a kill during a page's HTTP request re-sends it:
    # every page that arrived twice was cut short by a worker's SIGKILL, at most one per sender at each kill.
    assert figures["resends_without_a_kill"] == 0, figures
    assert figures["duplicate_pages"] <= figures["kills"]["workers"] * Settings().delivery_threads, figures
