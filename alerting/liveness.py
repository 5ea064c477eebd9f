"""Whether Vigil's loops are doing their work: heartbeats and lags judged against bounds.

Every correlator and escalator loop (one per tenant) publishes a heartbeat: when it last
made a round, and its lag. For a correlator the lag is the age of the oldest change on
the tenant's stream that it has not applied; for an escalator, the age of its most
overdue escalation step. A loop is

* ``ok``: it beat within ``stall_after`` and its lag is within its bound;
* ``starting``: no beat yet, and the watcher has not waited ``stall_after`` for one;
* ``stalled``: no beat for longer than ``stall_after`` (a hung process, a loop that
  died, an actor that came back idle);
* ``lagging``: it beats, but its work piles up beyond the bound.

``/readyz`` is ready only when every loop is ``ok``; the supervisor pages about Vigil
itself when one is ``stalled`` or ``lagging``. Pure: the clock is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class LoopKind(StrEnum):
    """What a loop does."""

    CORRELATOR = "correlator"
    ESCALATOR = "escalator"
    SUPERVISOR = "supervisor"  # the watcher itself (its lag is always 0)


class LoopStatus(StrEnum):
    """A loop's judged health, best first."""

    OK = "ok"
    STARTING = "starting"
    STALLED = "stalled"
    LAGGING = "lagging"

    @property
    def is_failure(self) -> bool:
        """Whether this is worth paging about (``starting`` is only not ready yet)."""
        return self in (LoopStatus.STALLED, LoopStatus.LAGGING)


@dataclass(frozen=True, order=True)
class LoopId:
    """One loop: its kind, the tenant it works for and its lane (``alerting/lanes.py``:
    an escalator may run a tenant in several processes)."""

    kind: LoopKind
    tenant: str
    lane: int = 0

    def __str__(self) -> str:
        lane = f"#{self.lane}" if self.lane else ""  # '#' is never in a tenant id
        return f"{self.kind.value}/{self.tenant}{lane}"

    @classmethod
    def parse(cls, text: str) -> LoopId:
        """The inverse of ``str``: ``"escalator/acme"``, ``"escalator/acme#1"``
        (``ValueError`` if malformed)."""
        kind, _, rest = text.partition("/")
        tenant, _, lane = rest.partition("#")
        if not tenant or (lane and not lane.isdigit()):
            raise ValueError(f"not a loop id: {text!r}")
        return cls(LoopKind(kind), tenant, int(lane or 0))


SUPERVISOR_LOOP = LoopId(LoopKind.SUPERVISOR, "vigil")
"""The supervisor's own loop, judged like the others so a stopped watcher shows."""


@dataclass(frozen=True)
class LoopBeat:
    """A loop's last heartbeat: when it last made a round, its lag then, and where it runs."""

    loop: LoopId
    beat_at: datetime
    lag_seconds: float
    shard: int = 0
    pid: int = 0


@dataclass(frozen=True)
class LivenessBounds:
    """How long a loop may go without a round, and how far behind each kind may fall."""

    stall_after: timedelta
    max_correlation_lag: timedelta
    max_escalation_lag: timedelta

    def max_lag(self, kind: LoopKind) -> timedelta:
        """The lag bound of a kind of loop."""
        if kind is LoopKind.CORRELATOR:
            return self.max_correlation_lag
        return self.max_escalation_lag  # the supervisor reports no lag


@dataclass(frozen=True)
class LoopHealth:
    """A loop's judgement, with what it was judged on."""

    loop: LoopId
    status: LoopStatus
    beat_age_seconds: float | None  # None: it never beat
    lag_seconds: float | None
    reason: str
    shard: int | None = None
    pid: int | None = None

    @property
    def ok(self) -> bool:
        """Whether the loop is doing its work."""
        return self.status is LoopStatus.OK

    def describe(self) -> str:
        """One line for a page or ``/readyz``: the loop, its judgement and where it
        runs. Naming the process matters: loops of one process stall together, and the
        first to cross the bound may not be the one the operator was looking at."""
        where = f" (shard {self.shard}, pid {self.pid})" if self.pid else ""
        return f"{self.loop} {self.status.value}: {self.reason}{where}"


def judge_loop(
    loop: LoopId,
    beat: LoopBeat | None,
    now: datetime,
    bounds: LivenessBounds,
    watching_since: datetime,
) -> LoopHealth:
    """Judge one loop by its last beat (``None``: none seen). A beat from before
    ``watching_since`` (a previous run of Vigil) counts as none: after a restart each
    loop has ``stall_after`` to beat again before it is judged stalled."""
    stall = bounds.stall_after.total_seconds()
    if beat is not None and beat.beat_at < watching_since:
        beat = None
    if beat is None:
        waited = (now - watching_since).total_seconds()
        if waited <= stall:
            return LoopHealth(loop, LoopStatus.STARTING, None, None, "no heartbeat yet")
        return LoopHealth(
            loop,
            LoopStatus.STALLED,
            None,
            None,
            f"no heartbeat in {waited:.0f}s (bound {stall:g}s)",
        )
    age = max(0.0, (now - beat.beat_at).total_seconds())
    status, reason = LoopStatus.OK, "ok"
    max_lag = bounds.max_lag(loop.kind).total_seconds()
    if age > stall:
        status, reason = LoopStatus.STALLED, f"no round for {age:.1f}s (bound {stall:g}s)"
    elif beat.lag_seconds > max_lag:
        status = LoopStatus.LAGGING
        reason = f"{_work(loop.kind)} {beat.lag_seconds:.1f}s behind (bound {max_lag:g}s)"
    return LoopHealth(loop, status, age, beat.lag_seconds, reason, beat.shard, beat.pid)


def judge(
    expected: Iterable[LoopId],
    beats: Mapping[LoopId, LoopBeat],
    now: datetime,
    bounds: LivenessBounds,
    watching_since: datetime,
) -> list[LoopHealth]:
    """Judge every expected loop and every loop that ever beat, in a stable order."""
    loops = sorted(set(expected) | set(beats))
    return [judge_loop(loop, beats.get(loop), now, bounds, watching_since) for loop in loops]


def all_ok(health: Iterable[LoopHealth]) -> bool:
    """Whether every loop is ``ok`` (what ``/readyz`` answers 200 for)."""
    return all(h.ok for h in health)


def failures(health: Iterable[LoopHealth]) -> list[LoopHealth]:
    """The loops worth paging about."""
    return [h for h in health if h.status.is_failure]


def _work(kind: LoopKind) -> str:
    if kind is LoopKind.CORRELATOR:
        return "oldest unapplied change"
    if kind is LoopKind.ESCALATOR:
        return "most overdue escalation step"
    return "work"
