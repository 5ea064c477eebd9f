"""Ingest benchmark: alerts/s accepted durably, and request latency, side by side with the
real Alertmanager on the same load.

Scenarios: ``/bulk`` with batches of 1, 100 and 1,000 (closed loop, N concurrent
clients), the single-alert endpoint (closed loop), and single alerts at a fixed 100
requests/s (open loop) for latency. Every alert has a new fingerprint, so each one is
a new stored alert, not a cheap duplicate. Alertmanager receives the same alerts on
``POST /api/v2/alerts`` (it keeps them in memory; Vigil answers only after Redis has
them in its append-only file).

    python bench/ingest.py            # starts its own Vigil (and Alertmanager if installed)
    python bench/ingest.py --quick    # 3 s per scenario instead of 10
    python bench/ingest.py --repeat 1 # one run of each scenario instead of three
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
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
    print_medians,
    print_progress,
    print_table,
    start_vigil,
    write_results,
)
from bench.real_services import Alertmanager

RUN = secrets.token_hex(4)


def make_alerts(start: int, n: int) -> list[dict[str, Any]]:
    """``n`` alerts with fingerprints never sent before in this run."""
    return [
        {
            "labels": {
                "alertname": "BenchHighLatency",
                "service": f"svc-{(start + i) % 50}",
                "instance": f"host-{RUN}-{start + i}",
                "severity": "critical" if (start + i) % 10 == 0 else "warning",
            },
            "annotations": {"summary": "p99 latency above 2s", "runbook": "https://runbooks/x"},
        }
        for i in range(n)
    ]


def vigil_sender(url: str, key: str, batch: int, single: bool):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    endpoint = f"{url}/api/v1/critical-alerts" + ("" if single else "/bulk")

    async def send(session: aiohttp.ClientSession, i: int) -> bool:
        alerts = make_alerts(i * batch + (0 if single else 10**9), batch)
        body = alerts[0] if single else {"alerts": alerts}
        async with session.post(endpoint, data=json.dumps(body), headers=headers) as r:
            await r.read()
            return r.status == 202

    return send


def alertmanager_sender(url: str, batch: int):  # type: ignore[no-untyped-def]
    endpoint = f"{url}/api/v2/alerts"
    headers = {"Content-Type": "application/json"}

    async def send(session: aiohttp.ClientSession, i: int) -> bool:
        body = make_alerts(i * batch + 2 * 10**9, batch)
        async with session.post(endpoint, data=json.dumps(body), headers=headers) as r:
            await r.read()
            return r.status == 200

    return send


async def warm_up(url: str, key: str) -> None:
    send = vigil_sender(url, key, 10, single=False)
    async with aiohttp.ClientSession() as session:
        for i in range(20):
            await send(session, 10**6 + i)


async def run(args: argparse.Namespace) -> list[Measurement]:
    rows: list[Measurement] = []
    for repeat in range(args.repeat):
        if args.repeat > 1:
            print(f"\nrun {repeat + 1} of {args.repeat}", file=sys.stderr)
        rows += await run_once(args)
    return rows


async def run_once(args: argparse.Namespace) -> list[Measurement]:
    rows: list[Measurement] = []
    targets: list[tuple[str, Any]] = [("vigil", None)]
    if args.alertmanager:
        targets.append(("alertmanager", None))
    for name, _ in targets:
        print(f"\n{name}:", file=sys.stderr)
        for batch, conc in [(1, 8), (100, 4), (1000, 2)]:
            m = Measurement(name, f"bulk batch {batch}", batch, conc)
            send = (
                vigil_sender(args.url, args.api_key, batch, single=False)
                if name == "vigil"
                else alertmanager_sender(args.am_url, batch)
            )
            rows.append(await closed_loop(m, send, args.duration, print_progress))
            print(file=sys.stderr)
        m = Measurement(name, "single, 8 clients", 1, 8)
        send = (
            vigil_sender(args.url, args.api_key, 1, single=True)
            if name == "vigil"
            else alertmanager_sender(args.am_url, 1)
        )
        rows.append(await closed_loop(m, send, args.duration, print_progress))
        print(file=sys.stderr)
        m = Measurement(name, "single @ 100 req/s", 1, 0)
        rows.append(await open_loop(m, send, 100, args.duration, print_progress))
        print(file=sys.stderr)
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--url", help="a running Vigil (default: start one)")
    p.add_argument("--api-key", help="API key for --url")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per scenario")
    p.add_argument("--quick", action="store_true", help="3 seconds per scenario")
    p.add_argument("--repeat", type=int, default=3, help="runs of every scenario (medians)")
    p.add_argument("--no-alertmanager", action="store_true", help="skip the Alertmanager run")
    args = p.parse_args()
    if args.quick:
        args.duration = 3.0
    stop = None
    am = None
    if args.url is None:
        print("starting Vigil (local Ray, embedded Redis) ...", file=sys.stderr)
        args.url, args.api_key, stop = start_vigil()
    args.alertmanager = not args.no_alertmanager and Alertmanager.binary() is not None
    if not args.no_alertmanager and not args.alertmanager:
        print(
            "Alertmanager not installed (apt-get install prometheus-alertmanager): "
            "measuring Vigil alone",
            file=sys.stderr,
        )
    try:
        if args.alertmanager:
            from cluster.redis_server import free_port

            am = Alertmanager(free_port())
            am.start()
            args.am_url = am.url
        asyncio.run(warm_up(args.url, args.api_key))
        started = time.monotonic()
        rows = asyncio.run(run(args))
    finally:
        if am is not None:
            am.stop()
        if stop is not None:
            stop()
    print_table(
        "Ingest: alerts accepted per second (Vigil: stored in Redis AOF before 202; "
        "Alertmanager: in memory)",
        rows,
    )
    print_medians(f"Medians over {args.repeat} run(s)", medians(rows))
    path = write_results(
        "ingest",
        rows,
        {
            "duration_per_scenario_s": args.duration,
            "repeat": args.repeat,
            "wall_s": round(time.monotonic() - started, 1),
        },
    )
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
