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
