"""Shared pieces of Vigil's benchmarks: start the systems under test, drive HTTP load,
summarise latencies, print a table and write JSON under ``bench/results/``.

Every benchmark runs the same load against Vigil and, when it is installed, the real
Prometheus Alertmanager (Debian's ``prometheus-alertmanager``), side by side.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Measurement:
    """One scenario against one target."""

    target: str
    scenario: str
    batch: int
    concurrency: int
    requests: int = 0
    alerts: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def alerts_per_s(self) -> float:
        return self.alerts / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def record(self, latency_ms: float, ok: bool) -> None:
        """Count one finished request."""
        self.latencies_ms.append(latency_ms)
        self.requests += 1
        if ok:
            self.alerts += self.batch
        else:
            self.errors += 1

    def summary(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("latencies_ms")
        data |= {
            "alerts_per_s": round(self.alerts_per_s, 1),
            "p50_ms": round(self.percentile(0.50), 2),
            "p99_ms": round(self.percentile(0.99), 2),
        }
        return data


Send = Callable[[aiohttp.ClientSession, int], Awaitable[bool]]


async def closed_loop(
    m: Measurement, send: Send, duration: float, progress: Callable[[Measurement], None]
) -> Measurement:
    """``m.concurrency`` workers send back-to-back for ``duration`` seconds."""
    connector = aiohttp.TCPConnector(limit=m.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.monotonic()
        deadline = start + duration
        counter = 0

        async def worker() -> None:
            nonlocal counter
            while time.monotonic() < deadline:
                counter += 1
                sent_at = time.perf_counter()
                ok = await send(session, counter)
                m.record((time.perf_counter() - sent_at) * 1000, ok)

        async def report() -> None:
            while time.monotonic() < deadline:
                await asyncio.sleep(1)
                m.seconds = time.monotonic() - start
                progress(m)

        reporter = asyncio.create_task(report())
        await asyncio.gather(*(worker() for _ in range(m.concurrency)))
        reporter.cancel()
        m.seconds = time.monotonic() - start
    return m


async def open_loop(
    m: Measurement,
    send: Send,
    rate: float,
    duration: float,
    progress: Callable[[Measurement], None],
) -> Measurement:
    """Send at a fixed ``rate`` per second, whether or not earlier requests finished."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        start = time.monotonic()
        total = int(rate * duration)

        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            sent_at = time.perf_counter()
            ok = await send(session, i)
            m.record((time.perf_counter() - sent_at) * 1000, ok)
            if i and i % int(rate) == 0:
                m.seconds = time.monotonic() - start
                progress(m)

        await asyncio.gather(*(one(i) for i in range(total)))
        m.seconds = time.monotonic() - start
    return m


def print_progress(m: Measurement) -> None:
    print(
        f"\r  {m.target:<13} {m.scenario:<22} {m.seconds:5.1f}s  {m.requests:7d} req  "
        f"{m.alerts_per_s:9.0f} alerts/s  errors {m.errors}",
        end="",
        file=sys.stderr,
        flush=True,
    )


def print_table(title: str, rows: list[Measurement]) -> None:
    print(f"\n{title}")
    head = (
        f"| {'target':<13} | {'scenario':<22} | {'batch':>5} | {'conc':>4} | {'requests':>8} "
        f"| {'alerts/s':>9} | {'p50 ms':>7} | {'p99 ms':>7} | {'errors':>6} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for m in rows:
        print(
            f"| {m.target:<13} | {m.scenario:<22} | {m.batch:>5} | {m.concurrency:>4} "
            f"| {m.requests:>8} | {m.alerts_per_s:>9.0f} | {m.percentile(0.5):>7.1f} "
            f"| {m.percentile(0.99):>7.1f} | {m.errors:>6} |"
        )


def medians(rows: list[Measurement]) -> list[dict[str, Any]]:
    """Per (target, scenario): the median alerts/s, p50 and p99 over repeated runs, and
    the p99 range, because one run on a small shared machine is noisy."""
    groups: dict[tuple[str, str], list[Measurement]] = {}
    for m in rows:
        groups.setdefault((m.target, m.scenario), []).append(m)
    out = []
    for (target, scenario), runs in groups.items():
        p99s = sorted(m.percentile(0.99) for m in runs)
        out.append(
            {
                "target": target,
                "scenario": scenario,
                "runs": len(runs),
                "alerts_per_s": round(statistics.median(m.alerts_per_s for m in runs), 1),
                "p50_ms": round(statistics.median(m.percentile(0.5) for m in runs), 2),
                "p99_ms": round(statistics.median(p99s), 2),
                "p99_min_ms": round(p99s[0], 2),
                "p99_max_ms": round(p99s[-1], 2),
            }
        )
    return out


def print_medians(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    head = (
        f"| {'target':<13} | {'scenario':<22} | runs | {'alerts/s':>9} | {'p50 ms':>7} "
        f"| {'p99 ms':>7} | {'p99 range ms':>12} |"
    )
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    for r in rows:
        spread = f"{r['p99_min_ms']:.0f}-{r['p99_max_ms']:.0f}"
        print(
            f"| {r['target']:<13} | {r['scenario']:<22} | {r['runs']:>4} "
            f"| {r['alerts_per_s']:>9.0f} | {r['p50_ms']:>7.1f} | {r['p99_ms']:>7.1f} "
            f"| {spread:>12} |"
        )


def write_json(name: str, data: dict[str, Any]) -> Path:
    """Write a benchmark's results to ``bench/results/<name>.json`` with when and where
    they were measured; return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    header = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    path.write_text(json.dumps({**header, **data}, indent=2) + "\n")
    return path


def write_results(name: str, rows: list[Measurement], extra: dict[str, Any]) -> Path:
    """Write HTTP load results: the medians per scenario and every run."""
    return write_json(
        name, {**extra, "medians": medians(rows), "results": [m.summary() for m in rows]}
    )


OBSERVABILITY_ENV = ("OTEL_EXPORTER_OTLP_ENDPOINT", "VIGIL_TRACE_SAMPLE_RATIO", "VIGIL_LOG_LEVEL")


def start_vigil(
    routing: dict[str, Any] | None = None,
    ml: bool = True,
    tenant_extra: dict[str, Any] | None = None,
    secrets_: dict[str, str] | None = None,
    other_tenants: dict[str, str] | None = None,
) -> tuple[str, str, Any]:
    """Start Ray, an embedded Redis and the Vigil app; return (url, api key, stopper).

    The one tenant, ``bench``, routes by ``routing`` (an ``alertmanager.yml`` as a
    dict) when given, else everything to one default receiver; ``tenant_extra`` adds
    sections to its configuration (``escalation``, ``channels``) and ``secrets_`` are
    stored as its channel secrets. ``other_tenants`` (id → API key) adds tenants with
    the default routing, on the same correlator shard. With ``ml`` the starter model is trained and
    promoted first, as ``vigil up`` does, so incidents are scored as on a real
    installation; without it the predictor is not deployed
    (``CRITICAL_ALERT_ML_ENABLED=false``).
    """

    from cluster.haproxy_ingress import haproxy_directory, haproxy_env
    from cluster.ray_access import close_local_ray

    # Before Ray is imported: the benchmark's Ray listens on loopback, with a token;
    # with VIGIL_INGRESS=haproxy, HAProxy receives HTTP, set up as `vigil up` does.
    close_local_ray()
    haproxy_files = None
    if os.environ.get("VIGIL_INGRESS", "haproxy") == "haproxy":
        haproxy_files = haproxy_directory()
        os.environ.update(haproxy_env(haproxy_files))
    import ray
    import yaml
    from ray import serve

    from cluster.config import hash_api_key
    from cluster.redis_client import sync_client
    from cluster.redis_server import EmbeddedRedis, free_port
    from cluster.runtime import init_local
    from cluster.secrets import SecretStore, box_for
    from cluster.settings import Settings
    from models.registry import ModelRegistry
    from models.starter import register_starter
    from serve_app.app import APP_NAME, build

    root = Path(__file__).resolve().parents[1]
    data = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    redis = EmbeddedRedis(data)
    redis.start()
    try:  # a failed start stops what it started: no Redis left behind
        key = "bench-" + secrets.token_hex(16)
        config = data / "vigil.yaml"
        # Enterprise: the benchmarks measure Vigil, not the tiers' rate limits.
        tenant: dict[str, Any] = {
            "id": "bench",
            "tier": "enterprise",
            "api_keys": [{"sha256": hash_api_key(key)}],
        }
        if routing is not None:
            tenant["alertmanager"] = routing
        tenant.update(tenant_extra or {})
        others = [
            {"id": name, "tier": "enterprise", "api_keys": [{"sha256": hash_api_key(other)}]}
            for name, other in (other_tenants or {}).items()
        ]
        config.write_text(yaml.safe_dump({"tenants": [tenant, *others]}))
        settings = Settings(
            # Known to the benchmark, so it can read /metrics (scrape_metrics).
            VIGIL_METRICS_TOKEN=METRICS_TOKEN,
            REDIS_URL=redis.url,
            VIGIL_DATA_DIR=data,
            VIGIL_CONFIG=config,
            VIGIL_SERVE_CONFIG=root / "configs" / "serve.yaml",
            CRITICAL_ALERT_ML_ENABLED=ml,
            VIGIL_OUTBOUND_ALLOW="127.0.0.0/8",  # the benchmark's receivers are local
            VIGIL_ESCALATOR_LANES=int(os.environ.get("VIGIL_ESCALATOR_LANES", "1")),
            VIGIL_SLACK_RESPONSE_URL_PREFIXES="http://127.0.0.1:",
            # Traces on, or info lines off, as the environment says (what each costs).
            **{name: os.environ[name] for name in OBSERVABILITY_ENV if os.environ.get(name)},
        )
        store = SecretStore(sync_client(redis.url), "bench", box_for(settings))
        for name, value in (secrets_ or {}).items():
            store.set(name, value)
        if ml:
            print("training the starter model ...", file=sys.stderr, flush=True)
            register_starter(ModelRegistry(sync_client(redis.url)), "benchmark")
        init_local(num_cpus=2)
        port = free_port()
        serve.start(
            http_options={"host": "127.0.0.1", "port": port},
            logging_config={"enable_access_log": False, "log_level": "WARNING"},
        )
        serve.run(build(settings), name=APP_NAME, route_prefix="/", blocking=False)
    except BaseException:
        if ray.is_initialized():
            ray.shutdown()
        redis.stop()
        raise

    global _started
    _started = settings

    def stop() -> None:
        serve.shutdown()
        ray.shutdown()
        redis.stop()
        if haproxy_files is not None:
            shutil.rmtree(haproxy_files, ignore_errors=True)

    return f"http://127.0.0.1:{port}", key, stop


_started: Any = None


def started_settings() -> Any:
    """The ``Settings`` of the Vigil ``start_vigil`` started last (to create its actors
    again, as ``bench/notices.py`` does)."""
    assert _started is not None, "start_vigil first"
    return _started


METRICS_TOKEN = "bench-metrics-" + secrets.token_hex(8)
"""The metrics token of the Vigil ``start_vigil`` starts (a fresh one per run)."""


def scrape_metrics(url: str, family: str, wait_for: float = 0.0) -> dict[str, float]:
    """The samples of one family on Vigil's ``/metrics`` (every process's, summed by
    sample name and labels without ``process``); ``wait_for``: seconds to let every
    process publish its latest samples first (they do so every few seconds)."""
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    time.sleep(wait_for)
    r = requests.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30
    )
    r.raise_for_status()
    found: dict[str, float] = {}
    for metric in text_string_to_metric_families(r.text):
        if metric.name != family:
            continue
        for sample in metric.samples:
            labels = ",".join(
                f"{k}={v}" for k, v in sorted(sample.labels.items()) if k != "process"
            )
            key = f"{sample.name}{{{labels}}}"
            found[key] = found.get(key, 0.0) + sample.value
    return found


def wait_ready(url: str, timeout: float = 120.0) -> None:
    """Wait until Vigil's ``/readyz`` says ready (or ``timeout`` passes)."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)


def api_session(key: str) -> Any:
    """A ``requests`` session that sends ``key`` as its Bearer token."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return session
