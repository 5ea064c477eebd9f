"""Many active alerts: send → webhook for new alerts while 100,000 others are active,
and what each active alert costs in memory, Vigil beside the real Alertmanager.

Both get the same ``alertmanager.yml``: ``group_by: [alertname]``, ``group_wait: 0s``;
the background alerts (1,000 alertnames, 100 instances each) go to a receiver without
integrations, as a silenced-in-practice backlog would, and every other alert to a
webhook receiver (a local recorder). Vigil notifies that receiver as Alertmanager
does (its webhook format), with no escalation policy.

1. **Preload** ``--active`` alerts in batches of 1,000, then one sentinel alert to the
   webhook: its notice means the system has taken in everything before it.
2. **Memory**: the resident memory of the system's processes (Vigil: the tenant actor,
   the ingress, the correlator, the escalator, Redis), before the preload and after,
   per 10,000 active alerts.
3. **Send → webhook** for new alerts (each its own new group) at 200 and at 1,000
   alerts/s (10 requests a second), with the background still active.

    python bench/active_alerts.py                   # 100,000 active, 15 s per rate
    python bench/active_alerts.py --quick           # 20,000 active, 5 s per rate
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.correlation import ROUTE, Load, Recorder, drive, percentile, post
from bench.harness import start_vigil, write_json
from bench.process_memory import pids_matching, rss_bytes, total_rss
from bench.real_services import Alertmanager
from cluster.redis_server import free_port

GROUPS = 1000  # background alertnames by default; each holds active / GROUPS alerts
RATES = (200, 1000)
BATCH = 1000
VIGIL_PROCESSES = (
    "ray::TenantActor",
    "ray::ServeReplica:vigil:Ingress",
    "ray::CorrelatorActor",
    "ray::EscalatorActor",
    "redis-server",
)


@dataclass(frozen=True)
class Backlog:
    """The background: how many alerts are active, in how many groups."""

    active: int
    groups: int = GROUPS


def routing(hook_url: str) -> dict[str, Any]:
    """The one ``alertmanager.yml`` both systems run."""
    return {
        "route": {
            "receiver": "hook",
            **ROUTE,
            "repeat_interval": "1h",
            "routes": [{"matchers": ['alertname=~"Background.*"'], "receiver": "quiet"}],
        },
        "receivers": [
            {"name": "hook", "webhook_configs": [{"url": hook_url}]},
            {"name": "quiet"},
        ],
    }


def background(run: str, first: int, count: int, groups: int) -> list[dict[str, Any]]:
    """Background alerts ``first`` .. ``first + count`` in ``groups`` alertnames, the
    instances of each spread over the whole preload."""
    return [
        {
            "labels": {
                "alertname": f"Background{run}x{i % groups}",
                "instance": f"host-{i // groups}",
                "severity": "warning",
            },
            "annotations": {"summary": "a backlog alert, long acknowledged"},
        }
        for i in range(first, first + count)
    ]


async def preload(
    name: str, url: str, headers: dict[str, str], recorder: Recorder, backlog: Backlog
) -> float:
    """Post the background alerts, then wait for a sentinel's notice; seconds."""
    active = backlog.active
    run = uuid.uuid4().hex[:8]
    headers = {**headers, "Content-Type": "application/json"}
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:

        async def client(part: int) -> None:
            for first in range(part * BATCH, active, 2 * BATCH):
                await post(session, url, headers, background(run, first, BATCH, backlog.groups))
                done = min(active, first + BATCH)
                print(f"\r  {name}: preloaded {done:7,d}/{active:,}", end="", file=sys.stderr)

        await asyncio.gather(client(0), client(1))
        print(file=sys.stderr)
        sentinel = Load("distinct")
        await post(session, url, headers, sentinel.batch(1))
    async with asyncio.timeout(600):
        await recorder.wait_for({(sentinel.run, 0)})
    return time.monotonic() - started


async def end_to_end(
    url: str, headers: dict[str, str], recorder: Recorder, alerts_per_s: int, duration: float
) -> dict[str, Any]:
    """New alerts, each a new group, at ``alerts_per_s``: send → webhook."""
    load = Load("distinct")
    sent = await drive(url, headers, load, "latency", duration, alerts_per_s)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(180):
            await recorder.wait_for({(load.run, seq) for seq in load.sent})
    seen = {s: t for (r, s), t in recorder.first_seen.items() if r == load.run}
    millis = [(t - load.sent[s]) * 1000 for s, t in seen.items()]
    return {
        "alerts_per_s": alerts_per_s,
        "sent": sent,
        "notified": len(millis),
        "p50_ms": round(percentile(millis, 0.5), 1),
        "p99_ms": round(percentile(millis, 0.99), 1),
        "max_ms": round(max(millis), 1) if millis else None,
    }


async def scenario(
    name: str,
    url: str,
    headers: dict[str, str],
    recorder: Recorder,
    measure: Callable[[], dict[str, int]],
    backlog: Backlog,
    duration: float,
) -> dict[str, Any]:
    """Preload, memory, then send → webhook at each rate, on one running system."""
    active = backlog.active
    warm = Load("distinct")  # every part of the path exists before the baseline
    await drive(url, headers, warm, "latency", 1, 100)
    async with asyncio.timeout(120):
        await recorder.wait_for({(warm.run, seq) for seq in warm.sent})
    await asyncio.sleep(2)
    before = measure()
    seconds = await preload(name, url, headers, recorder, backlog)
    await asyncio.sleep(6)  # the tenant actor's periodic GC freeze has run
    after = measure()
    grown = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    rates = []
    for alerts_per_s in RATES:
        print(f"  {name}: send → webhook at {alerts_per_s}/s, {active:,} active", file=sys.stderr)
        rates.append(await end_to_end(url, headers, recorder, alerts_per_s, duration))
    return {
        "system": name,
        "active": active,
        "groups": backlog.groups,
        "preload_s": round(seconds, 1),
        "preload_alerts_per_s": round(active / seconds),
        "mib_per_10k_active": round(sum(grown.values()) * 10_000 / active / 2**20, 2),
        "by_process_mib_per_10k": {
            k: round(v * 10_000 / active / 2**20, 2) for k, v in sorted(grown.items())
        },
        "rss_after_mib": round(sum(after.values()) / 2**20, 1),
        "end_to_end": rates,
    }


async def run_alertmanager(backlog: Backlog, duration: float) -> dict[str, Any]:
    recorder = Recorder()
    await recorder.start()
    try:
        config = yaml.safe_dump(routing(f"http://127.0.0.1:{recorder.port}/"))
        with Alertmanager(free_port(), config) as am:
            assert am.proc is not None
            pid = am.proc.pid
            return await scenario(
                "alertmanager",
                am.url,
                {},
                recorder,
                lambda: {"alertmanager": rss_bytes(pid)},
                backlog,
                duration,
            )
    finally:
        await recorder.stop()


def run_vigil(backlog: Backlog, duration: float, ml: bool) -> dict[str, Any]:
    recorder = Recorder()
    url, key, stop = start_vigil(routing(f"http://127.0.0.1:{recorder.port}/"), ml)
    headers = {"Authorization": f"Bearer {key}"}

    async def measured() -> dict[str, Any]:
        await recorder.start()
        try:
            return await scenario(
                "vigil",
                url,
                headers,
                recorder,
                lambda: total_rss(pids_matching(VIGIL_PROCESSES)),
                backlog,
                duration,
            )
        finally:
            await recorder.stop()

    try:
        return asyncio.run(measured())
    finally:
        stop()


def print_rows(results: list[dict[str, Any]]) -> None:
    print()
    for r in results:
        print(
            f"{r['system']}: {r['active']:,} active alerts in {r['groups']:,} groups "
            f"preloaded in {r['preload_s']} s ({r['preload_alerts_per_s']:,}/s); "
            f"{r['mib_per_10k_active']} MiB per 10,000 active ({r['rss_after_mib']} MiB in all)"
        )
        parts = ", ".join(f"{k} {v}" for k, v in r["by_process_mib_per_10k"].items())
        print(f"  by process, MiB per 10,000: {parts}")
    print()
    print("| send → webhook, new groups | system | notified | p50 ms | p99 ms | max ms |")
    print("|---|---|--:|--:|--:|--:|")
    for r in results:
        for e in r["end_to_end"]:
            print(
                f"| {e['alerts_per_s']:,}/s with {r['active']:,} active | {r['system']} | "
                f"{e['notified']:,} / {e['sent']:,} | {e['p50_ms']} | {e['p99_ms']} | "
                f"{e['max_ms']} |"
            )


def measure_both(backlog: Backlog, duration: float, ml: bool) -> list[dict[str, Any]]:
    """The scenario on Alertmanager, then on Vigil (one at a time)."""
    results = []
    if Alertmanager.binary() is None:
        print("alertmanager not installed: Vigil only", file=sys.stderr)
    else:
        print(f"Alertmanager, {backlog.active:,} active alerts", file=sys.stderr)
        results.append(asyncio.run(run_alertmanager(backlog, duration)))
    print(f"Vigil, {backlog.active:,} active alerts (ML {'on' if ml else 'off'})", file=sys.stderr)
    results.append(run_vigil(backlog, duration, ml))
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--active", type=int, default=100_000, help="background alerts")
    p.add_argument("--groups", type=int, default=GROUPS, help="alertnames they fall into")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per rate")
    p.add_argument("--ml", choices=("on", "off"), default="on")
    p.add_argument("--quick", action="store_true", help="20,000 active, 5 s per rate")
    args = p.parse_args()
    if args.quick:
        args.active, args.duration = 20_000, 5.0
    backlog = Backlog(args.active, min(args.groups, args.active))
    results = measure_both(backlog, args.duration, args.ml == "on")
    print_rows(results)
    path = write_json(
        "active_alerts" if backlog.groups == GROUPS else f"active_alerts_{backlog.groups}_groups",
        {
            "active": args.active,
            "groups": backlog.groups,
            "duration_s": args.duration,
            "ml": args.ml,
            "results": results,
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
