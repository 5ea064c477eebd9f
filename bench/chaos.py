"""Chaos benchmark: under steady load with escalations falling due every second, each
part of Vigil is killed again and again; nothing acknowledged may be lost and every
escalation step must be paged exactly once.

The system is started as a user starts it, with ``vigil up --detach`` (a local Ray
head, the embedded Redis, three escalating tenants), and driven over HTTP:

* **Load.** About 200 alerts/s across the three tenants (ten bulk requests a second
  each, mostly re-sent alerts that are deduplicated), and every second one new alert
  per tenant that forms a new incident and escalates: level 1 at once, level 2 two
  seconds later, both to a recording webhook. So steps fall due every second.
* **Faults**, each repeated: ``kill -9`` of a tenant actor, the correlator, the
  escalator, a Serve ingress replica and the predictor; ``kill -9`` of the Redis
  server, started again 3 s later from its append-only file; ``vigil down`` then
  ``vigil up`` in the middle of escalations. Then, on a three-node Ray cluster
  (``ray.cluster_utils``: a head and worker nodes, Vigil's actors on the workers by
  ``VIGIL_ACTOR_RESOURCES``, ML off), the same load while the worker node hosting the
  tenant actors and the escalator is removed. Before each fault the system must be
  ready again (``/readyz`` 200).
* **Per fault** (over its repetitions): acknowledged (202) alerts lost, read from
  Redis at the end (must be 0); escalation steps due (two per escalating alert
  acknowledged between this fault and the next) against steps delivered exactly
  once, missing, and delivered more than once (the documented crash-window resend,
  counted apart); time from the fault to the first page of an alert sent after it
  (p50 / max; for ``vigil down/up`` counted from when everything was down); requests
  refused (not 202) from the fault until the next.

The real Alertmanager gets one row for comparison: the same kind of load, ``kill -9``
and a restart, then how many of the alerts it acknowledged it still has (it keeps
alerts in memory only and relies on Prometheus re-sending them).

    python bench/chaos.py                 # each fault 3 times, 12 s after each
    python bench/chaos.py --quick         # each fault once, 8 s after each
    python bench/chaos.py --only nodes    # only the node loss (--only single: the rest)
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import psutil
import yaml
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import write_json
from bench.real_services import BLACKHOLE_CONFIG, Alertmanager
from cluster import keys
from cluster.config import hash_api_key
from cluster.redis_client import sync_client
from cluster.redis_server import EmbeddedRedis, free_port
from cluster.runtime import correlator_name, escalator_name, tenant_actor_name

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
VIGIL = str(Path(sys.executable).parent / "vigil")
TENANTS = ("chaos-a", "chaos-b", "chaos-c")
REQUESTS_PER_SECOND = 10  # per tenant
STEADY_PER_REQUEST = 6  # re-sent alerts per request (a pool of 60 per tenant)
LEVEL2_AFTER = 2  # seconds
ROUTING = {
    "route": {
        "receiver": "pager",
        "group_by": ["alertname"],
        "group_wait": "0s",
        "group_interval": "1s",
        "routes": [{"matchers": ['chaos="steady"'], "receiver": "quiet"}],
    },
    "receivers": [{"name": "pager"}, {"name": "quiet"}],
}
ESCALATION = {
    "policies": {
        "two-levels": {
            "levels": [
                {"targets": [{"channel": "hook"}], "escalate_after": f"{LEVEL2_AFTER}s"},
                {"targets": [{"channel": "hook"}]},
            ]
        }
    },
    "receivers": {"pager": "two-levels"},
}


@dataclass
class Sent:
    """One escalating alert that was acknowledged: its tenant, when it was sent."""

    tenant: str
    name: str
    sent_at: float


@dataclass
class Fault:
    """One injected fault: what, when it took effect, how long its injection took."""

    kind: str
    at: float  # when it took effect: the kill; for vigil down/up, once down had stopped it all
    took: float = 0.0
    until: float = 0.0  # the next fault (or the end of the load)


@dataclass
class LoadStats:
    """What the load generator saw."""

    # Per tenant: every acknowledged alert id, with when it was first acknowledged.
    acked: dict[str, dict[str, float]] = field(default_factory=lambda: {t: {} for t in TENANTS})
    escalating: list[Sent] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)  # when a request was not 202
    sent_requests: int = 0


class PageRecorder:
    """The on-call webhook: every notice with when it arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.notices: list[tuple[float, str, int, str]] = []  # (at, alertname, level, status)
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        arrived = time.time()
        body = await request.json()
        name = body.get("labels", {}).get("alertname", "")
        level = int(body.get("escalation", {}).get("level", 1))
        self.notices.append((arrived, name, level, body.get("status", "")))
        return web.Response()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def firing(self) -> dict[tuple[str, int], list[float]]:
        """Arrival times of firing notices by (alertname, level)."""
        found: dict[tuple[str, int], list[float]] = {}
        for at, name, level, status in self.notices:
            if status == "firing":
                found.setdefault((name, level), []).append(at)
        return found


def write_config(path: Path, api_keys: dict[str, str]) -> Path:
    """The three escalating tenants' vigil.yaml."""
    config = {
        "tenants": [
            {
                "id": t,
                "tier": "enterprise",  # the run measures faults, not the rate limits
                "api_keys": [{"sha256": hash_api_key(k)}],
                "alertmanager": ROUTING,
                "escalation": ESCALATION,
                "channels": {"hook": {"type": "webhook", "url_secret": "hook-url"}},
            }
            for t, k in api_keys.items()
        ]
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class Vigil:
    """Vigil as ``vigil up --detach`` starts it, in a data dir of its own."""

    faults = (
        "tenant actor",
        "correlator",
        "escalator",
        "ingress replica",
        "predictor",
        "redis",
        "vigil down/up",
    )

    def __init__(self, hook_url: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vigil-chaos-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.keys = {t: f"{t}-{secrets.token_hex(12)}" for t in TENANTS}
        write_config(self.dir / "vigil.yaml", self.keys)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "RAY_ADDRESS")},
            "VIGIL_DATA_DIR": str(self.dir / "data"),
            "VIGIL_CONFIG": str(self.dir / "vigil.yaml"),
            "VIGIL_HTTP_PORT": str(self.port),
            "VIGIL_OUTBOUND_ALLOW": "127.0.0.0/8",  # the recording webhook is local
        }
        self.hook_url = hook_url

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [VIGIL, *args], env=self.env, capture_output=True, text=True, input=stdin, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"vigil {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def up(self) -> None:
        self.cli("up", "--detach")
        self.connect()

    def start(self) -> None:
        """Start it and give every tenant the recording webhook."""
        self.up()
        for tenant in TENANTS:
            self.cli("secret", "set", tenant, "hook-url", stdin=self.hook_url)

    def stop(self) -> None:
        self.down()

    @property
    def redis_url(self) -> str:
        return self.redis.url

    def inject(self, kind: str) -> float:
        """Carry out one fault; return when it took effect."""
        effective = time.time()
        if kind == "tenant actor":
            kill9(self.actor_pid(tenant_actor_name(TENANTS[0])))
        elif kind == "correlator":
            kill9(self.actor_pid(correlator_name(0)))
        elif kind == "escalator":
            kill9(self.actor_pid(escalator_name(0)))
        elif kind == "ingress replica":
            kill9(replica_pid("Ingress"))
        elif kind == "predictor":
            kill9(replica_pid("Predictor"))
        elif kind == "redis":
            self.redis.kill()
            time.sleep(3)
            self.redis.start()
        elif kind == "vigil down/up":
            self.down()
            effective = time.time()
            self.up()
        else:
            raise ValueError(kind)
        return effective

    def down(self) -> None:
        import ray

        with contextlib.suppress(Exception):
            ray.shutdown()
        self.cli("down")

    def connect(self) -> None:
        import ray

        from cluster.runtime import NAMESPACE

        with contextlib.suppress(Exception):
            ray.shutdown()
        ray.init(address="auto", namespace=NAMESPACE, log_to_driver=False, logging_level="ERROR")

    @property
    def redis(self) -> EmbeddedRedis:
        return EmbeddedRedis(self.dir / "data")

    def actor_pid(self, name: str) -> int:
        return int(actor_call(name, "process_id"))

    def ready(self) -> bool:
        return http_ready(self.url)


class ThreeNodes:
    """Vigil on a three-node Ray cluster on this machine (``ray.cluster_utils``): a head
    and worker nodes offering the ``vigil`` resource, which Vigil's actors ask for
    (``VIGIL_ACTOR_RESOURCES``). The fault: a new worker node joins, then the node that
    hosts the escalator (with the tenant actors and the correlator) is removed."""

    faults = ("worker node",)

    def __init__(self, hook_url: str) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="vigil-chaos-nodes-"))
        self.keys = {t: f"{t}-{secrets.token_hex(12)}" for t in TENANTS}
        self.hook_url = hook_url
        self.redis = EmbeddedRedis(self.dir / "data")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cluster: Any = None
        self.nodes: list[Any] = []

    @property
    def redis_url(self) -> str:
        return self.redis.url

    def start(self) -> None:
        from cluster.ray_access import close_local_ray

        close_local_ray()  # before Ray
        from ray import serve
        from ray.cluster_utils import Cluster

        from cluster.runtime import apply_lean_env
        from cluster.secrets import SecretStore, box_for
        from cluster.settings import Settings
        from serve_app.app import APP_NAME, build

        apply_lean_env()
        self.redis.start()
        settings = Settings(
            REDIS_URL=self.redis.url,
            VIGIL_DATA_DIR=self.dir / "data",
            VIGIL_CONFIG=write_config(self.dir / "vigil.yaml", self.keys),
            VIGIL_SERVE_CONFIG=ROOT / "configs" / "serve.yaml",
            CRITICAL_ALERT_ML_ENABLED=False,  # three raylets on two cores: keep it lean
            VIGIL_ACTOR_RESOURCES=json.dumps({"vigil": 0.001}),
            VIGIL_OUTBOUND_ALLOW="127.0.0.0/8",  # the recording webhook is local
        )
        client = sync_client(self.redis.url)
        for tenant in TENANTS:
            SecretStore(client, tenant, box_for(settings)).set("hook-url", self.hook_url)
        self.cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
        self.nodes = [self.cluster.add_node(num_cpus=1, resources={"vigil": 1000})]
        import ray

        from cluster.runtime import NAMESPACE

        ray.init(address=self.cluster.address, namespace=NAMESPACE, log_to_driver=False)
        serve.start(
            proxy_location="HeadOnly",
            http_options={"host": "127.0.0.1", "port": self.port},
            logging_config={"enable_access_log": False, "log_level": "WARNING"},
        )
        serve.run(build(settings), name=APP_NAME, route_prefix="/", blocking=False)

    def inject(self, kind: str) -> float:
        assert kind == "worker node"
        self.nodes.append(self.cluster.add_node(num_cpus=1, resources={"vigil": 1000}))
        hosting = actor_call(escalator_name(0), "node_id")
        doomed = next(n for n in self.nodes if n.node_id == hosting)
        effective = time.time()
        self.cluster.remove_node(doomed)
        self.nodes.remove(doomed)
        return effective

    def ready(self) -> bool:
        return http_ready(self.url)

    def stop(self) -> None:
        import ray
        from ray import serve

        with contextlib.suppress(Exception):
            serve.shutdown()
        ray.shutdown()
        self.cluster.shutdown()
        self.redis.stop()


def actor_call(name: str, method: str) -> Any:
    """Call a method of one of Vigil's named actors from this driver."""
    import ray

    from cluster.runtime import NAMESPACE

    actor = ray.get_actor(name, namespace=NAMESPACE)
    return ray.get(getattr(actor, method).remote(), timeout=60)


def http_ready(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as r:
            return bool(r.status == 200)
    except OSError:
        return False


def replica_pid(deployment: str) -> int:
    """A running Serve replica of the deployment (Ray names its process after it)."""
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(process.info.get("cmdline") or [])
        if f"ServeReplica:vigil:{deployment}" in cmdline:
            return int(process.info["pid"])
    raise RuntimeError(f"no {deployment} replica running")


def kill9(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


async def drive_load(vigil: Any, stats: LoadStats, stop: threading.Event, run: str) -> None:
    """Ten bulk requests a second per tenant until ``stop``; one escalating alert per
    tenant per second."""
    seq = 0
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        pending: set[asyncio.Task[None]] = set()
        tick = 0
        start = time.monotonic()
        while not stop.is_set():
            for tenant in TENANTS:
                alerts: list[dict[str, Any]] = [
                    {"labels": {"alertname": f"Steady{(tick + i) % 60}", "chaos": "steady"}}
                    for i in range(STEADY_PER_REQUEST)
                ]
                name = None
                if tick % REQUESTS_PER_SECOND == 0:
                    seq += 1
                    name = f"Chaos{run}x{seq}"
                    alerts.append({"labels": {"alertname": name}, "severity": "critical"})
                task = asyncio.create_task(send(session, vigil, tenant, alerts, name, stats))
                pending.add(task)
                task.add_done_callback(pending.discard)
            tick += 1
            await asyncio.sleep(max(0.0, start + tick / REQUESTS_PER_SECOND - time.monotonic()))
        if pending:
            await asyncio.wait(pending, timeout=60)


async def send(
    session: aiohttp.ClientSession,
    vigil: Any,
    tenant: str,
    alerts: list[dict[str, Any]],
    escalating: str | None,
    stats: LoadStats,
) -> None:
    stats.sent_requests += 1
    sent_at = time.time()
    headers = {"Authorization": f"Bearer {vigil.keys[tenant]}"}
    url = f"{vigil.url}/api/v1/critical-alerts/bulk"
    try:
        async with session.post(
            url, json={"alerts": alerts}, headers=headers, timeout=aiohttp.ClientTimeout(30)
        ) as r:
            body = await r.json(content_type=None) if r.status == 202 else None
            status = r.status
    except (aiohttp.ClientError, TimeoutError):
        status, body = 0, None
    if status != 202 or body is None:
        stats.refused.append(time.time())
        return
    now = time.time()
    for item in body["results"]:
        stats.acked[tenant].setdefault(item["id"], now)
    if escalating is not None:
        stats.escalating.append(Sent(tenant, escalating, sent_at))


def lost_alerts(redis_url: str, stats: LoadStats) -> dict[str, float]:
    """Acknowledged alert ids that Redis does not have, with when they were acknowledged."""
    client = sync_client(redis_url)
    missing: dict[str, float] = {}
    for tenant, ids in stats.acked.items():
        ordered = sorted(ids)
        found = client.hmget(keys.alerts(tenant), ordered) if ordered else []
        for alert_id, doc in zip(ordered, found, strict=True):
            if doc is None:
                missing[alert_id] = ids[alert_id]
    return missing


def analyse(
    faults: list[Fault],
    stats: LoadStats,
    firing: dict[tuple[str, int], list[float]],
    lost: dict[str, float],
) -> list[dict[str, Any]]:
    """One row per kind of fault, over its repetitions (``firing``: arrival times of
    firing notices by alertname and level; ``lost``: lost alert ids by ack time)."""
    rows = []
    for kind in dict.fromkeys(f.kind for f in faults):
        of_kind = [f for f in faults if f.kind == kind]
        due = delivered_once = missing = repeated = refused = lost_here = 0
        recoveries: list[float] = []
        for fault in of_kind:
            # Alerts sent from the fault on, until the next fault.
            sent = [s for s in stats.escalating if fault.at <= s.sent_at < fault.until]
            for s in sent:
                for level in (1, 2):
                    due += 1
                    count = len(firing.get((s.name, level), []))
                    delivered_once += count == 1
                    missing += count == 0
                    repeated += count > 1
            first = [min(firing[(s.name, 1)]) for s in sent if firing.get((s.name, 1))]
            if first:
                recoveries.append(min(first) - fault.at)
            refused += sum(1 for t in stats.refused if fault.at <= t < fault.until)
            lost_here += sum(1 for t in lost.values() if fault.at <= t < fault.until)
        rows.append(
            {
                "fault": kind,
                "repeats": len(of_kind),
                "acked_lost": lost_here,
                "steps_due": due,
                "delivered_once": delivered_once,
                "missing": missing,
                "delivered_twice_or_more": repeated,
                "first_page_after_fault_p50_s": _r(statistics.median(recoveries))
                if recoveries
                else None,
                "first_page_after_fault_max_s": _r(max(recoveries)) if recoveries else None,
                "requests_refused": refused,
                "injection_seconds_max": _r(max(f.took for f in of_kind)),
            }
        )
    return rows


def _r(value: float) -> float:
    return round(value, 2)


def wait_ready(vigil: Any, within: float = 180) -> float:
    """Seconds until /readyz answered 200."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        if vigil.ready():
            return time.monotonic() - start
        time.sleep(0.25)
    raise RuntimeError(f"Vigil not ready within {within}s")


class Background:
    """An event loop in a thread of its own, where the recording webhook and the load
    run, so that the main thread may block: Ray's cluster tools (adding and removing
    nodes) must run on it, and a fault's injection must not pause the load."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def spawn(self, work: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def chaos(
    target: Any, pages: PageRecorder, bg: Background, repeats: int, settle: float
) -> dict[str, Any]:
    """Start ``target``, load it, inject each of its faults ``repeats`` times (each once
    it is ready again), then count per fault."""
    print(f"starting {type(target).__name__} in {target.dir} ...", flush=True)
    target.start()
    wait_ready(target)
    stats = LoadStats()
    stop = threading.Event()
    run = secrets.token_hex(4)
    load = bg.spawn(drive_load(target, stats, stop, run))
    faults: list[Fault] = []
    try:
        print("warming up under load ...", flush=True)
        time.sleep(settle)
        plan = [kind for kind in target.faults for _ in range(repeats)]
        for n, kind in enumerate(plan, 1):
            wait_ready(target)
            started = time.monotonic()
            fault = Fault(kind, target.inject(kind))
            fault.took = time.monotonic() - started
            faults.append(fault)
            print(
                f"  [{n:2d}/{len(plan)}] {kind:<16} injected in {fault.took:5.1f}s; "
                f"{len(stats.escalating)} escalating alerts acknowledged, "
                f"{len(stats.refused)} requests refused so far",
                flush=True,
            )
            time.sleep(settle)
        wait_ready(target)
        time.sleep(settle)  # a last quiet window after the last fault
    finally:
        stop.set()
        load.result(120)
    end = time.time()
    for fault, following in zip(faults, [*faults[1:], None], strict=True):
        fault.until = following.at if following is not None else end
    print("waiting for every escalation step to be paged ...", flush=True)
    expected = {(s.name, level) for s in stats.escalating for level in (1, 2)}
    for _ in range(240):  # at most two minutes
        if expected <= set(pages.firing()):
            break
        time.sleep(0.5)
    time.sleep(3)  # anything sent twice arrives by now
    lost = lost_alerts(target.redis_url, stats)
    rows = analyse(faults, stats, pages.firing(), lost)
    target.stop()
    return {
        "rows": rows,
        "acked_alert_ids": sum(len(v) for v in stats.acked.values()),
        "escalating_alerts": len(stats.escalating),
        "requests": stats.sent_requests,
        "acked_lost_total": len(lost),  # before the first fault too
        "lost_ids": sorted(lost)[:20],
    }


def run_targets(targets: list[type], repeats: int, settle: float) -> list[dict[str, Any]]:
    """Each target's faults in turn: the single-machine ones (``vigil up``), the node
    loss (three nodes)."""
    results = []
    bg = Background()
    try:
        for make in targets:
            pages = PageRecorder()
            bg.run(pages.start(), 30)
            try:
                results.append(chaos(make(pages.url), pages, bg, repeats, settle))
            finally:
                bg.run(pages.stop(), 30)
    finally:
        bg.close()
    return results


async def alertmanager_restart(settle: float) -> dict[str, Any]:
    """The real Alertmanager under the same kind of load: kill -9, restart, and count
    the alerts it had acknowledged that it no longer has."""
    if Alertmanager.binary() is None:
        return {"skipped": "prometheus-alertmanager is not installed"}
    port = free_port()
    am = Alertmanager(port, BLACKHOLE_CONFIG)
    am.start()
    acked: set[str] = set()
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + settle
            n = 0
            while time.monotonic() < deadline:
                n += 1
                name = f"Chaos{n}"
                body = [{"labels": {"alertname": name}, "endsAt": _in(3600)}]
                async with session.post(f"{am.url}/api/v2/alerts", json=body) as r:
                    if r.status == 200:
                        acked.add(name)
                await asyncio.sleep(1 / (REQUESTS_PER_SECOND * len(TENANTS)))
        assert am.proc is not None
        am.proc.kill()  # kill -9
        am.proc.wait()
        am.start()
        async with aiohttp.ClientSession() as session, session.get(f"{am.url}/api/v2/alerts") as r:
            kept = {a["labels"]["alertname"] for a in await r.json()}
    finally:
        am.stop()
    return {
        "fault": "kill -9 + restart",
        "acked": len(acked),
        "acked_lost": len(acked - kept),
        "note": "Alertmanager keeps alerts in memory; Prometheus re-sends them",
    }


def _in(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))


def print_table(result: dict[str, Any], am: dict[str, Any]) -> None:
    head = (
        f"| {'fault':<16} | rep | {'lost':>4} | {'steps due':>9} | {'once':>5} | {'missing':>7} "
        f"| {'twice+':>6} | {'1st page p50':>12} | {'max':>6} | {'refused':>7} |"
    )
    print("\nChaos: acknowledged alerts lost, escalation steps paged, recovery")
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    for r in result["rows"]:
        p50 = r["first_page_after_fault_p50_s"]
        worst = r["first_page_after_fault_max_s"]
        print(
            f"| {r['fault']:<16} | {r['repeats']:>3} | {r['acked_lost']:>4} | {r['steps_due']:>9} "
            f"| {r['delivered_once']:>5} | {r['missing']:>7} | {r['delivered_twice_or_more']:>6} "
            f"| {('-' if p50 is None else f'{p50:.1f} s'):>12} "
            f"| {('-' if worst is None else f'{worst:.1f} s'):>6} | {r['requests_refused']:>7} |"
        )
    print(
        f"\n{result['acked_alert_ids']} acknowledged alert ids, {result['escalating_alerts']} "
        f"escalating alerts, {result['requests']} requests"
    )
    if "acked" in am:
        print(
            f"Alertmanager, {am['fault']}: {am['acked_lost']} of {am['acked']} acknowledged "
            f"alerts lost ({am['note']})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="each fault once, shorter windows")
    parser.add_argument(
        "--only",
        choices=("all", "single", "nodes"),
        default="all",
        help="the single-machine faults, or the node loss on three nodes",
    )
    args = parser.parse_args(argv)
    repeats, settle = (1, 8.0) if args.quick else (3, 12.0)
    targets = {"single": [Vigil], "nodes": [ThreeNodes], "all": [Vigil, ThreeNodes]}[args.only]
    parts = run_targets(targets, repeats, settle)
    am = asyncio.run(alertmanager_restart(settle))
    result = {
        "rows": [row for part in parts for row in part["rows"]],
        **{
            key: sum(part[key] for part in parts)
            for key in ("acked_alert_ids", "escalating_alerts", "requests", "acked_lost_total")
        },
        "lost_ids": [i for part in parts for i in part["lost_ids"]],
    }
    print_table(result, am)
    path = write_json(
        "chaos",
        {
            "load": {
                "tenants": len(TENANTS),
                "alerts_per_s": len(TENANTS) * REQUESTS_PER_SECOND * (STEADY_PER_REQUEST + 0.1),
                "escalating_alerts_per_s": len(TENANTS),
                "level2_after_s": LEVEL2_AFTER,
                "repeats": repeats,
                "settle_s": settle,
            },
            **result,
            "alertmanager": am,
        },
    )
    print(f"\nwrote {path}")
    clean = result["acked_lost_total"] == 0 and all(r["missing"] == 0 for r in result["rows"])
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
