"""``GET /metrics``: every Vigil process's metrics in one Prometheus scrape.

The answer joins three sources (``cluster/metrics_relay.py`` says why so):

- the samples each process published to Redis, labelled with its ``process``, with
  this replica's own read live rather than from its last publication;
- every loop's heartbeat, lag and judged health (``vigil_loop_*``), read from Redis
  at scrape time, so a loop that stopped shows at once, whoever hosted it;
- actor starts (``vigil_actor_starts_total``), counted in Redis by each actor's start.

It takes a Bearer token of its own (``cluster/metrics_token.py``): 401 without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import redis
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from alerting.liveness import LoopHealth
from cluster import keys
from cluster.health import loop_health
from cluster.metrics_relay import fresh_snapshots, merge, render, snapshot
from cluster.metrics_token import token_matches
from cluster.redis_client import text
from serve_app.problems import ApiError, unavailable
from serve_app.wire import ingress_of

router = APIRouter(tags=["health"])


def loop_families(health: Iterable[LoopHealth]) -> list[Metric]:
    """The judged loops as gauges: heartbeat age, lag, and 1 for a healthy loop."""
    labels = ["kind", "tenant"]
    age = GaugeMetricFamily(
        "vigil_loop_heartbeat_age_seconds",
        "Seconds since the loop's last round (absent: it never beat).",
        labels=labels,
    )
    lag = GaugeMetricFamily(
        "vigil_loop_lag_seconds",
        "The loop's backlog: a correlator's oldest unapplied change, an escalator's most "
        "overdue step, in seconds.",
        labels=labels,
    )
    healthy = GaugeMetricFamily(
        "vigil_loop_healthy",
        "1 while the loop beats and keeps up (what /readyz checks), 0 when stalled, "
        "lagging or not started.",
        labels=labels,
    )
    for judged in health:
        values = [judged.loop.kind.value, judged.loop.tenant]
        if judged.beat_age_seconds is not None:
            age.add_metric(values, round(judged.beat_age_seconds, 3))
        if judged.lag_seconds is not None:
            lag.add_metric(values, judged.lag_seconds)
        healthy.add_metric(values, 1.0 if judged.ok else 0.0)
    return [age, lag, healthy]


def start_family(starts: Mapping[Any, Any]) -> Metric:
    """Actor starts as a counter (the first start of each actor included)."""
    family = CounterMetricFamily(
        "vigil_actor_starts",
        "Times each Vigil actor started; more than one means Ray restarted it (or, for a "
        "tenant's actor, that it came back after leaving idle).",
        labels=["actor"],
    )
    for actor, count in sorted(starts.items()):
        family.add_metric([text(actor)], float(count))
    return family


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Every process's metrics in the Prometheus text format (Bearer: the metrics token)."""
    ingress = ingress_of(request)
    if not token_matches(ingress.metrics_token, request.headers.get("authorization")):
        raise ApiError(
            401,
            "unauthenticated",
            "GET /metrics takes the metrics token (VIGIL_METRICS_TOKEN or "
            "<data dir>/metrics-token) as a Bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="vigil-metrics"'},
        )
    settings = ingress.settings
    try:
        published, starts = await asyncio.wait_for(
            asyncio.gather(
                ingress.redis.hgetall(keys.metrics()),
                ingress.redis.hgetall(keys.actor_starts()),
            ),
            2,
        )
        since = datetime.fromtimestamp(ingress.started, UTC)
        health = await asyncio.wait_for(
            loop_health(ingress.redis, ingress.config, settings, since), 2
        )
    except (redis.RedisError, TimeoutError, OSError) as exc:
        raise unavailable(f"cannot read metrics: Redis is down ({type(exc).__name__})") from None
    snapshots, stale = fresh_snapshots(published, time.time(), settings.metrics_interval_seconds)
    snapshots[ingress.process_name] = snapshot()  # this replica's, live
    if stale:
        with contextlib.suppress(redis.RedisError):  # else dropped on a later scrape
            await ingress.redis.hdel(keys.metrics(), *stale)
    families = merge(snapshots, [*loop_families(health), start_family(starts)])
    return Response(render(families), media_type=CONTENT_TYPE_LATEST)
