"""Keeps an actor's per-tenant loops running and publishes their heartbeats.

Why the loops always come back: the correlator and the escalator create their
``LoopKeeper`` and start its watch in ``async __init__``, which Ray runs on the actor's
own event loop each time it (re)creates the actor, before the actor serves any call.
Nothing waits for a message, least of all one the actor sends itself (Ray refuses
those while the actor is restarting, and the work they were to start would never run).
``__init__`` does no I/O that can fail: a loop that needs Redis to start retries on its
own, so an actor created while Redis is away still comes up with every loop watched.

Every ``BEAT_SECONDS`` the watch

* starts again any loop whose task ended (a bug, a ``BaseException``), and says so;
* publishes each loop's heartbeat to Redis: the time of its last round (not the time of
  the watch: a hung loop's heartbeat ages while the watch goes on) and its lag.

If the whole process hangs, the watch stops too and every heartbeat of the actor ages:
whoever judges them needs nothing from the actor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import Any, Protocol

from alerting.liveness import LoopBeat, LoopId, LoopKind
from alerting.timeutil import from_epoch
from cluster.loop_beats import forget_beats, publish_beats, read_beats

log = logging.getLogger("vigil.loops")

BEAT_SECONDS = 1.0


class KeptLoop(Protocol):
    """A tenant's loop as the keeper sees it."""

    progress_at: float  # epoch seconds of its last round (0: none yet)

    def ensure_running(self) -> bool:
        """Start the loop's tasks where they are not running; whether any had to be."""
        ...

    async def lag_seconds(self) -> float:
        """How far behind the loop's work is now (0: nothing waiting)."""
        ...


class LoopKeeper:
    """The loops of one actor (one kind, one shard), kept running and reported."""

    def __init__(
        self,
        kind: LoopKind,
        shard: int,
        client: Any,
        owns: Callable[[str], bool],
        lane: int = 0,
        lanes: int = 1,
    ) -> None:
        self.kind = kind
        self.shard = shard
        self.lane = lane  # the escalator lane this actor runs (alerting/lanes.py)
        self.lanes = lanes
        self.client = client
        self.owns = owns  # whether a tenant's loop of this kind belongs to this actor
        self.loops: dict[str, KeptLoop] = {}
        self.lags: dict[str, float] = {}
        self.pid = os.getpid()
        self.forgot_strays = False
        self.watching = asyncio.Lock()  # a watch, or a drop, at a time

    def keep(self, tenant: str, loop: KeptLoop) -> None:
        """Watch a tenant's loop from now on, and start it at once."""
        self.loops[tenant] = loop
        loop.ensure_running()

    async def drop(self, tenant: str) -> None:
        """Stop watching a tenant's loop (it is being deleted) and forget its heartbeat:
        it is not restarted, and not judged stalled. Taken under the watch's lock, so a
        watch half-way through cannot publish the beat again after it was forgotten."""
        async with self.watching:
            self.loops.pop(tenant, None)
            self.lags.pop(tenant, None)
            await forget_beats(self.client, [LoopId(self.kind, tenant, self.lane)])

    async def watch_forever(self) -> None:
        """Restart ended loops and publish heartbeats, every ``BEAT_SECONDS``, for the
        actor's whole life (every failure is caught: the watch itself never ends)."""
        while True:
            try:
                await self.watch_once()
            except Exception as exc:  # Redis away: heartbeats age, which is the truth
                log.warning("%s:%d: heartbeat failed: %r", self.kind.value, self.shard, exc)
            await asyncio.sleep(BEAT_SECONDS)

    async def watch_once(self) -> list[LoopBeat]:
        """One watch: restart what ended, measure lags, publish; the beats published."""
        async with self.watching:
            return await self._watch()

    async def _watch(self) -> list[LoopBeat]:
        for tenant, loop in list(self.loops.items()):
            if loop.ensure_running():
                log.warning("%s loop of %s had ended; started again", self.kind.value, tenant)
        beats = []
        for tenant, loop in list(self.loops.items()):
            if loop.progress_at <= 0:
                continue  # never made a round: judged "starting", then "stalled"
            try:
                self.lags[tenant] = await loop.lag_seconds()
            except Exception as exc:  # keep the last known lag; the beat still ages
                log.debug("lag of %s unknown: %r", tenant, exc)
            beat_at = from_epoch(loop.progress_at)
            loop_id = LoopId(self.kind, tenant, self.lane)
            beats.append(
                LoopBeat(loop_id, beat_at, self.lags.get(tenant, 0.0), self.shard, self.pid)
            )
        await publish_beats(self.client, beats)
        if not self.forgot_strays:
            await self._forget_strays()
        return beats

    async def _forget_strays(self) -> None:
        """Drop heartbeats of this shard's loops that no longer run (once per life):
        this lane's tenants that left it, and (lane 0) lanes beyond the number that
        runs now, so a lowered ``VIGIL_ESCALATOR_LANES`` is not judged stalled."""
        stored = await read_beats(self.client)
        strays = [
            loop
            for loop in stored
            if loop.kind is self.kind
            and self.owns(loop.tenant)
            and (
                (loop.lane == self.lane and loop.tenant not in self.loops)
                or (self.lane == 0 and loop.lane >= self.lanes)
            )
        ]
        await forget_beats(self.client, strays)
        self.forgot_strays = True


def mark_progress() -> float:
    """The value a loop stores in ``progress_at`` after a round: now, epoch seconds."""
    return time.time()
