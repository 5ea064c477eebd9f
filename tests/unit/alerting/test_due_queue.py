"""``DueQueue``: each key due once, at the time it was last given, earliest first."""

from __future__ import annotations

import pytest

from alerting.due_queue import COMPACT_SLACK, DueQueue

from .helpers import at


def test_keys_come_out_earliest_first_and_ties_in_key_order() -> None:
    q: DueQueue[str] = DueQueue()
    for key, seconds in (("c", 2), ("b", 1), ("a", 2), ("d", 5)):
        q.schedule(key, at(seconds))
    assert q.pop_due(at(2)) == [(at(1), "b"), (at(2), "a"), (at(2), "c")]  # at `now` is due
    assert len(q) == 1 and q.next_at() == at(5)


def test_scheduling_again_moves_a_key_rather_than_adding_it() -> None:
    q: DueQueue[str] = DueQueue()
    q.schedule("g", at(1))
    q.schedule("g", at(9))  # refreshed: due later, and only then
    assert q.pop_due(at(5)) == []
    assert q.when("g") == at(9) and len(q) == 1
    q.schedule("g", at(3))  # earlier again
    assert q.pop_due(at(5)) == [(at(3), "g")]
    assert "g" not in q and q.peek() is None


def test_a_cancelled_key_never_comes_out() -> None:
    q: DueQueue[tuple[str, str]] = DueQueue()
    q.schedule(("i1", "fp"), at(1))
    q.schedule(("i2", "fp"), at(2))
    q.cancel(("i1", "fp"))
    q.cancel(("nope", "fp"))  # not queued: nothing happens
    assert q.pop_due(at(10)) == [(at(2), ("i2", "fp"))]


def test_pop_on_an_empty_queue_says_so() -> None:
    with pytest.raises(IndexError):
        DueQueue[str]().pop()


def test_a_key_refreshed_many_times_keeps_the_heap_small() -> None:
    # A duplicate alert refreshes its deadline on every delivery: a million refreshes
    # must not keep a million heap entries.
    q: DueQueue[str] = DueQueue()
    for n in range(10_000):
        q.schedule("alert", at(n))
    assert len(q._heap) <= 2 * len(q) + COMPACT_SLACK + 1
    assert q.pop_due(at(20_000)) == [(at(9_999), "alert")]


def test_iterating_lists_the_live_entries() -> None:
    q: DueQueue[str] = DueQueue()
    q.schedule("a", at(1))
    q.schedule("a", at(4))
    q.schedule("b", at(2))
    assert sorted(q) == [(at(2), "b"), (at(4), "a")]
