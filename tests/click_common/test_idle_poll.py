"""The polling loops' idle schedule: short right after work, doubled per idle pass, capped."""

from __future__ import annotations

from click_common.backoff import idle_poll_delay


def test_short_after_work_doubles_while_idle_and_stops_at_the_cap():
    assert [idle_poll_delay(n, 0.5, 5.0) for n in range(7)] == [0.5, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert idle_poll_delay(10_000, 0.5, 5.0) == 5.0  # idle for days: no overflow, just the cap


def test_a_shortest_above_the_cap_is_the_cap():
    assert idle_poll_delay(1, 10.0, 2.0) == 2.0
    assert idle_poll_delay(0, 10.0, 2.0) == 2.0


def test_quick_passes_keep_the_shortest_wait_through_short_pauses():
    waits = [idle_poll_delay(n, 0.5, 5.0, quick_passes=10) for n in range(15)]
    assert waits == [0.5] * 11 + [1.0, 2.0, 4.0, 5.0]
