"""What one metric update costs: Vigil's prometheus-client families against Ray's
``ray.util.metrics``, inside a Ray worker (where Vigil's counters live).

The question it answers: should Vigil's own metrics also go through Ray's metrics
agent, so they show in Ray's Grafana? It times 200,000 increments of a labelled
counter and observations of a labelled histogram each way, in a worker of a local
Ray started with Ray's metrics on (``RAY_enable_metrics_collection=1``, what
``vigil up --ray-metrics`` sets), and prints the cost per update.

    python bench/metric_increments.py
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import write_json

UPDATES = 200_000
TENANTS = [f"t{n}" for n in range(20)]


def time_updates() -> dict[str, float]:
    """Microseconds per update, each way (runs inside the actor)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from ray.util import metrics as ray_metrics

    registry = CollectorRegistry()
    prom_counter = Counter("bench_updates", "updates", ["tenant"], registry=registry)
    prom_histogram = Histogram(
        "bench_seconds", "seconds", ["tenant"], buckets=(0.01, 0.1, 1.0), registry=registry
    )
    ray_counter = ray_metrics.Counter("bench_updates_ray", "updates", tag_keys=("tenant",))
    ray_histogram = ray_metrics.Histogram(
        "bench_seconds_ray", "seconds", boundaries=[0.01, 0.1, 1.0], tag_keys=("tenant",)
    )

    def per_update(update: Any) -> float:
        started = time.perf_counter()
        for n in range(UPDATES):
            update(TENANTS[n % len(TENANTS)])
        return (time.perf_counter() - started) / UPDATES * 1e6

    return {
        "prometheus_client counter": per_update(lambda t: prom_counter.labels(t).inc()),
        "ray.util.metrics counter": per_update(lambda t: ray_counter.inc(1, tags={"tenant": t})),
        "prometheus_client histogram": per_update(lambda t: prom_histogram.labels(t).observe(0.05)),
        "ray.util.metrics histogram": per_update(
            lambda t: ray_histogram.observe(0.05, tags={"tenant": t})
        ),
    }


def time_vigil_paths() -> dict[str, float]:
    """Microseconds of what Vigil's own observability adds, measured in this process:
    the request middleware around a request (tracing off, as by default), one
    process's snapshot for ``/metrics`` with 100 tenants' series, one JSON log line."""
    import asyncio
    import logging
    import os
    import tempfile

    from cluster import metrics
    from cluster.logs import configure_logging, log_event
    from cluster.metrics_relay import snapshot
    from serve_app.request_metrics import RequestMetricsMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def nothing(message: Any = None) -> Any:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "POST", "path": "/api/v1/critical-alerts", "headers": []}
    wrapped = RequestMetricsMiddleware(app)

    async def requests(handler: Any, n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            await handler(dict(scope), nothing, nothing)
        return (time.perf_counter() - started) / n * 1e6

    bare = asyncio.run(requests(app, 50_000))
    middleware = asyncio.run(requests(wrapped, 50_000)) - bare
    for n in range(100):  # a correlator of 100 tenants: every family's series exist
        tenant = f"tenant{n}"
        metrics.CORRELATOR_CHANGES.labels(tenant).inc()
        metrics.INCIDENTS_OPEN.labels(tenant).set(3)
        metrics.RISK_SCORES.labels(tenant).observe(0.4)
        for reason in ("group_key", "topology", "similarity"):
            metrics.MEMBERSHIPS.labels(tenant, reason).inc()
    started = time.perf_counter()
    for _ in range(100):
        json.dumps(snapshot())
    publish = (time.perf_counter() - started) / 100 * 1e6
    real_stderr = sys.stderr
    with open(os.devnull, "w") as sink:  # stderr's copy of each line, thrown away here
        sys.stderr = sink
        try:
            configure_logging("bench", Path(tempfile.mkdtemp()))
            log = logging.getLogger("vigil.bench")
            started = time.perf_counter()
            for _ in range(20_000):
                log_event(log, "incident.created", "group key x", tenant="t", incident_id="i")
            line = (time.perf_counter() - started) / 20_000 * 1e6
        finally:
            sys.stderr = real_stderr
    return {
        "request middleware, per request": middleware,
        "snapshot for /metrics, 100 tenants (every 5 s)": publish,
        "JSON log line (file and stderr)": line,
    }


def main() -> int:
    from cluster.ray_access import close_local_ray

    close_local_ray()
    from cluster.runtime import RAY_METRICS_ENV, init_local

    os.environ.update(RAY_METRICS_ENV)  # before Ray starts: Ray's metrics on
    import ray

    init_local(num_cpus=2)
    try:
        timer = ray.remote(num_cpus=0)(time_updates)
        results: dict[str, float] = ray.get(timer.remote())
    finally:
        ray.shutdown()
    vigil = time_vigil_paths()
    print("\n| update (labelled, 20 tenants) | µs per update |")
    print("|---|---|")
    for name, micros in results.items():
        print(f"| {name} | {micros:.2f} |")
    print("\n| Vigil's own | µs |")
    print("|---|---|")
    for name, micros in vigil.items():
        print(f"| {name} | {micros:.1f} |")
    data = {"updates": UPDATES, "microseconds": results, "vigil_microseconds": vigil}
    path = write_json("metric_increments", data)
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
