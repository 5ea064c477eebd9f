"""``DueQueue``: keys by the time they fall due, earliest first, each key due once.

Every timer of the engine and of a tenant (a group's next flush, a flapping alert's
hold, a resolved incident's purge, an alert's ``ends_at``, a resolved alert's purge, a
flap history's expiry) is one of these. Scheduling a key again moves it; cancelling it
takes it out. Both are O(log n): the heap keeps the old entries and skips them when
they come up (lazy deletion), and is rebuilt from the live keys once the skipped
entries outnumber them, so a key refreshed a million times costs one entry.

Keys due at the same time come out in key order, so a replay is the same whatever the
order they were scheduled in.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from typing import Generic, TypeVar

K = TypeVar("K", str, tuple[str, str])

COMPACT_SLACK = 64  # stale entries tolerated beyond the live ones before a rebuild


class DueQueue(Generic[K]):
    """Keys by when they are due; ``pop_due(now)`` takes those due by ``now``."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, K]] = []
        self._due: dict[K, datetime] = {}

    def __len__(self) -> int:
        return len(self._due)

    def __contains__(self, key: object) -> bool:
        return key in self._due

    def __iter__(self) -> Iterator[tuple[datetime, K]]:
        """Every live entry, in no particular order."""
        return ((at, key) for key, at in self._due.items())

    def when(self, key: K) -> datetime | None:
        """When ``key`` is due (``None``: it is not queued)."""
        return self._due.get(key)

    def schedule(self, key: K, at: datetime) -> None:
        """Make ``key`` due at ``at`` (instead of any earlier time it had)."""
        if self._due.get(key) == at:
            return
        self._due[key] = at
        heapq.heappush(self._heap, (at, key))
        if len(self._heap) > 2 * len(self._due) + COMPACT_SLACK:
            self._heap = [(t, k) for k, t in self._due.items()]
            heapq.heapify(self._heap)

    def cancel(self, key: K) -> None:
        """Take ``key`` out (nothing if it is not queued)."""
        self._due.pop(key, None)

    def peek(self) -> tuple[datetime, K] | None:
        """The earliest live entry, left in place."""
        while self._heap:
            at, key = self._heap[0]
            if self._due.get(key) == at:
                return at, key
            heapq.heappop(self._heap)  # moved or cancelled since
        return None

    def next_at(self) -> datetime | None:
        """When the earliest key is due (``None``: the queue is empty)."""
        head = self.peek()
        return head[0] if head is not None else None

    def pop(self) -> tuple[datetime, K]:
        """Take the earliest live entry (``IndexError`` if there is none)."""
        head = self.peek()
        if head is None:
            raise IndexError("pop from an empty DueQueue")
        heapq.heappop(self._heap)
        del self._due[head[1]]
        return head

    def pop_due(self, now: datetime) -> list[tuple[datetime, K]]:
        """Take every entry due by ``now`` (at or before it), earliest first."""
        taken: list[tuple[datetime, K]] = []
        while (head := self.peek()) is not None and head[0] <= now:
            taken.append(self.pop())
        return taken
