"""One scrape target for many processes: each publishes its samples to Redis, the
ingress serves them all.

Vigil's counters live in many processes (ingress and predictor replicas, a tenant
actor per tenant, correlators, escalators), which come and go as Serve autoscales
and Ray restarts actors. Rather than ask Prometheus to discover each, every process
runs a ``MetricsPublisher``: a daemon thread that writes the process's samples into
one Redis hash every ``VIGIL_METRICS_INTERVAL`` seconds. ``exposition`` reads the
hash and renders every process's families in one text, each sample labelled with
its ``process``, plus the families kept in Redis itself (loop heartbeats, actor
starts).

Why a thread: it publishes even while the actor's event loop is busy or stuck, so a
hung loop shows as a stalled heartbeat rather than as missing metrics. Why this
survives faults: a killed process's entry stops changing and is dropped once stale
(its counters end, as a restarted process's start again from 0, which Prometheus's
``rate`` and ``increase`` treat as a reset); Redis away means the next publication
is skipped, never that the process blocks.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric

from cluster import keys
from cluster.metrics import REGISTRY
from cluster.redis_client import sync_client, text

log = logging.getLogger("vigil.metrics")

PROCESS_LABEL = "process"


def stale_after(interval: float) -> float:
    """How long a process's entry is served after its last publication: several
    missed rounds (a GC pause, a Redis blip), never less than a minute."""
    return max(60.0, 6 * interval)


def snapshot(registry: CollectorRegistry = REGISTRY, at: float | None = None) -> dict[str, Any]:
    """This process's families as JSON-ready data (without ``_created`` samples, which
    say when a series began in this process: meaningless once merged)."""
    families = []
    for metric in registry.collect():
        samples = [
            [s.name, s.labels, s.value] for s in metric.samples if not s.name.endswith("_created")
        ]
        if samples:
            families.append([metric.name, metric.type, metric.documentation, samples])
    return {"at": time.time() if at is None else at, "families": families}


class MetricsPublisher:
    """Publishes this process's samples under ``process`` every ``interval`` seconds."""

    def __init__(
        self, process: str, redis_url: str, interval: float, count_start: bool = False
    ) -> None:
        self.process = process
        self.interval = interval
        self.start_uncounted = count_start  # an actor's start, counted once Redis answers
        self.client = sync_client(redis_url, socket_timeout=2)
        self._failing = False
        self._thread = threading.Thread(target=self._run, name="vigil-metrics", daemon=True)

    def start(self) -> MetricsPublisher:
        self._thread.start()
        return self

    def publish(self) -> None:
        """Write one snapshot now (``redis.RedisError`` if Redis is away)."""
        if self.start_uncounted:
            self.client.hincrby(keys.actor_starts(), self.process, 1)
            self.start_uncounted = False
        record = json.dumps(snapshot(), separators=(",", ":"))
        self.client.hset(keys.metrics(), self.process, record)

    def _run(self) -> None:
        while True:
            try:
                self.publish()
                self._failing = False
            except Exception as exc:  # Redis away: skipped, published again next round
                if not self._failing:
                    log.warning("metrics of %s not published: %r", self.process, exc)
                self._failing = True
            time.sleep(self.interval)


_publisher: MetricsPublisher | None = None
_publisher_lock = threading.Lock()


def publish_metrics(
    process: str, redis_url: str, interval: float, count_start: bool = False
) -> MetricsPublisher:
    """Start this OS process's publisher (once: an actor or replica is one process;
    a second call keeps the first publisher and its name). ``count_start``: an actor's
    start, counted in ``vigil_actor_starts_total`` (from the thread: an actor starting
    while Redis is away does not wait for it)."""
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = MetricsPublisher(process, redis_url, interval, count_start).start()
        return _publisher


def replica_process(kind: str) -> str:
    """A Serve replica's ``process`` label: ``ingress:<replica id>`` (the pid outside
    Serve)."""
    from ray import serve  # only replicas ask, and Serve is heavy to import

    try:
        return f"{kind}:{serve.get_replica_context().replica_id.unique_id}"
    except Exception:  # not in a replica (a unit test)
        return f"{kind}:pid-{os.getpid()}"


# -- reading: one exposition of every process -------------------------------------------


@dataclass(frozen=True)
class Families:
    """Metric families to render (``generate_latest`` takes anything with ``collect``)."""

    metrics: list[Metric]

    def collect(self) -> Iterable[Metric]:
        return self.metrics


def merge(snapshots: Mapping[str, Mapping[str, Any]], extra: Iterable[Metric] = ()) -> Families:
    """Every process's families, one family per name, each sample labelled with its
    process; ``extra`` (families read from Redis) are added as they are. A family whose
    type differs between processes (two versions during an upgrade) keeps the first."""
    merged: dict[str, Metric] = {}
    for process in sorted(snapshots):
        for name, kind, documentation, samples in snapshots[process].get("families", []):
            family = merged.get(name)
            if family is None:
                family = merged[name] = Metric(name, documentation, kind)
            elif family.type != kind:
                continue
            for sample_name, labels, value in samples:
                family.add_sample(sample_name, {**labels, PROCESS_LABEL: process}, value)
    return Families([*merged.values(), *extra])


def fresh_snapshots(
    raw: Mapping[Any, Any], now: float, interval: float
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The readable, fresh entries of the hash, and the names of the stale ones."""
    fresh: dict[str, dict[str, Any]] = {}
    stale: list[str] = []
    for name, record in raw.items():
        process = text(name)
        try:
            data = json.loads(record)
            at = float(data["at"])
        except (ValueError, KeyError, TypeError):
            stale.append(process)
            continue
        if now - at > stale_after(interval):
            stale.append(process)
        else:
            fresh[process] = data
    return fresh, stale


def notice_outcomes(
    snapshots: Iterable[Mapping[str, Any]], tenant: str
) -> dict[str, dict[str, float]]:
    """A tenant's ``vigil_notifications_total`` summed over processes: channel type →
    outcome → notices."""
    found: dict[str, dict[str, float]] = {}
    for data in snapshots:
        for name, _, _, samples in data.get("families", []):
            if name != "vigil_notifications":
                continue
            for sample_name, labels, value in samples:
                if sample_name.endswith("_total") and labels.get("tenant") == tenant:
                    by_outcome = found.setdefault(labels["channel_type"], {})
                    outcome = labels["outcome"]
                    by_outcome[outcome] = by_outcome.get(outcome, 0.0) + value
    return found


def render(families: Families) -> bytes:
    """The Prometheus text exposition (format 0.0.4) of ``families``."""
    return generate_latest(families)
