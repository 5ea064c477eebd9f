"""``AlertBook``: which alert a delivery refers to (its fingerprint, or the alert its
``dedup_key`` names), and the resolve-timeout and purge timers, without Ray or Redis."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta

from alerting.alert import AlertStatus
from alerting.alert_book import AlertBook
from alerting.lifecycle import ChangeKind, Transition, resolve

from .helpers import at, incoming

TIMEOUT = timedelta(minutes=5)
RETENTION = timedelta(hours=1)


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"a{next(counter)}"


def stored(book: AlertBook, steps: list[Transition]) -> None:
    """What the actor does once Redis confirmed the write."""
    for step in steps:
        if step.change is not None:
            book.remember(step.alert)


def test_two_deliveries_of_one_fingerprint_in_a_batch_are_one_alert_and_a_duplicate() -> None:
    book = AlertBook("t", RETENTION)
    steps, results = book.receive_batch([incoming(), incoming()], at(0), TIMEOUT, ids())
    assert [s.change for s in steps] == [ChangeKind.CREATED, ChangeKind.DUPLICATE]
    assert [(r["id"], r["duplicate"]) for r in results] == [("a1", False), ("a1", True)]
    assert len(book) == 0  # nothing is remembered before it is stored


def test_a_later_batch_refreshes_the_stored_alert() -> None:
    book = AlertBook("t", RETENTION)
    steps, _ = book.receive_batch([incoming()], at(0), TIMEOUT, ids())
    stored(book, steps)
    _, results = book.receive_batch([incoming()], at(10), TIMEOUT, ids())
    assert results[0]["duplicate"] and results[0]["occurrence"] == 1


def test_a_dedup_key_names_the_known_alert_whatever_its_other_labels() -> None:
    # PagerDuty's rule: the same dedup_key is the same alert.
    book = AlertBook("t", RETENTION)
    first = incoming(labels={"alertname": "Disk", "dedup_key": "k1"})
    steps, _ = book.receive_batch([first], at(0), TIMEOUT, ids())
    stored(book, steps)
    other_labels = incoming(labels={"alertname": "DiskFull", "dedup_key": "k1"})
    assert book.identity(other_labels, {}) == first.fingerprint
    _, results = book.receive_batch([other_labels], at(1), TIMEOUT, ids())
    assert results[0]["id"] == "a1" and results[0]["duplicate"]


def test_a_dedup_key_opened_earlier_in_the_batch_names_that_alert() -> None:
    book = AlertBook("t", RETENTION)
    a = incoming(labels={"alertname": "A", "dedup_key": "k"})
    b = incoming(labels={"alertname": "B", "dedup_key": "k"})
    _, results = book.receive_batch([a, b], at(0), TIMEOUT, ids())
    assert [r["id"] for r in results] == ["a1", "a1"] and results[1]["duplicate"]


def test_a_dedup_key_prefers_the_open_alert_over_a_resolved_one() -> None:
    book = AlertBook("t", RETENTION)
    old = incoming(labels={"alertname": "Old", "dedup_key": "k"})
    new = incoming(labels={"alertname": "New", "dedup_key": "k"})
    steps, _ = book.receive_batch([old], at(0), TIMEOUT, ids())
    stored(book, steps)
    stored(book, [resolve(book.find("a1"), now=at(1))])
    book.remember(book.receive_batch([new], at(2), TIMEOUT, lambda: "a2")[0][-1].alert)
    assert [a.id for a in book.named_by_dedup_key("k")] == ["a2", "a1"]


def test_an_alert_past_its_ends_at_is_expired_and_not_before() -> None:
    book = AlertBook("t", RETENTION)
    steps, _ = book.receive_batch([incoming()], at(0), TIMEOUT, ids())
    stored(book, steps)
    assert book.due_expiries(at(299)) == []
    refresh, _ = book.receive_batch([incoming()], at(200), TIMEOUT, ids())
    stored(book, refresh)  # the refresh moves its deadline to t=500
    assert book.due_expiries(at(400)) == []
    (expired,) = book.due_expiries(at(500))
    assert expired.change is ChangeKind.EXPIRED and expired.alert.status is AlertStatus.RESOLVED


def test_expiries_taken_for_a_write_that_failed_come_back() -> None:
    book = AlertBook("t", RETENTION)
    steps, _ = book.receive_batch([incoming()], at(0), TIMEOUT, ids())
    stored(book, steps)
    taken = book.due_expiries(at(600))
    assert book.due_expiries(at(600)) == []  # taken out of the queue
    book.restore_deadlines(taken)  # the write failed: nothing was stored
    assert [s.alert.id for s in book.due_expiries(at(600))] == ["a1"]


def test_a_resolved_alert_is_purged_after_the_retention_and_forgotten() -> None:
    book = AlertBook("t", RETENTION)
    alert = incoming(labels={"alertname": "X", "dedup_key": "k"})
    steps, _ = book.receive_batch([alert], at(0), TIMEOUT, ids())
    stored(book, steps)
    stored(book, [resolve(book.find("a1"), now=at(10))])
    assert book.due_expiries(at(10_000)) == []  # resolved: no deadline left
    assert book.due_purges(at(10 + 3599)) == []
    due = book.due_purges(at(10 + 3600))
    assert [alert_id for _, alert_id in due] == ["a1"]
    book.forget(["a1"])
    assert book.current(alert.fingerprint) is None and book.named_by_dedup_key("k") == []
    assert not book.has_open() and len(book) == 0


def test_purges_taken_for_a_delete_that_failed_come_back() -> None:
    book = AlertBook("t", RETENTION)
    steps, _ = book.receive_batch([incoming()], at(0), TIMEOUT, ids())
    stored(book, steps)
    stored(book, [resolve(book.find("a1"), now=at(0))])
    taken = book.due_purges(at(3600))
    book.restore_purges(taken)
    assert book.due_purges(at(3600)) == taken
