"""Fire one due timer: escalation steps, the end of a monitor period, engagement, or the clocks."""

from __future__ import annotations

from datetime import datetime

from onduty.app.clocks import fire_clocks
from onduty.app.lifecycle import fire_close, fire_engage
from onduty.app.paging import fire_timer
from onduty.app.ports import Store
from onduty.domain.incidents import Timer
from onduty.domain.model import Directory


def fire(store: Store, directory: Directory, timer: Timer, now: datetime) -> None:
    """Act on one due timer inside the worker's transaction; each kind knows when it has gone stale."""
    if timer.kind == "clocks":
        fire_clocks(store, directory, timer, now)
    elif timer.kind == "close":
        fire_close(store, directory, timer, now)
    elif timer.kind == "engage":
        fire_engage(store, directory, timer, now)
    else:
        fire_timer(store, directory, timer, now)
