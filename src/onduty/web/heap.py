"""The garbage collector of a long-running process (`onduty serve` once the app is built, `onduty worker`
before its first tick).

Everything loaded at start (modules, the ORM's mappings, the plan) lives as long as the process, yet
each full collection walked all of it again: under a stream of alert batches a full collection came
every second or so and took 150 ms, a fifth of the server's time and its slowest answers. Frozen, that
heap is left out of every collection; and with a larger first generation the objects of one batch,
most of them freed as soon as it is answered, no longer set off a collection every few hundred.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # allocations (net of frees) between collections of the youngest generation


def settle_heap() -> None:
    """Collect once, freeze what survives (it is never scanned again), and collect the young less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
