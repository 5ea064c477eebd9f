"""Correlation benchmark: alerts/s from ingest to incident, and the time from ingest to
the incident being formed, beside the real Alertmanager on the same alert stream.

Both systems route with ``group_by: [alertname]`` and ``group_wait: 0s``. Two shapes:

* ``distinct`` - every alert has its own alertname, so each forms a new incident
  (Alertmanager: a new group, notified at once through a webhook to a local recorder);
* ``100-groups`` - alerts fall into 100 alertnames, so most join an open incident
  (Alertmanager notifies an existing group only every group_interval, so it has no
  comparable figure here).

Measured per alert (labels carry a sequence number; the client notes when it sent it):

* ``send→incident``: from the client's send to the correlator placing the alert in its
  incident (``joined_at``); for Alertmanager, from send to the group's webhook arriving;
* ``stored→incident``: from the tenant actor storing the alert (its change-stream
  entry) to the incident (Vigil only; this is the correlator's own delay).

Scenarios: ``latency`` sends 1,000 alerts/s (10 requests/s of 100) for ``--duration``
seconds; ``throughput`` sends batches of 1,000 from 2 clients for ``--duration``
seconds and reports alerts/s from the first send to the last alert placed.

    python bench/correlation.py             # 15 s per scenario
    python bench/correlation.py --quick     # 5 s per scenario
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import start_vigil, write_json
from bench.real_services import Alertmanager
from cluster.redis_server import free_port

ROUTE = {"group_by": ["alertname"], "group_wait": "0s", "group_interval": "5m"}
VIGIL_ROUTING = {"route": {"receiver": "default", **ROUTE}, "receivers": [{"name": "default"}]}
# alertname of an alert by (run, seq): runs never share a group with an earlier run
SHAPES: dict[str, Callable[[str, int], str]] = {
    "distinct": lambda run, seq: f"Corr{run}x{seq}",
    "100-groups": lambda run, seq: f"Group{run}x{seq % 100}",
}
RATE_ALERTS = 1000
LATENCY_REQUESTS_PER_S = 10
THROUGHPUT_BATCH = 1000
THROUGHPUT_CLIENTS = 2


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Load:
    """One run's alerts: labels by sequence number and when each was sent."""

    def __init__(self, shape: str) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.name_of = SHAPES[shape]
        self.sent: dict[int, float] = {}
        self.next_seq = 0

    def batch(self, size: int) -> list[dict[str, Any]]:
        first, self.next_seq = self.next_seq, self.next_seq + size
        now = time.time()
        alerts = []
        for seq in range(first, first + size):
            self.sent[seq] = now
            labels = {"alertname": self.name_of(self.run, seq), "run": self.run, "seq": str(seq)}
            alerts.append({"labels": labels})
        return alerts


async def post(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: Any
) -> None:
    async with session.post(f"{url}/api/v2/alerts", data=json.dumps(body), headers=headers) as r:
        await r.read()
        if r.status != 200:
            raise RuntimeError(f"{url}: {r.status} {await r.text()}")


async def drive(
    url: str,
    headers: dict[str, str],
    load: Load,
    mode: str,
    duration: float,
    alerts_per_s: int = RATE_ALERTS,
) -> int:
    """Send the scenario's load (``latency``: ``alerts_per_s`` in 10 requests a second);
    return how many alerts were accepted."""
    headers = {**headers, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        start = time.monotonic()
        if mode == "latency":
            batch = max(1, alerts_per_s // LATENCY_REQUESTS_PER_S)
            rate = alerts_per_s / batch
            tasks = []
            for i in range(int(rate * duration)):
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                tasks.append(asyncio.create_task(post(session, url, headers, load.batch(batch))))
                _progress(mode, time.monotonic() - start, load.next_seq)
            await asyncio.gather(*tasks)
        else:

            async def client() -> None:
                while time.monotonic() < start + duration:
                    await post(session, url, headers, load.batch(THROUGHPUT_BATCH))
                    _progress(mode, time.monotonic() - start, load.next_seq)

            await asyncio.gather(*(client() for _ in range(THROUGHPUT_CLIENTS)))
    print()
    return load.next_seq


_last_progress = [0.0]


def _progress(mode: str, seconds: float, alerts: int) -> None:
    """The sending progress on one line, at most twice a second."""
    if time.monotonic() - _last_progress[0] < 0.5:
        return
    _last_progress[0] = time.monotonic()
    print(f"\r    {mode:<10} {seconds:5.1f}s  {alerts:8d} alerts sent", end="", flush=True)


# -- Vigil -----------------------------------------------------------------------------


def vigil_placements(run: str) -> list[tuple[int, float, float]]:
    """(seq, joined_at, stored_at) of every member of this run's incidents, via the correlator."""
    import ray

    from alerting.incident_query import IncidentQuery
    from alerting.matchers import parse_matchers
    from cluster.runtime import NAMESPACE, correlator_name

    correlator = ray.get_actor(correlator_name(0), namespace=NAMESPACE)
    matchers = tuple(parse_matchers(f'run="{run}"'))
    found: dict[int, tuple[int, float, float]] = {}
    cursor = None
    while True:
        query = IncidentQuery(matchers=matchers, limit=1000, cursor=cursor)
        page = ray.get(correlator.list_incidents.remote("bench", query))
        for incident in page.items:
            for m in incident.members.values():
                if m.labels.get("run") == run:
                    seq = int(m.labels["seq"])
                    found[seq] = (seq, m.joined_at.timestamp(), m.received_at.timestamp())
        cursor = page.next_cursor
        if cursor is None:
            return list(found.values())


def wait_placed(run: str, expected: int, timeout: float = 300.0) -> list[tuple[int, float, float]]:
    deadline = time.monotonic() + timeout
    while True:
        placed = vigil_placements(run)
        print(f"\r    correlated {len(placed):8d} / {expected}", end="", flush=True)
        if len(placed) >= expected or time.monotonic() > deadline:
            print()
            return placed
        time.sleep(1.0)


def bench_vigil(shapes: list[str], duration: float, ml: bool) -> list[dict[str, Any]]:
    url, key, stop = start_vigil(VIGIL_ROUTING, ml=ml)
    headers = {"Authorization": f"Bearer {key}"}
    rows = []
    try:
        # Warm-up at the measured rate, long enough for Serve to settle its replica count.
        asyncio.run(drive(url, headers, Load("distinct"), "latency", 5))
        for shape in shapes:
            for mode in ("latency", "throughput"):
                print(f"  vigil {shape} {mode}")
                load = Load(shape)
                sent = asyncio.run(drive(url, headers, load, mode, duration))
                placed = wait_placed(load.run, sent)
                rows.append(vigil_row(shape, mode, load, sent, placed))
    finally:
        stop()
    return rows


def placement_row(
    system: str, shape: str, mode: str, load: Load, sent: int, placed_at: dict[int, float]
) -> dict[str, Any]:
    """Throughput and send→incident latency of one run, from when each alert was placed."""
    e2e = [(t - load.sent[seq]) * 1000 for seq, t in placed_at.items()]
    first_send = min(load.sent.values())
    last = max(placed_at.values(), default=first_send)
    return {
        "system": system,
        "shape": shape,
        "mode": mode,
        "alerts": sent,
        "placed": len(placed_at),
        "alerts_per_s": round(len(placed_at) / max(last - first_send, 1e-9), 1),
        "send_to_incident_p50_ms": round(percentile(e2e, 0.5), 1),
        "send_to_incident_p99_ms": round(percentile(e2e, 0.99), 1),
    }


def vigil_row(
    shape: str, mode: str, load: Load, sent: int, placed: list[tuple[int, float, float]]
) -> dict[str, Any]:
    row = placement_row("vigil", shape, mode, load, sent, {seq: t for seq, t, _ in placed})
    corr = [(joined - stored) * 1000 for _, joined, stored in placed]
    return {
        **row,
        "stored_to_incident_p50_ms": round(percentile(corr, 0.5), 1),
        "stored_to_incident_p99_ms": round(percentile(corr, 0.99), 1),
        "stored_to_incident_mean_ms": round(statistics.fmean(corr), 1) if corr else None,
    }


# -- Alertmanager ----------------------------------------------------------------------


class WebhookServer:
    """A local HTTP server taking webhook POSTs on ``/``; subclasses ``handle`` them."""

    def __init__(self) -> None:
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop receiving (after ``start``)."""
        assert self.runner is not None
        await self.runner.cleanup()


class Recorder(WebhookServer):
    """A webhook receiver noting when each alert (by ``seq``) was first notified."""

    def __init__(self) -> None:
        super().__init__()
        self.first_seen: dict[tuple[str, int], float] = {}  # (run, seq) → first notified
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.time()
        for alert in body["alerts"]:
            labels = alert["labels"]
            if "seq" in labels and "run" in labels:
                self.first_seen.setdefault((labels["run"], int(labels["seq"])), now)
        self.arrived.set()
        return web.Response()

    async def wait_for(self, wanted: set[tuple[str, int]]) -> None:
        """Until every alert in ``wanted`` was notified (bound it with ``asyncio.timeout``)."""
        while not wanted <= self.first_seen.keys():
            self.arrived.clear()
            await self.arrived.wait()


async def am_run(am_url: str, recorder: Recorder, mode: str, duration: float) -> dict[str, Any]:
    load = Load("distinct")
    sent = await drive(am_url, {}, load, mode, duration)
    mine = {(load.run, seq) for seq in load.sent}
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(120):
            await recorder.wait_for(mine)
    seen = {seq: t for (run, seq), t in recorder.first_seen.items() if run == load.run}
    return placement_row("alertmanager", "distinct", mode, load, sent, seen)


def bench_alertmanager(duration: float) -> list[dict[str, Any]]:
    if Alertmanager.binary() is None:
        print("  alertmanager not installed: skipped")
        return []

    async def main() -> list[dict[str, Any]]:
        recorder = Recorder()
        await recorder.start()
        config = json.dumps(
            {
                "route": {"receiver": "hook", **ROUTE, "repeat_interval": "1h"},
                "receivers": [
                    {
                        "name": "hook",
                        "webhook_configs": [{"url": f"http://127.0.0.1:{recorder.port}/"}],
                    }
                ],
            }
        )
        rows = []
        with Alertmanager(free_port(), config) as am:
            await drive(am.url, {}, Load("distinct"), "latency", 2)  # warm-up
            for mode in ("latency", "throughput"):
                print(f"  alertmanager distinct {mode}")
                rows.append(await am_run(am.url, recorder, mode, duration))
        await recorder.stop()
        return rows

    return asyncio.run(main())


def print_rows(rows: list[dict[str, Any]]) -> None:
    print()
    print(
        "| system | shape | scenario | alerts placed | alerts/s | send→incident p50 / p99 ms "
        "| stored→incident p50 / p99 ms |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        stored = (
            f"{r['stored_to_incident_p50_ms']} / {r['stored_to_incident_p99_ms']}"
            if "stored_to_incident_p50_ms" in r
            else "-"
        )
        scenario = "1,000 alerts/s" if r["mode"] == "latency" else "batches of 1,000, 2 clients"
        print(
            f"| {r['system']} | {r['shape']} | {scenario} | {r['placed']:,} / {r['alerts']:,} "
            f"| {r['alerts_per_s']:,.0f} | {r['send_to_incident_p50_ms']} / "
            f"{r['send_to_incident_p99_ms']} | {stored} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--quick", action="store_true", help="5 s per scenario")
    parser.add_argument("--shape", choices=list(SHAPES), action="append", help="only these")
    parser.add_argument("--no-alertmanager", action="store_true", help="Vigil only")
    parser.add_argument(
        "--ml", choices=("on", "off"), default="on", help="score incidents (default on)"
    )
    args = parser.parse_args()
    duration = 5.0 if args.quick else args.duration
    if not args.no_alertmanager:
        print("Alertmanager (group_wait 0s, webhook to a local recorder)")
    rows = [] if args.no_alertmanager else bench_alertmanager(duration)
    print(f"Vigil (group_wait 0s, incidents read from the correlator, ML {args.ml})")
    rows += bench_vigil(args.shape or list(SHAPES), duration, args.ml == "on")
    print_rows(rows)
    out = write_json("correlation", {"duration_s": duration, "ml": args.ml, "rows": rows})
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
