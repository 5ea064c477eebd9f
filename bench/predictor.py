"""The risk predictor on Ray Serve: throughput and latency by batch size, and
replicas scaling up under load and back down.

Starts local Ray (2 CPUs), an embedded Redis with the starter model registered (150
rounds, as ``vigil up`` trains it), and the ``Predictor`` deployment alone, with its
options from ``configs/serve.yaml``. Requests come through a Serve deployment handle,
as the correlator sends them, each carrying one incident's feature row.

1. **Batch sizes**: one replica, ``max_batch_size`` 1, 8 and 64 (set live through
   ``user_config``); 64 concurrent clients (closed loop), and one client alone for the
   unloaded latency.
2. **Autoscaling**: the ``serve.yaml`` autoscaling (1-3 replicas, 8 ongoing requests
   per replica, up after 3 s, down after 30 s); 64 concurrent clients for
   ``--load`` seconds, then idle; the replica count is sampled every second.

    python bench/predictor.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Measurement, write_json

ROOT = Path(__file__).resolve().parents[1]
APP = "bench-predictor"
BATCH_SIZES = (1, 8, 64)
CLIENTS = 64


def feature_rows(n: int) -> list[list[float]]:
    """Plausible feature rows (the model's answer does not depend on them for speed)."""
    from models.features import FEATURE_NAMES

    rng = random.Random(7)
    return [[rng.uniform(0, 3) for _ in FEATURE_NAMES] for _ in range(n)]


async def drive(
    handle: Any, clients: int, seconds: float, label: str, on_second: Any = None, rows: int = 1
) -> Measurement:
    """``clients`` concurrent requests of ``rows`` incidents each, back to back, for
    ``seconds``."""
    m = Measurement("predictor", label, rows, clients)
    pool = feature_rows(256)
    start = time.monotonic()
    deadline = start + seconds

    async def client(k: int) -> None:
        i = k
        while time.monotonic() < deadline:
            sent = time.perf_counter()
            try:
                first = (i * rows) % len(pool)
                answer = await handle.score.remote(pool[first : first + rows] or pool[:rows])
                ok = answer.risks is not None
            except Exception:
                ok = False
            m.record((time.perf_counter() - sent) * 1000, ok)
            i += clients

    async def report() -> None:
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            m.seconds = time.monotonic() - start
            extra = on_second() if on_second else ""
            print(
                f"\r  {label:<26} {m.seconds:5.1f}s {m.requests:7d} req "
                f"{m.alerts_per_s:7.0f}/s {extra}",
                end="",
                file=sys.stderr,
                flush=True,
            )

    reporter = asyncio.create_task(report())
    await asyncio.gather(*(client(k) for k in range(clients)))
    reporter.cancel()
    m.seconds = time.monotonic() - start
    print(file=sys.stderr)
    return m


def replicas() -> int:
    """Running replicas of the predictor."""
    from ray import serve

    from cluster.runtime import PREDICTOR_DEPLOYMENT

    status = serve.status().applications[APP].deployments[PREDICTOR_DEPLOYMENT]
    return int(status.replica_states.get("RUNNING", 0))


async def served(handle: Any) -> dict[str, int]:
    """Requests, rows and batches served so far (one replica's counters)."""
    info = await handle.info.remote()
    counts: dict[str, int] = info["served"]
    return counts


async def batch_sizes(handle_of: Any, deploy: Any, seconds: float) -> list[dict[str, Any]]:
    rows = []
    for size in BATCH_SIZES:
        deploy(num_replicas=1, max_batch_size=size)
        handle = handle_of()
        await handle.reload.remote()
        shapes = [(1, 1), (CLIENTS, 1)] + ([(8, 64)] if size == max(BATCH_SIZES) else [])
        for clients, per_request in shapes:
            before = await served(handle)
            label = f"batch {size}, {clients}x{per_request} rows"
            m = await drive(handle, clients, seconds, label, rows=per_request)
            after = await served(handle)
            batches = after["batches"] - before["batches"]
            rows.append(
                m.summary()
                | {
                    "max_batch_size": size,
                    "clients": clients,
                    "rows_per_request": per_request,
                    "incidents_per_s": round(m.alerts_per_s, 1),
                    "mean_batch": round((after["rows"] - before["rows"]) / max(batches, 1), 1),
                }
            )
    return rows


async def autoscaling(handle_of: Any, deploy: Any, load: float, idle: float) -> dict[str, Any]:
    deploy(num_replicas=None, max_batch_size=64)
    handle = handle_of()
    await handle.reload.remote()
    timeline: list[tuple[float, int]] = []
    start = time.monotonic()

    def sample() -> str:
        count = replicas()
        timeline.append((round(time.monotonic() - start, 1), count))
        return f"replicas {count}"

    m = await drive(handle, CLIENTS, load, "autoscaling: under load", sample)
    stopped = time.monotonic() - start
    while time.monotonic() - start < load + idle:
        await asyncio.sleep(1)
        count = replicas()
        timeline.append((round(time.monotonic() - start, 1), count))
        print(
            f"\r  autoscaling: idle {time.monotonic() - start - load:5.1f}s replicas {count}",
            end="",
            file=sys.stderr,
            flush=True,
        )
        if count == 1 and time.monotonic() - start > stopped + 5:
            break
    print(file=sys.stderr)
    firsts = {}
    for at, count in timeline:
        firsts.setdefault(count, at)
    back_to_one = next((at for at, count in timeline if at > stopped and count == 1), None)
    return {
        "load_seconds": load,
        "incidents_per_s": round(m.alerts_per_s, 1),
        "p50_ms": round(m.percentile(0.5), 2),
        "p99_ms": round(m.percentile(0.99), 2),
        "max_replicas": max(c for _, c in timeline),
        "first_seen_at_s": {str(k): v for k, v in sorted(firsts.items())},
        "load_stopped_at_s": round(stopped, 1),
        "back_to_one_at_s": back_to_one,
        "timeline": timeline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 s per scenario, 20 s load")
    args = parser.parse_args()
    seconds, load, idle = (4.0, 20.0, 60.0) if args.quick else (10.0, 40.0, 90.0)

    from cluster.ray_access import close_local_ray

    # Before Ray is imported: the benchmark's Ray listens on loopback, with a token.
    close_local_ray()
    import ray
    from ray import serve

    from cluster.redis_client import sync_client
    from cluster.redis_server import EmbeddedRedis
    from cluster.runtime import PREDICTOR_DEPLOYMENT, init_local
    from cluster.settings import Settings
    from models.registry import ModelRegistry
    from models.starter import register_starter
    from serve_app.app import deployment_options
    from serve_app.predictor import Predictor

    data = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    redis = EmbeddedRedis(data)
    redis.start()
    try:
        print("training the starter model ...", file=sys.stderr)
        version = register_starter(ModelRegistry(sync_client(redis.url)), "predictor bench")
        settings = Settings(REDIS_URL=redis.url, VIGIL_DATA_DIR=data)
        init_local(num_cpus=2)
        serve.start(logging_config={"enable_access_log": False, "log_level": "WARNING"})
        configured = deployment_options(ROOT / "configs" / "serve.yaml", PREDICTOR_DEPLOYMENT)

        def deploy(num_replicas: int | None, max_batch_size: int) -> None:
            options = dict(configured)
            options["user_config"] = {
                **options.get("user_config", {}),
                "max_batch_size": max_batch_size,
            }
            if num_replicas is not None:
                options.pop("autoscaling_config", None)
                options["num_replicas"] = num_replicas
            serve.run(Predictor.options(**options).bind(settings), name=APP, route_prefix=None)

        def handle_of() -> Any:
            return serve.get_deployment_handle(PREDICTOR_DEPLOYMENT, APP)

        async def run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
            sizes = await batch_sizes(handle_of, deploy, seconds)
            scaling = await autoscaling(handle_of, deploy, load, idle)
            return sizes, scaling

        sizes, scaling = asyncio.run(run())
    finally:
        serve.shutdown()
        ray.shutdown()
        redis.stop()

    print(f"\nPredictor, model {version}, requests through a Serve handle")
    print(
        "| max_batch_size | clients | incidents per request | requests/s | incidents/s "
        "| incidents per batch | p50 ms | p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in sizes:
        print(
            f"| {r['max_batch_size']} | {r['clients']} | {r['rows_per_request']} | "
            f"{r['requests'] / r['seconds']:,.0f} | {r['incidents_per_s']:,.0f} | "
            f"{r['mean_batch']} | {r['p50_ms']} | {r['p99_ms']} |"
        )
    s = scaling
    print(
        f"\nAutoscaling (1-3 replicas), {CLIENTS} clients for {s['load_seconds']:.0f} s: "
        f"{s['incidents_per_s']:,.0f} incidents/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms; "
        f"replicas first seen at {s['first_seen_at_s']} s; load stopped at "
        f"{s['load_stopped_at_s']} s; back to 1 replica at {s['back_to_one_at_s']} s"
    )
    out = write_json("predictor", {"model": version, "batch_sizes": sizes, "autoscaling": scaling})
    print(f"written to {out}")


if __name__ == "__main__":
    main()
