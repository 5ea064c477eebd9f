"""Vigil and the real Alertmanager side by side on ``POST /api/v2/alerts``.

Both receive the same load on the same machine: Prometheus-style batches of 1, 100
and 1,000 alerts from concurrent clients (closed loop), every alert a new
fingerprint; then single alerts at a fixed 200 requests/s (open loop), for latency.
Reported per system: accepted alerts/s and p50/p99 request latency
(medians over ``--repeat`` runs), and resident memory per 10,000 active alerts
(RSS growth while 50,000 new alerts are posted, scaled to 10,000). Vigil answers
only once Redis has the alerts in its append-only file; Alertmanager keeps them in
memory.

    python bench/compare_alertmanager.py            # 10 s per scenario, 3 runs
    python bench/compare_alertmanager.py --quick    # 3 s per scenario, 1 run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    Measurement,
    closed_loop,
    medians,
    open_loop,
    print_progress,
    scrape_metrics,
    start_vigil,
    write_results,
)
from bench.ingest import make_alerts
from bench.process_memory import pids_matching, rss_bytes, total_rss
from bench.real_services import Alertmanager
from cluster.redis_server import free_port

SCENARIOS = [(1, 8), (100, 4), (1000, 2)]  # (alerts per request, concurrent clients)
FIXED_RATE = 200  # single alerts a second, sent whether or not earlier ones were answered
FIXED = f"single @ {FIXED_RATE} req/s"
MEMORY_ALERTS = 50_000
VIGIL_PROCESSES = ("ray::TenantActor", "ray::ServeReplica:vigil:Ingress", "redis-server")


def v2_sender(url: str, batch: int, headers: dict[str, str], offset: int):  # type: ignore[no-untyped-def]
    """Post ``batch`` new alerts per request to ``url``'s Alertmanager v2 API."""
    endpoint = f"{url}/api/v2/alerts"
    headers = {**headers, "Content-Type": "application/json"}

    async def send(session: aiohttp.ClientSession, i: int) -> bool:
        body = make_alerts(offset + i * batch, batch)
        async with session.post(endpoint, data=json.dumps(body), headers=headers) as r:
            await r.read()
            return r.status == 200

    return send


async def post_many(send: Any, count: int, batch: int) -> None:
    async with aiohttp.ClientSession() as session:
        for i in range(count // batch):
            if not await send(session, i):
                raise RuntimeError("a memory-phase post was refused")
            print(f"\r  posted {(i + 1) * batch:6d}/{count}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


async def memory_per_10k(name: str, send: Any, measure: Any) -> dict[str, Any]:
    """RSS growth while ``MEMORY_ALERTS`` new alerts become active, per 10,000 alerts."""
    print(f"\n{name}: memory", file=sys.stderr)
    await post_many(send, 1000, 1000)  # warm: actors and caches exist before the baseline
    await asyncio.sleep(2)
    before = measure()
    await post_many(send, MEMORY_ALERTS, 1000)
    await asyncio.sleep(6)  # let the tenant actor's periodic GC freeze run
    after = measure()
    per_10k = {k: (after.get(k, 0) - before.get(k, 0)) * 10_000 / MEMORY_ALERTS for k in after}
    return {
        "mib_per_10k_alerts": round(sum(per_10k.values()) / 2**20, 2),
        "by_process_mib_per_10k": {k: round(v / 2**20, 2) for k, v in per_10k.items()},
        "rss_after_mib": round(sum(after.values()) / 2**20, 1),
    }


async def throughput(
    name: str,
    url: str,
    headers: dict[str, str],
    args: argparse.Namespace,
    offset: int,
    merging: dict[str, float] | None = None,
) -> list[Measurement]:
    """Every scenario ``args.repeat`` times; with ``merging`` (Vigil), the requests per
    call of the tenant's actor in each scenario's first run go there."""
    rows = []
    for run in range(args.repeat):
        print(f"\n{name}: run {run + 1} of {args.repeat}", file=sys.stderr)
        for batch, concurrency in SCENARIOS:
            m = Measurement(name, f"batch {batch}", batch, concurrency)
            send = v2_sender(url, batch, headers, offset + run * 10**8 + batch * 10**7)
            counting = merging if run == 0 else None  # the first run's merges only
            before = await requests_per_call(url) if counting is not None else (0.0, 0.0)
            rows.append(await closed_loop(m, send, args.duration, print_progress))
            print(file=sys.stderr)
            if counting is not None:
                after = await requests_per_call(url)
                requests, calls = after[0] - before[0], after[1] - before[1]
                counting[f"batch {batch}"] = round(requests / calls, 2) if calls else 0
        # Latency at a fixed rate (open loop): what a steady sender sees, not a flood.
        m = Measurement(name, FIXED, 1, 0)
        send = v2_sender(url, 1, headers, offset + run * 10**8 + 9 * 10**7)
        rows.append(await open_loop(m, send, FIXED_RATE, args.duration, print_progress))
        print(file=sys.stderr)
    return rows


async def requests_per_call(url: str) -> tuple[float, float]:
    """The ingress's group commit so far: (requests, calls of the tenant's actor)."""
    # Every process publishes its samples every few seconds: wait for the latest.
    family = "vigil_ingest_requests_per_call"
    found = await asyncio.to_thread(scrape_metrics, url, family, 6.0)
    requests = sum(v for k, v in found.items() if k.startswith(f"{family}_sum"))
    calls = sum(v for k, v in found.items() if k.startswith(f"{family}_count"))
    return requests, calls


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def print_comparison(rows: list[dict[str, Any]], memory: dict[str, dict[str, Any]]) -> None:
    by = {(r["target"], r["scenario"]): r for r in rows}
    print("\nPOST /api/v2/alerts, same load, same machine (medians; ratio = Vigil / Alertmanager)")
    head = (
        f"{'scenario':<12} {'clients':>7} | {'Vigil alerts/s':>14} {'p50 ms':>7} {'p99 ms':>7} | "
        f"{'AM alerts/s':>12} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>6}"
    )
    print(head)
    print("-" * len(head))
    for batch, concurrency in SCENARIOS:
        v = by[("vigil", f"batch {batch}")]
        a = by[("alertmanager", f"batch {batch}")]
        print(
            f"{'batch ' + str(batch):<12} {concurrency:>7} | {v['alerts_per_s']:>14,.0f} "
            f"{v['p50_ms']:>7.1f} {v['p99_ms']:>7.1f} | {a['alerts_per_s']:>12,.0f} "
            f"{a['p50_ms']:>7.1f} {a['p99_ms']:>7.1f} | "
            f"{ratio(v['alerts_per_s'], a['alerts_per_s']):>6}"
        )
    v, a = by[("vigil", FIXED)], by[("alertmanager", FIXED)]
    print(
        f"{FIXED:<20} | {v['alerts_per_s']:>14,.0f} {v['p50_ms']:>7.1f} {v['p99_ms']:>7.1f} | "
        f"{a['alerts_per_s']:>12,.0f} {a['p50_ms']:>7.1f} {a['p99_ms']:>7.1f} |"
    )
    vm, am = memory["vigil"]["mib_per_10k_alerts"], memory["alertmanager"]["mib_per_10k_alerts"]
    # Memory in the same table: MiB of resident memory per 10,000 active alerts.
    print(
        f"{'memory':<12} {'':>7} | {f'{vm:.1f} MiB/10k':>30} | {f'{am:.1f} MiB/10k':>28} | "
        f"{ratio(vm, am):>6}"
    )
    parts = ", ".join(f"{k} {v:.1f}" for k, v in memory["vigil"]["by_process_mib_per_10k"].items())
    print(f"  Vigil by process (MiB per 10k): {parts}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    p.add_argument("--repeat", type=int, default=3, help="runs of every scenario (medians)")
    p.add_argument("--quick", action="store_true", help="3 s per scenario, one run")
    args = p.parse_args()
    if args.quick:
        args.duration, args.repeat = 3.0, 1
    if Alertmanager.binary() is None:
        print("needs Debian's prometheus-alertmanager (apt-get install it)", file=sys.stderr)
        return 2
    started = time.monotonic()
    # One system at a time, so neither one's background work (Vigil's tenant actor
    # expires the alerts of earlier runs after the resolve timeout) runs during the
    # other's measurement.
    memory: dict[str, dict[str, Any]] = {}
    am = Alertmanager(free_port())
    am.start()
    print(f"Alertmanager at {am.url}", file=sys.stderr)
    try:
        memory["alertmanager"] = asyncio.run(
            memory_per_10k(
                "alertmanager",
                v2_sender(am.url, 1000, {}, 6 * 10**9),
                lambda: {"alertmanager": rss_bytes(am.proc.pid)} if am.proc else {},
            )
        )
        rows = asyncio.run(throughput("alertmanager", am.url, {}, args, 8 * 10**9))
    finally:
        am.stop()
    url, key, stop = start_vigil()
    print(f"Vigil at {url}", file=sys.stderr)
    auth = {"Authorization": f"Bearer {key}"}
    try:
        memory["vigil"] = asyncio.run(
            memory_per_10k(
                "vigil",
                v2_sender(url, 1000, auth, 5 * 10**9),
                lambda: total_rss(pids_matching(VIGIL_PROCESSES)),
            )
        )
        merging: dict[str, float] = {}
        rows += asyncio.run(throughput("vigil", url, auth, args, 7 * 10**9, merging))
    finally:
        stop()
    summary = medians(rows)
    print_comparison(summary, memory)
    parts = ", ".join(f"{k} {v}" for k, v in merging.items())
    print(f"  Vigil's group commit, requests per tenant-actor call (first run): {parts}")
    path = write_results(
        "compare_alertmanager",
        rows,
        {
            "duration_per_scenario_s": args.duration,
            "repeat": args.repeat,
            "wall_s": round(time.monotonic() - started, 1),
            "memory": memory,
            "vigil_requests_per_actor_call": merging,
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
