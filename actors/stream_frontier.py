"""Which stream position is safe to store while entries are still being worked on.

The escalator reads notifications ahead and delivers them in the background, but it
may store as its position only an entry whose work, and the work of every entry
before it, is done: after a crash it reads again from there, and the notification
log skips what had been delivered. ``StreamFrontier`` tracks that position.
"""

from __future__ import annotations

from collections import deque


class StreamFrontier:
    """Entries in read order, each with its unfinished work; the last finished prefix."""

    def __init__(self, position: str) -> None:
        self.position = position  # every entry up to here is done
        self._entries: deque[str] = deque()
        self._open: dict[str, int] = {}

    def read(self, entry_id: str, work: int) -> None:
        """An entry was read, with ``work`` pieces under way for it (0: done already)."""
        self._entries.append(entry_id)
        self._open[entry_id] = work
        self._advance()

    def done(self, entry_id: str) -> None:
        """One piece of an entry's work finished (delivered or given up)."""
        if entry_id in self._open:
            self._open[entry_id] -= 1
            self._advance()

    @property
    def busy(self) -> int:
        """Entries read but not yet done."""
        return len(self._entries)

    def _advance(self) -> None:
        while self._entries and self._open[self._entries[0]] <= 0:
            entry_id = self._entries.popleft()
            del self._open[entry_id]
            self.position = entry_id
