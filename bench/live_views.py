"""How soon a person or a program sees a new incident, through each face, and what a
listing costs.

Starts Vigil as a newcomer does (``vigil up --detach``, the demo configuration, a fresh
data directory, its own port), then keeps three watchers open at once:

- the console's stream (``GET /api/v1/incidents/updates``, server-sent events),
- GraphQL's ``incidentUpdates`` subscription (``gql`` over graphql-transport-ws),
- the Python client's ``watch()`` over actor handles,

and sends ``ALERTS`` alerts of new groups, one at a time. For each, it records how
long after the POST returned each watcher saw the incident. Then it times
``LISTINGS`` listings of the open incidents over REST and over GraphQL, and, with the
same alerts loaded, the real Alertmanager's ``GET /api/v2/alerts/groups`` (what its UI
polls: Alertmanager has no push feed, so only the listing compares). Then
``vigil down``.

    python bench/live_views.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import write_json
from bench.real_services import Alertmanager
from cluster.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]
KEY = "demo-key-change-me"
HEADERS = {"Authorization": f"Bearer {KEY}"}
ALERTS = 40
LISTINGS = 50
FACES = ("sse", "graphql", "python")
LIST_QUERY = "{ incidents(limit: 100) { total items { id state severity alertCount risk } } }"


def names_in(incidents: list[dict[str, Any]]) -> set[str]:
    return {i.get("group_labels", i.get("groupLabels", {})).get("alertname", "") for i in incidents}


ARRIVED = asyncio.Event()  # set whenever a watcher saw something


def note(seen: dict[str, float], names: set[str]) -> None:
    """Record when a watcher first saw each incident (by its alertname)."""
    now = time.monotonic()
    for name in names:
        seen.setdefault(name, now)
    ARRIVED.set()


async def sse_watcher(url: str, seen: dict[str, float], ready: asyncio.Event) -> None:
    stream = f"{url}/api/v1/incidents/updates"
    async with (
        aiohttp.ClientSession(headers=HEADERS) as http,
        http.get(stream, timeout=aiohttp.ClientTimeout(total=None)) as response,
    ):
        buffer = ""
        async for chunk in response.content.iter_any():
            buffer += chunk.decode()
            while "\n\n" in buffer:
                event, buffer = buffer.split("\n\n", 1)
                data = "".join(line[6:] for line in event.split("\n") if line.startswith("data: "))
                if event.startswith("event: ready"):
                    ready.set()
                elif data:
                    note(seen, names_in(json.loads(data)["incidents"]))


async def graphql_watcher(url: str, seen: dict[str, float], ready: asyncio.Event) -> None:
    from gql import Client, gql
    from gql.transport.websockets import WebsocketsTransport

    transport = WebsocketsTransport(
        url=url.replace("http://", "ws://") + "/graphql", init_payload=HEADERS
    )
    query = gql("subscription { incidentUpdates { incidents { groupLabels } } }")
    async with Client(transport=transport) as session:
        ready.set()
        async for item in session.subscribe(query):
            note(seen, names_in(item["incidentUpdates"]["incidents"]))


async def python_watcher(seen: dict[str, float], ready: asyncio.Event) -> None:
    import vigil

    client = await vigil.connect("demo")
    changes = client.watch(poll_seconds=None)
    ready.set()
    async for change in changes:
        note(seen, {i.group_labels.get("alertname", "") for i in change.incidents})


async def watch_latencies(url: str) -> dict[str, list[float]]:
    seen: dict[str, dict[str, float]] = {face: {} for face in FACES}
    ready = {face: asyncio.Event() for face in FACES}
    watchers = [
        asyncio.create_task(sse_watcher(url, seen["sse"], ready["sse"])),
        asyncio.create_task(graphql_watcher(url, seen["graphql"], ready["graphql"])),
        asyncio.create_task(python_watcher(seen["python"], ready["python"])),
    ]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready.values())), 120)
    await asyncio.sleep(2)  # each has read the feed's head
    latencies: dict[str, list[float]] = {face: [] for face in FACES}
    async with aiohttp.ClientSession(headers=HEADERS) as http:
        for n in range(ALERTS):
            name = f"LiveView{n}x{int(time.time())}"
            body = {"labels": {"alertname": name, "service": f"s{n}"}, "severity": "critical"}
            async with http.post(f"{url}/api/v1/critical-alerts", json=body) as r:
                r.raise_for_status()
            stored = time.monotonic()
            deadline = stored + 30
            while time.monotonic() < deadline and not all(name in seen[f] for f in FACES):
                ARRIVED.clear()
                if all(name in seen[f] for f in FACES):
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ARRIVED.wait(), max(0.0, deadline - time.monotonic()))
            for face in FACES:
                if name in seen[face]:
                    latencies[face].append((seen[face][name] - stored) * 1000)
            print(
                f"  alert {n + 1:>2}: "
                + ", ".join(
                    f"{f} {(seen[f][name] - stored) * 1000:6.0f} ms"
                    if name in seen[f]
                    else f"{f} -"
                    for f in FACES
                ),
                flush=True,
            )
    for task in watchers:
        task.cancel()
    return latencies


async def listing_latencies(url: str, am_url: str | None) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"rest": [], "graphql": [], "alertmanager": []}
    async with aiohttp.ClientSession(headers=HEADERS) as http:
        for _ in range(LISTINGS):
            started = time.monotonic()
            async with http.get(f"{url}/api/v1/incidents", params={"limit": "100"}) as r:
                await r.read()
            found["rest"].append((time.monotonic() - started) * 1000)
            started = time.monotonic()
            async with http.post(f"{url}/graphql", json={"query": LIST_QUERY}) as r:
                await r.read()
            found["graphql"].append((time.monotonic() - started) * 1000)
            if am_url:
                started = time.monotonic()
                async with http.get(f"{am_url}/api/v2/alerts/groups") as r:
                    await r.read()
                found["alertmanager"].append((time.monotonic() - started) * 1000)
    return found


async def load_alertmanager(am_url: str) -> None:
    alerts = [{"labels": {"alertname": f"LiveView{n}", "service": f"s{n}"}} for n in range(ALERTS)]
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{am_url}/api/v2/alerts", json=alerts) as r,
    ):
        r.raise_for_status()


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def measure(url: str) -> dict[str, Any]:
    print(f"watching through {', '.join(FACES)}; sending {ALERTS} alerts ...", flush=True)
    seen = await watch_latencies(url)
    if Alertmanager.binary():
        with Alertmanager(free_port()) as am:
            await load_alertmanager(am.url)
            listed = await listing_latencies(url, am.url)
    else:
        listed = await listing_latencies(url, None)
    return {
        "alert_to_watcher": {face: summary(v) for face, v in seen.items()},
        "listing": {name: summary(v) for name, v in listed.items()},
        "alerts": ALERTS,
        "listings": LISTINGS,
    }


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="vigil-live-"))
    port = free_port()
    os.environ.update({"VIGIL_DATA_DIR": str(data), "VIGIL_HTTP_PORT": str(port)})
    cli = [sys.executable, "-m", "cli"]
    print(f"starting Vigil (vigil up --detach, data in {data}) ...", flush=True)
    up = subprocess.run([*cli, "up", "--detach"], cwd=ROOT, capture_output=True, text=True)
    if up.returncode != 0:
        print(up.stdout + up.stderr)
        return 1
    try:
        result = asyncio.run(measure(f"http://127.0.0.1:{port}"))
    finally:
        subprocess.run([*cli, "down"], cwd=ROOT, capture_output=True, text=True)
    print("\n| alert stored → seen by | n | p50 ms | p95 ms | max ms |")
    print("|---|--:|--:|--:|--:|")
    for face, row in result["alert_to_watcher"].items():
        figures = " | ".join(str(row.get(k, "-")) for k in ("p50_ms", "p95_ms", "max_ms"))
        print(f"| {face} | {row['n']} | {figures} |")
    print("\n| listing the open incidents / groups | n | p50 ms | p95 ms | max ms |")
    print("|---|--:|--:|--:|--:|")
    for name, row in result["listing"].items():
        if row["n"]:
            print(f"| {name} | {row['n']} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")
    path = write_json("live_views", result)
    print(f"\nwritten {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
