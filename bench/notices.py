"""One tenant's notices per second: how fast a backlog of group notifications reaches a
webhook, Vigil with one escalator lane and with more, beside Alertmanager on the same
alerts.

The load: ``--alerts`` alerts of one tenant, each its own group (``group_by:
[alertname]``, ``group_wait: 0s``), routed to a webhook receiver (a local server that
counts what it gets). Every alert makes one notice.

* **Vigil.** The tenant's escalator processes are stopped first (``ray.kill``, no
  restart); the alerts are sent in batches of 1,000 and correlated, and once every
  notification is waiting in the tenant's stream the escalators are created again and
  deliver the backlog. Measured: notices per second from the first webhook request to
  the last, and the escalators' CPU per notice over that window. This is the capacity
  of the notification path alone, which is what caps one tenant (the ingest path has
  its own benchmark, ``compare_alertmanager.py``).
* **Alertmanager.** The same alerts in the same batches, as fast as it takes them;
  measured from its first notice to its last (it notifies while it ingests).

    python bench/notices.py                 # 20,000 notices; Vigil with 1 and 2 lanes
    python bench/notices.py --quick         # 5,000 notices
    python bench/notices.py --lanes 1,2,4   # lane counts to run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.correlation import ROUTE, WebhookServer, post
from bench.harness import start_vigil, started_settings, wait_ready, write_json
from bench.process_memory import pids_matching
from bench.real_services import Alertmanager
from cluster.redis_server import free_port

BATCH = 1000
TENANT = "bench"  # start_vigil's tenant (shard 0 of one)
ESCALATOR_PROCESS = "ray::EscalatorActor"


def routing(hook_url: str) -> dict[str, Any]:
    """The one ``alertmanager.yml`` both systems run: every alert its own group, to a
    webhook."""
    return {
        "route": {"receiver": "hook", **ROUTE, "repeat_interval": "1h"},
        "receivers": [{"name": "hook", "webhook_configs": [{"url": hook_url}]}],
    }


class NoticeCounter(WebhookServer):
    """A webhook receiver that counts the notices of one run (by alertname prefix) and
    notes when the first and the last arrived."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix
        self.seen: dict[str, int] = {}  # alertname → notices about it
        self.first = 0.0
        self.last = 0.0
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.monotonic()
        for alert in body["alerts"]:
            name = alert["labels"].get("alertname", "")
            if name.startswith(self.prefix):
                self.seen[name] = self.seen.get(name, 0) + 1
                self.first = self.first or now
                self.last = now
        self.changed.set()
        return web.Response()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def wait_for(self, count: int, within: float) -> None:
        """Until ``count`` distinct alerts were notified, showing progress."""
        async with asyncio.timeout(within):
            shown = 0.0
            while len(self.seen) < count:
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 1.0)
                if time.monotonic() - shown > 2:
                    print(f"    {len(self.seen):,} / {count:,} notified", file=sys.stderr)
                    shown = time.monotonic()

    def result(self, sent: int) -> dict[str, Any]:
        span = max(self.last - self.first, 1e-9)
        notices = sum(self.seen.values())
        return {
            "sent": sent,
            "notified": len(self.seen),
            "duplicates": notices - len(self.seen),
            "seconds": round(span, 2),
            "notices_per_s": round(notices / span),
        }


async def send_all(url: str, headers: dict[str, str], prefix: str, count: int) -> float:
    """Send ``count`` alerts of distinct alertnames in batches; seconds it took."""
    started = time.monotonic()
    headers = {**headers, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        for start in range(0, count, BATCH):
            batch = [
                {"labels": {"alertname": f"{prefix}{n}", "severity": "warning"}}
                for n in range(start, min(count, start + BATCH))
            ]
            await post(session, url, headers, batch)
    return time.monotonic() - started


async def run_alertmanager(count: int) -> dict[str, Any]:
    prefix = f"N{uuid.uuid4().hex[:8]}x"
    counter = NoticeCounter(prefix)
    await counter.start()
    try:
        with Alertmanager(free_port(), yaml.safe_dump(routing(counter.url))) as am:
            sent_in = await send_all(am.url, {}, prefix, count)
            await counter.wait_for(count, 300)
    finally:
        await counter.stop()
    return {"system": "alertmanager", "send_s": round(sent_in, 2), **counter.result(count)}


def escalator_cpu() -> float:
    """CPU seconds of every escalator process so far."""
    import psutil

    total = 0.0
    for pid in pids_matching((ESCALATOR_PROCESS,)):
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def waiting_notifications(redis_url: str, prefix: str) -> int:
    """How many of the run's notifications wait in the tenant's stream."""
    import redis

    from cluster import keys

    client = redis.Redis.from_url(redis_url)
    try:
        count = 0
        entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(  # type: ignore[assignment]
            keys.notifications(TENANT)
        )
        for _, fields in entries:
            for record in json.loads(fields[b"notifications"]):
                count += prefix in record["group_key"]  # the group of the run's alertname
        return count
    finally:
        client.close()


def run_vigil(count: int, lanes: int) -> dict[str, Any]:
    """One Vigil with ``lanes`` escalator lanes: stop its escalators, correlate the
    alerts, start the escalators again and time the backlog's delivery."""
    os.environ["VIGIL_ESCALATOR_LANES"] = str(lanes)
    prefix = f"N{uuid.uuid4().hex[:8]}x"
    counter = NoticeCounter(prefix)
    url, key, stop = start_vigil(routing(counter.url), ml=False)
    import ray  # only now: start_vigil sets Ray's environment up before Ray is imported

    from actors.escalator import escalator_actor
    from cluster.runtime import NAMESPACE, escalator_name

    headers = {"Authorization": f"Bearer {key}"}
    settings = started_settings()

    async def measured() -> dict[str, Any]:
        await counter.start()
        try:
            wait_ready(url)
            # One alert first: every process on the path exists and has run.
            await send_all(url, headers, prefix + "warm", 1)
            await counter.wait_for(1, 120)
            for lane in range(lanes):
                actor = ray.get_actor(escalator_name(0, lane), namespace=NAMESPACE)
                ray.kill(actor, no_restart=True)
            print(f"  escalators stopped; sending {count:,} alerts", file=sys.stderr)
            counter.seen.clear()
            counter.first = counter.last = 0.0
            sent_in = await send_all(url, headers, prefix, count)
            started = time.monotonic()
            while (
                await asyncio.to_thread(waiting_notifications, settings.redis_url, prefix) < count
            ):
                if time.monotonic() - started > 300:
                    raise RuntimeError("the correlator did not produce every notification")
                await asyncio.sleep(1)
            print(f"  {count:,} notifications wait; starting {lanes} lane(s)", file=sys.stderr)
            for lane in range(lanes):
                escalator_actor(0, settings, lane)
            await counter.wait_for(1, 120)  # CPU from the first notice: not the start
            cpu_from = escalator_cpu()
            seen_from = sum(counter.seen.values())
            await counter.wait_for(count, 600)
            cpu = escalator_cpu() - cpu_from
            result = counter.result(count)
            delivered = sum(counter.seen.values()) - seen_from
            return {
                "system": f"vigil, {lanes} lane{'s' if lanes > 1 else ''}",
                "lanes": lanes,
                "send_s": round(sent_in, 2),
                **result,
                "escalator_cpu_ms_per_notice": round(cpu * 1000 / max(delivered, 1), 3),
            }
        finally:
            await counter.stop()

    try:
        return asyncio.run(measured())
    finally:
        stop()


def vigil_in_subprocess(count: int, lanes: int) -> dict[str, Any]:
    """``run_vigil`` in a fresh process: each lane count gets its own Ray."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, __file__, "--alerts", str(count), "--one-vigil", str(lanes)]
        subprocess.run([*command, "--out", str(out)], check=True)
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    print("| system | notices | duplicates | seconds | notices/s | escalator CPU ms/notice |")
    print("|---|--:|--:|--:|--:|--:|")
    for r in results:
        cpu = r.get("escalator_cpu_ms_per_notice", "")
        print(
            f"| {r['system']} | {r['notified']:,} / {r['sent']:,} | {r['duplicates']} | "
            f"{r['seconds']} | {r['notices_per_s']:,} | {cpu} |"
        )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--alerts", type=int, default=20_000, help="notices per run")
    p.add_argument("--lanes", default="1,2", help="Vigil's lane counts to run")
    p.add_argument("--quick", action="store_true", help="5,000 notices")
    p.add_argument("--one-vigil", type=int, help=argparse.SUPPRESS)  # a subprocess's run
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.alerts = 5_000
    if args.one_vigil is not None:
        args.out.write_text(json.dumps(run_vigil(args.alerts, args.one_vigil)))
        return 0
    results = []
    if Alertmanager.binary() is None:
        print("alertmanager not installed: Vigil only", file=sys.stderr)
    else:
        print(f"Alertmanager, {args.alerts:,} notices", file=sys.stderr)
        results.append(asyncio.run(run_alertmanager(args.alerts)))
    for lanes in (int(n) for n in args.lanes.split(",")):
        print(f"Vigil, {lanes} escalator lane(s), {args.alerts:,} notices", file=sys.stderr)
        results.append(vigil_in_subprocess(args.alerts, lanes))
    print_table(results)
    path = write_json("notices", {"alerts": args.alerts, "results": results})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
