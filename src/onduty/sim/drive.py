"""Run the engine through simulated time, firing each timer at the moment it falls due."""

from __future__ import annotations

from datetime import datetime

from onduty.adapters.clock import SimulatedClock
from onduty.bootstrap import Container


def run_until(container: Container, clock: SimulatedClock, target: datetime) -> None:
    """Tick the worker at every due time (timers, page retries, leases) up to `target`, then at `target`."""
    while True:
        with container.db.transaction() as store:
            times = [store.next_timer_due(), store.next_delivery_due()]
        due = min((t for t in times if t is not None), default=None)
        if due is None or due > target:
            break
        clock.set(max(due, clock.now()))
        container.worker.run_once(clock.now())
    clock.set(max(target, clock.now()))
    container.worker.run_once(clock.now())
