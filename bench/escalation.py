"""Escalation benchmark: how late deadlines fire, and how fast a new alert reaches a
webhook, beside the real Alertmanager on the same alert stream.

1. **Escalation delay.** 1,000 alerts, each its own incident, sent evenly over about a
   minute. Their policy notifies a webhook at once (level 1) and again 10 s later
   (level 2), so the level-2 deadlines are spread over a minute too. Measured: from
   each deadline (the ``due`` time Vigil puts in the notice) to the notice arriving
   at the recording webhook, for the timer-driven level 2 and for level 1 (due when
   the escalation starts). Goal: p99 under 1 s.
2. **End to end.** Alerts sent at 200 and at 1,000 alerts/s (10 requests a second),
   every alert a new incident: from the client's send to the webhook receiving the
   notice. Alertmanager gets the same stream with ``group_by: [alertname]`` and
   ``group_wait: 0s``, so each alert is a new group it notifies at once. Goal: p99
   lower than Alertmanager's.

Both receivers note a notice when its request arrives (the "first byte", give or take
the parse of a small body). Every notice is counted, so a step sent twice shows as a
duplicate.

    python bench/escalation.py              # 15 s per end-to-end rate
    python bench/escalation.py --quick      # 300 incidents over 20 s, 5 s per rate
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.correlation import ROUTE, Load, Recorder, drive, percentile
from bench.harness import start_vigil, write_json
from bench.real_services import Alertmanager
from cluster.redis_server import free_port

LEVEL2_AFTER = 10  # seconds from level 1 to level 2 in the delay scenario
RATES = (200, 1000)
# Alerts named Delay... escalate in two levels; every other alert notifies once.
ROUTING = {
    "route": {
        "receiver": "default",
        **ROUTE,
        "routes": [{"matchers": ['alertname=~"Delay.*"'], "receiver": "delay"}],
    },
    "receivers": [{"name": "default"}, {"name": "delay"}],
}
ESCALATION = {
    "escalation": {
        "policies": {
            "notify": {"levels": [{"targets": [{"channel": "hook"}]}]},
            "timed": {
                "levels": [
                    {"targets": [{"channel": "hook"}], "escalate_after": f"{LEVEL2_AFTER}s"},
                    {"targets": [{"channel": "hook"}]},
                ]
            },
        },
        "receivers": {"delay": "timed"},
        "default_policy": "notify",
    },
    "channels": {"hook": {"type": "webhook", "url_secret": "hook-url"}},
}
NAME = re.compile(r"[A-Za-z]+(?P<run>[0-9a-f]{8})x(?P<seq>\d+)")


class NoticeRecorder:
    """Vigil's notices as they arrive: per (run, seq, level) when it first came and
    when it was due; every arrival counted."""

    def __init__(self) -> None:
        self.first: dict[tuple[str, int, int], tuple[float, float]] = {}
        self.received = 0
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.json()
        self.received += 1
        found = NAME.fullmatch(body["labels"].get("alertname", ""))
        if found is not None and body["status"] == "firing":
            due = datetime.fromisoformat(body["escalation"]["due"]).timestamp()
            key = (found["run"], int(found["seq"]), body["escalation"]["level"])
            self.first.setdefault(key, (arrived, due))
        return web.Response()

    def of(self, run: str, level: int) -> dict[int, tuple[float, float]]:
        """(arrived, due) by seq, for one run and level (counted from 1, as notices say)."""
        return {s: t for (r, s, lv), t in self.first.items() if r == run and lv == level}

    async def wait(self, run: str, level: int, expected: int, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            got = len(self.of(run, level))
            print(f"\r    level {level} notices {got:6d} / {expected}", end="", flush=True)
            if got >= expected:
                break
            await asyncio.sleep(0.5)
        print()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()


def summary(name: str, millis: list[float], expected: int, **extra: Any) -> dict[str, Any]:
    return {
        "measure": name,
        "notices": len(millis),
        "expected": expected,
        "p50_ms": round(percentile(millis, 0.5), 1),
        "p90_ms": round(percentile(millis, 0.9), 1),
        "p99_ms": round(percentile(millis, 0.99), 1),
        "max_ms": round(max(millis), 1) if millis else None,
        **extra,
    }


async def vigil_scenarios(
    url: str, key: str, recorder: NoticeRecorder, incidents: int, spread: float, duration: float
) -> list[dict[str, Any]]:
    await recorder.start()
    headers = {"Authorization": f"Bearer {key}"}
    rows = []
    try:
        await _until_healthy(url)
        print("  vigil warm-up: 500 alerts at 100/s")
        warm_up = Load("distinct")
        sent = await drive(url, headers, warm_up, "latency", 5, 100)
        await recorder.wait(warm_up.run, 1, sent, 60)
        recorder.received -= len(recorder.of(warm_up.run, 1))
        print(f"  vigil escalation delay: {incidents} incidents over {spread:.0f} s")
        load = Load("distinct")
        load.name_of = lambda run, seq: f"Delay{run}x{seq}"
        rate = max(1, round(incidents / spread))
        sent = await drive(url, headers, load, "latency", incidents / rate, alerts_per_s=rate)
        await recorder.wait(load.run, 2, sent, spread + LEVEL2_AFTER + 120)
        level1, level2 = recorder.of(load.run, 1), recorder.of(load.run, 2)
        rows.append(
            summary(
                "level 2 (timer): deadline → webhook",
                [(a - due) * 1000 for a, due in level2.values()],
                sent,
            )
        )
        rows.append(
            summary(
                "level 1 (at once): escalation start → webhook",
                [(a - due) * 1000 for a, due in level1.values()],
                sent,
            )
        )
        for alerts_per_s in RATES:
            print(f"  vigil end to end at {alerts_per_s} alerts/s")
            load = Load("distinct")
            sent = await drive(url, headers, load, "latency", duration, alerts_per_s)
            await recorder.wait(load.run, 1, sent, 180)
            arrived = recorder.of(load.run, 1)
            e2e = [(arrived[s][0] - load.sent[s]) * 1000 for s in arrived]
            # Where the time goes: to the correlator's notification (the escalation's
            # start, the notice's due time), then from there to the webhook.
            ingest = [(arrived[s][1] - load.sent[s]) * 1000 for s in arrived]
            notify = [(a - due) * 1000 for a, due in arrived.values()]
            split = {
                "send_to_notification_p50_ms": round(percentile(ingest, 0.5), 1),
                "send_to_notification_p99_ms": round(percentile(ingest, 0.99), 1),
                "notification_to_webhook_p50_ms": round(percentile(notify, 0.5), 1),
                "notification_to_webhook_p99_ms": round(percentile(notify, 0.99), 1),
            }
            row = summary(f"end to end at {alerts_per_s}/s", e2e, sent, system="vigil", **split)
            rows.append(row)
        unique = sum(r["notices"] for r in rows)
        rows.append({"measure": "duplicates", "notices": recorder.received - unique})
    finally:
        assert recorder.runner is not None
        await recorder.runner.cleanup()
    return rows


async def _until_healthy(url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/healthz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError("Vigil did not become healthy")


async def alertmanager_scenarios(duration: float) -> list[dict[str, Any]]:
    if Alertmanager.binary() is None:
        print("  alertmanager not installed: skipped")
        return []
    recorder = Recorder()
    await recorder.start()
    config = json.dumps(
        {
            "route": {"receiver": "hook", **ROUTE, "repeat_interval": "1h"},
            "receivers": [
                {"name": "hook", "webhook_configs": [{"url": f"http://127.0.0.1:{recorder.port}/"}]}
            ],
        }
    )
    rows = []
    with Alertmanager(free_port(), config) as am:
        await drive(am.url, {}, Load("distinct"), "latency", 2)  # warm-up
        for alerts_per_s in RATES:
            print(f"  alertmanager end to end at {alerts_per_s} alerts/s")
            load = Load("distinct")
            sent = await drive(am.url, {}, load, "latency", duration, alerts_per_s)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(120):
                    await recorder.wait_for({(load.run, seq) for seq in load.sent})
            seen = {s: t for (r, s), t in recorder.first_seen.items() if r == load.run}
            e2e = [(t - load.sent[s]) * 1000 for s, t in seen.items()]
            row = summary(f"end to end at {alerts_per_s}/s", e2e, sent, system="alertmanager")
            rows.append(row)
    await recorder.stop()
    return rows


def print_rows(vigil: list[dict[str, Any]], am: list[dict[str, Any]]) -> None:
    print()
    print("| measure | system | notices | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for r in vigil[:-1] + am:
        print(
            f"| {r['measure']} | {r.get('system', 'vigil')} | {r['notices']:,} / "
            f"{r['expected']:,} | {r['p50_ms']} | {r['p90_ms']} | {r['p99_ms']} | {r['max_ms']} |"
        )
    print(f"\nnotices Vigil sent twice: {vigil[-1]['notices']}")
    for r in vigil:
        if "send_to_notification_p50_ms" in r:
            print(
                f"{r['measure']}: send → notification p50 / p99 "
                f"{r['send_to_notification_p50_ms']} / {r['send_to_notification_p99_ms']} ms, "
                f"notification → webhook {r['notification_to_webhook_p50_ms']} / "
                f"{r['notification_to_webhook_p99_ms']} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per rate")
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--ml", choices=("on", "off"), default="on")
    parser.add_argument("--no-alertmanager", action="store_true", help="Vigil only")
    args = parser.parse_args()
    if args.quick:
        args.incidents, args.spread, args.duration = 300, 20.0, 5.0
    am: list[dict[str, Any]] = []
    if not args.no_alertmanager:
        print("Alertmanager (group_by alertname, group_wait 0s, webhook to a local recorder)")
        am = asyncio.run(alertmanager_scenarios(args.duration))
    print(f"Vigil (group_wait 0s, escalation policies, webhook to a local recorder, ML {args.ml})")
    recorder = NoticeRecorder()
    url, key, stop = start_vigil(ROUTING, args.ml == "on", ESCALATION, {"hook-url": recorder.url})
    try:
        vigil = asyncio.run(
            vigil_scenarios(url, key, recorder, args.incidents, args.spread, args.duration)
        )
    finally:
        stop()
    print_rows(vigil, am)
    out = write_json(
        "escalation",
        {
            "incidents": args.incidents,
            "spread_s": args.spread,
            "duration_s": args.duration,
            "ml": args.ml,
            "vigil": vigil,
            "alertmanager": am,
        },
    )
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
