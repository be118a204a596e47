"""How long the worker sleeps after an idle tick: until the next due timer or page, at most a poll."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from onduty.engine.worker import MIN_IDLE_WAIT, idle_wait

TICKED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
NOW = TICKED + timedelta(seconds=0.1)  # the tick took 100 ms


def test_work_due_before_the_next_poll_wakes_the_worker_when_it_falls_due() -> None:
    assert 0.2 <= idle_wait(NOW + timedelta(seconds=0.2), TICKED, NOW, poll=1.0) < 0.25


def test_work_that_fell_due_while_the_tick_ran_is_picked_up_at_once() -> None:
    assert idle_wait(TICKED + timedelta(seconds=0.05), TICKED, NOW, poll=1.0) == 0.0


def test_work_falling_due_every_few_milliseconds_is_taken_a_few_at_a_time() -> None:
    assert idle_wait(NOW + timedelta(milliseconds=10), TICKED, NOW, poll=1.0) == MIN_IDLE_WAIT
    assert idle_wait(NOW + timedelta(milliseconds=10), TICKED, NOW, poll=0.05) == 0.05  # never past a poll


def test_nothing_due_soon_waits_a_full_poll() -> None:
    assert idle_wait(NOW + timedelta(minutes=5), TICKED, NOW, poll=1.0) == 1.0
    assert idle_wait(None, TICKED, NOW, poll=0.5) == 0.5


def test_work_due_before_the_tick_and_still_there_is_left_to_its_holder_for_a_poll() -> None:
    assert idle_wait(TICKED - timedelta(seconds=3), TICKED, NOW, poll=0.5) == 0.5
