"""A serving process's garbage collector: the startup heap frozen, the youngest generation collected less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from onduty.web.heap import YOUNG_THRESHOLD, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_settling_freezes_what_is_loaded_and_raises_the_young_threshold(restored_gc: None) -> None:
    gc.unfreeze()
    settle_heap()
    assert gc.get_freeze_count() > 0  # the modules, classes and settings loaded so far
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD


def test_the_worker_command_settles_its_heap_before_it_ticks(restored_gc: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from onduty.cli import runtime

    seen: list[tuple[int, int]] = []

    def run_forever(*_: object) -> None:
        seen.append((gc.get_freeze_count(), gc.get_threshold()[0]))

    worker = SimpleNamespace(run_forever=run_forever, stop=lambda: None)
    monkeypatch.setattr(runtime, "container", lambda: SimpleNamespace(worker=worker, clock=None))
    monkeypatch.setattr(runtime.signal, "signal", lambda *_: None)
    gc.unfreeze()
    runtime.run_worker(poll=1.0)
    assert seen and seen[0][0] > 0 and seen[0][1] == YOUNG_THRESHOLD  # frozen before the first tick
