"""When Vigil pages about itself: a failure episode pages once, again every
``repeat`` while it lasts, and says so when it is over.

The supervisor calls ``decide`` every round with what is failing now (stalled or
lagging loops, an unreachable Redis) and records a page as sent only once it was
delivered, so a page that could not be delivered is tried again on the next round.
Pure: the clock is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class SelfPageAction(StrEnum):
    """What the supervisor should send now."""

    NOTHING = "nothing"
    PAGE = "page"  # a failure started, or lasts and the repeat is due, or a page failed
    RECOVERED = "recovered"  # the failure that was paged is over


@dataclass(frozen=True)
class SelfPageState:
    """The current failure episode (if any) and when it was last paged."""

    episode: int = 0  # counts failure episodes; names the notices of each
    failing_since: datetime | None = None
    paged_at: datetime | None = None
    failures: tuple[str, ...] = ()

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


def decide(
    state: SelfPageState, failures: Sequence[str], now: datetime, repeat: timedelta | None
) -> tuple[SelfPageState, SelfPageAction]:
    """The next state, and what to send (record a delivered page with ``paged``)."""
    if not failures:
        if not state.failing:
            return state, SelfPageAction.NOTHING
        action = SelfPageAction.RECOVERED if state.paged_at is not None else SelfPageAction.NOTHING
        return SelfPageState(episode=state.episode), action
    if not state.failing:
        fresh = SelfPageState(state.episode + 1, now, None, tuple(failures))
        return fresh, SelfPageAction.PAGE
    state = replace(state, failures=tuple(failures))
    if state.paged_at is None:
        return state, SelfPageAction.PAGE  # the first page has not been delivered yet
    if repeat is not None and now - state.paged_at >= repeat:
        return state, SelfPageAction.PAGE
    return state, SelfPageAction.NOTHING


def paged(state: SelfPageState, at: datetime) -> SelfPageState:
    """The state after a page of the current episode was delivered."""
    return replace(state, paged_at=at)
