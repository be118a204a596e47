"""The fault harness's check on duplicate pages: a second arrival is explained only by a worker killed
while the page was in flight (allowing for the receiver noting it a moment late), never by a kill long
before or after."""

from __future__ import annotations

from tests.faults.harness import resends_without_a_kill


def test_a_page_cut_short_by_a_kill_is_explained_even_when_the_receiver_noted_it_late() -> None:
    arrivals = [(10.0, "p1"), (16.0, "p1"), (10.3, "p2"), (16.1, "p2")]
    assert resends_without_a_kill(arrivals, kills=[10.1], window=6.0) == []


def test_a_page_sent_twice_with_no_kill_in_flight_is_reported() -> None:
    arrivals = [(10.0, "early"), (30.0, "early"), (40.0, "late"), (46.0, "late"), (50.0, "once")]
    assert resends_without_a_kill(arrivals, kills=[20.0, 47.0], window=6.0) == ["early", "late"]
