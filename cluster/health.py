"""The health of Vigil's loops, as ``/readyz``, ``vigil status`` and the supervisor see it:
which loops must run (from the configuration) and how their heartbeats judge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alerting.liveness import SUPERVISOR_LOOP, LoopHealth, LoopId, LoopKind, judge
from cluster.config import VigilConfig
from cluster.loop_beats import read_beats
from cluster.settings import Settings


def expected_loops(config: VigilConfig, escalator_lanes: int = 1) -> list[LoopId]:
    """The loops the configuration asks for: the supervisor's, a correlator loop per
    tenant, an escalator loop per lane of each tenant that escalates or has receivers
    to notify (``VigilConfig.escalates``). (Tenants created at run time are judged
    once their loop first beats.)"""
    loops = [SUPERVISOR_LOOP]
    loops += [LoopId(LoopKind.CORRELATOR, t.id) for t in config.tenants]
    loops += [
        LoopId(LoopKind.ESCALATOR, t.id, lane)
        for t in config.tenants
        if config.escalates(t)
        for lane in range(escalator_lanes)
    ]
    return loops


async def loop_health(
    client: Any, config: VigilConfig, settings: Settings, watching_since: datetime
) -> list[LoopHealth]:
    """Every loop judged now from its heartbeat in Redis (``RedisError`` if it is down)."""
    beats = await read_beats(client)
    now = datetime.now(UTC)
    return judge(
        expected_loops(config, settings.escalator_lanes),
        beats,
        now,
        settings.liveness_bounds,
        watching_since,
    )


def health_record(health: LoopHealth) -> dict[str, Any]:
    """A loop's judgement as JSON."""
    return {
        "loop": str(health.loop),
        "kind": health.loop.kind.value,
        "tenant": health.loop.tenant,
        "lane": health.loop.lane,
        "status": health.status.value,
        "heartbeat_age_seconds": _rounded(health.beat_age_seconds),
        "lag_seconds": _rounded(health.lag_seconds),
        "reason": health.reason,
        "shard": health.shard,
        "pid": health.pid,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
