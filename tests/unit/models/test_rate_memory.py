"""The rate watch across a restart: the counts it saves rebuild a watch that judges the
next buckets exactly as the one that saved them would have, where a fresh watch
would still be learning. (The same through a real Redis: tests/integration/
test_rate_store.py; through a killed correlator: tests/integration/test_rate_watch.py.)"""

from dataclasses import replace
from datetime import timedelta

from alerting.correlation_config import AnomalyPolicy
from alerting.rate_counts import RateCounts, StoredRates, pack_counts, unpack_counts
from models.rate_memory import MAX_RESUME_GAP, memory_buckets
from models.rate_watch import RateAnomaly, RateWatch
from tests.unit.models.test_rate_watch import MINUTE, T0, feed, steady


class SavedCounts:
    """What the store keeps of a watch's saves: each stream's counts (appended to, or
    replaced) and the bookkeeping, as ``cluster/rate_store.py`` keeps them in Redis."""

    def __init__(self) -> None:
        self.counts: dict[int, bytes] = {}
        self.names: dict[int, str | None] = {}
        self.open_counts: dict[int, int] = {}
        self.last: RateCounts | None = None

    def save(self, watch: RateWatch) -> None:
        counts = watch.unsaved_counts()
        if counts is None:
            return
        self.names.update(counts.names)
        self.open_counts.update(counts.open_counts)
        self.counts.update(counts.replaced)
        for index, raw in counts.appended.items():
            self.counts[index] = self.counts.get(index, b"") + raw
        self.last = counts
        watch.saved(counts)

    def stored(self) -> StoredRates:
        assert self.last is not None
        return StoredRates(
            self.last.bucket,
            self.last.counted,
            self.last.bucket_start,
            dict(self.names),
            dict(self.counts),
            dict(self.open_counts),
        )


def watched(
    watch: RateWatch, counts: list[int], start: int, saved: SavedCounts | None = None
) -> list[RateAnomaly]:
    """Feed minute by minute from minute ``start``, saving after each (as the correlator
    commits after each round)."""
    found = []
    for minute, count in enumerate(counts, start):
        found += feed(watch, minute, count)
        if saved is not None:
            saved.save(watch)
    return found


def resumed(saved: SavedCounts, at_minute: int) -> RateWatch:
    watch = RateWatch(AnomalyPolicy(), T0 + at_minute * MINUTE)
    assert watch.resume(saved.stored(), T0 + at_minute * MINUTE)
    for _ in watch.replay(chunk=100):
        pass
    return watch


def test_counts_pack_as_two_bytes_each_and_a_torn_byte_is_dropped() -> None:
    counts = unpack_counts(pack_counts(unpack_counts(b"\x01\x00\xff\xff")))
    assert list(counts) == [1, 65535]
    assert list(unpack_counts(b"\x02\x00\x07")) == [2]


def test_a_resumed_watch_judges_the_next_buckets_as_the_one_that_saved() -> None:
    before = steady(300, 10)
    after = [*steady(40, 10, seed=2), 200, *steady(20, 10, seed=3)]
    saved = SavedCounts()
    original = RateWatch(AnomalyPolicy(), T0)
    watched(original, before, 0, saved)
    # Minute 299 is the open bucket: its count so far is saved too.
    again = resumed(saved, len(before))
    assert again.remembered() == original.remembered() == len(before) - 1
    assert again.tenant.count == original.tenant.count == before[-1]
    fresh = RateWatch(AnomalyPolicy(), T0 + len(before) * MINUTE)

    expected = watched(original, after, len(before))
    got = watched(again, after, len(before))
    assert [(a.kind, a.service, a.count, a.typical, a.score) for a in got] == [
        (a.kind, a.service, a.count, a.typical, a.score) for a in expected
    ]
    assert {(a.kind, a.service) for a in got} == {("AlertStorm", None), ("AlertStorm", "api")}
    # A fresh watch, 61 buckets in, is still learning the range a new level is judged
    # by (150 buckets); the resumed one learnt it before the restart.
    watched(fresh, after, len(before))
    assert fresh.tenant.detector.learning
    assert not again.tenant.detector.learning


def test_buckets_closed_during_the_replay_are_fed_after_the_stored_ones() -> None:
    before = steady(200, 10)
    saved = SavedCounts()
    original = RateWatch(AnomalyPolicy(), T0)
    watched(original, before, 0, saved)
    again = RateWatch(AnomalyPolicy(), T0 + 200 * MINUTE)
    assert again.resume(saved.stored(), T0 + 200 * MINUTE)
    replay = again.replay(chunk=50)
    next(replay)  # part-way through the stored counts
    meanwhile = steady(10, 10, seed=5)
    watched(original, meanwhile, 200)
    watched(again, meanwhile, 200, saved)  # counted by the live stream, and saved
    assert again.replaying
    for _ in replay:
        pass
    assert not again.replaying
    assert again.remembered() == original.remembered()
    later = [*steady(5, 10, seed=6), 150]
    assert [a.count for a in watched(again, later, 210)] == [
        a.count for a in watched(original, later, 210)
    ]
    # What the store holds is every count in order, the ones counted meanwhile last.
    stored = unpack_counts(saved.counts[0])
    assert list(stored[-10:]) == list(original.tenant.fed[-16:-6])


def test_a_resume_needs_the_same_bucket_the_same_counting_and_a_short_gap() -> None:
    saved = SavedCounts()
    watched(RateWatch(AnomalyPolicy(), T0), steady(50, 10), 0, saved)
    stored = saved.stored()
    at = T0 + 50 * MINUTE
    assert RateWatch(AnomalyPolicy(), at).resume(stored, at)
    assert not RateWatch(replace(AnomalyPolicy(), bucket=2 * MINUTE), at).resume(stored, at)
    assert not RateWatch(replace(AnomalyPolicy(), count_repeats=True), at).resume(stored, at)
    late = stored.bucket_start + MAX_RESUME_GAP + MINUTE
    assert not RateWatch(AnomalyPolicy(), late).resume(stored, late)
    # Resumed within the gap, it counts on from the bucket that was open.
    gap = stored.bucket_start + timedelta(minutes=10)
    watch = RateWatch(AnomalyPolicy(), gap)
    assert watch.resume(stored, gap)
    assert watch.bucket_start == stored.bucket_start


def test_the_store_is_sent_only_new_counts_and_the_whole_memory_now_and_then() -> None:
    saved = SavedCounts()
    watch = RateWatch(AnomalyPolicy(), T0)
    keep = memory_buckets(watch.settings, watch.period)
    assert keep == 4_322  # three days of minutes and a bucket either side
    watched(watch, [5], 0, saved)
    assert saved.last is not None and set(saved.last.replaced) == {0, 1}  # new streams
    assert saved.last.names == {0: None, 1: "api"}
    watched(watch, [5, 5], 1, saved)
    assert saved.last.replaced == {} and len(saved.last.appended[0]) == 2  # one count
    # Past twice the memory, a stream is sent whole again: the store never grows past it.
    watched(watch, [3] * (2 * keep), 3, saved)
    assert all(len(raw) <= 2 * 2 * keep for raw in saved.counts.values())
    assert len(unpack_counts(saved.counts[0])) >= keep


def test_an_abandoned_replay_leaves_new_streams_that_are_stored_whole_again() -> None:
    saved = SavedCounts()
    watched(RateWatch(AnomalyPolicy(), T0), steady(300, 10), 0, saved)
    watch = RateWatch(AnomalyPolicy(), T0 + 300 * MINUTE)
    assert watch.resume(saved.stored(), T0 + 300 * MINUTE)
    next(watch.replay(chunk=10))
    watch.abandon_replay()
    assert not watch.replaying
    watched(watch, [4], 300, saved)
    assert saved.last is not None and set(saved.last.replaced) == {0, 1}
    assert len(unpack_counts(saved.counts[0])) == 1  # what this watch itself was fed
