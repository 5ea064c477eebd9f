"""Ray: start a local head or join a cluster, and the names actors live under."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

import psutil
import ray

from cluster.ray_access import require_closed_ray

NAMESPACE = "vigil"

LEAN_RAY_ENV = {
    # Serve: run user code and the router on the replica's main loop (fewer thread
    # hand-offs), but keep the HTTP proxy rather than per-replica ports.
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0",
    # Ray runs every worker (so every Vigil actor: escalator, tenants, ingress) at nice
    # 15, to yield to its own daemons "and other user processes". Here the workers are
    # the alert manager: once CPU-bound processes at nice 0 filled the cores, they got
    # a few percent of a core, and `vigil up` took 265 s instead of 22 s (three such
    # processes on two cores, bench/busy_neighbour.py). Pages must not wait for
    # whatever else the machine runs.
    "RAY_worker_niceness": "0",
    # Serve's controller gives a new proxy (HAProxy's manager or the Python proxy) this
    # long to answer its readiness check, three times, then kills it, and `serve.start`
    # (so `vigil up`) fails. The clock starts before the proxy's worker process exists,
    # and Ray's 5 s was not enough for that worker to start on a busy 2-core machine:
    # `vigil up` failed so in CI and, reproducibly, beside six CPU-bound processes.
    "RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S": "30",
    # Per-task event recording cost several ms of CPU per request on a 2-core machine
    # (with metric recording: measured together). Ray's metrics alone now cost nothing
    # measurable (bench/README.md, issue 18), but Vigil serves its own on /metrics;
    # `vigil up --ray-metrics` turns Ray's on for its dashboard.
    "RAY_enable_metrics_collection": "0",
    "RAY_task_events_report_interval_ms": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
}
"""Environment for the Ray processes Vigil starts; a value already set is kept.

Measured with ``bench/ingest.py`` (see ``bench/README.md``): single-alert p99 at 100
requests/s fell from 279 ms to 72 ms on the 2-core reference machine.
"""


def apply_lean_env() -> None:
    """Put ``LEAN_RAY_ENV`` into this process's environment (before Ray starts)."""
    for name, value in LEAN_RAY_ENV.items():
        os.environ.setdefault(name, value)


def init_local(num_cpus: int | None = None) -> Any:
    """Start a Ray cluster inside this process (tests, benchmarks) in Vigil's namespace:
    always a new one (``address="local"``), never another Ray running on the machine,
    which ``ray.init()`` would otherwise join. It listens on loopback only and requires
    a token: ``cluster.ray_access.close_local_ray`` must have run before Ray was imported."""
    apply_lean_env()
    require_closed_ray()
    return ray.init(
        address="local",
        num_cpus=num_cpus,
        namespace=NAMESPACE,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )


def tenant_actor_name(tenant: str) -> str:
    """The stable name of a tenant's actor in the ``vigil`` namespace."""
    return f"tenant:{tenant}"


def long_lived_actor_options(
    name: str, resources: dict[str, float] | None = None
) -> dict[str, Any]:
    """Options of Vigil's named actors: found by name (created on first use), detached so
    they outlive whoever created them, restarted by Ray after a crash (they rebuild
    from Redis), and reserving no CPU, since they mostly wait on Redis and each other.

    ``resources`` (``VIGIL_ACTOR_RESOURCES``) places them on the nodes that offer those
    custom resources, e.g. ``{"vigil": 0.001}`` with ``ray start --resources='{"vigil":
    1000}'`` on the nodes meant for them; a lost node's actors restart on another."""
    return {
        "resources": dict(resources or {}),
        "name": name,
        "namespace": NAMESPACE,
        "get_if_exists": True,
        "lifetime": "detached",
        "num_cpus": 0,
        "max_restarts": -1,
        "max_concurrency": 1000,
    }


SERVE_APP = "vigil"
"""The Serve application's name (``serve status`` shows it)."""

PREDICTOR_DEPLOYMENT = "Predictor"
"""The predictor's deployment name: the correlator finds it by this name."""


def correlator_name(shard: int) -> str:
    """The stable name of a correlator shard in the ``vigil`` namespace."""
    return f"correlator:{shard}"


def escalator_name(shard: int, lane: int = 0) -> str:
    """The stable name of an escalator process: it runs its lane's share
    (``alerting/lanes.py``) of the escalations of the tenants whose correlator shard has
    the same number (lane 0 keeps the name from before lanes)."""
    return f"escalator:{shard}" if lane == 0 else f"escalator:{shard}.{lane}"


def shard_of(tenant: str, shards: int) -> int:
    """The shard that owns a tenant: its correlator and escalator (stable across
    processes and restarts)."""
    return zlib.crc32(tenant.encode()) % shards


def ray_cli() -> str:
    """Path of the ``ray`` command installed beside this Python (else the one on PATH)."""
    beside = Path(sys.executable).parent / "ray"
    found = str(beside) if beside.exists() else shutil.which("ray")
    if found is None:
        raise RuntimeError("the 'ray' command is not on PATH; is Vigil installed in this venv?")
    return found


HEAD_MARK = "VIGIL_RAY_HEAD"
"""Environment variable that marks every process of a Ray head ``vigil up`` started: the
GCS, the raylet, the dashboard and every worker inherit it, so ``vigil down`` stops
exactly those and never another Ray on the same machine."""


RAY_METRICS_ENV = {
    "RAY_enable_metrics_collection": "1",
    "RAY_task_events_report_interval_ms": "1000",
}
"""What ``vigil up --ray-metrics`` gives the head instead of ``LEAN_RAY_ENV``'s values:
Ray's metrics agent and task events on, for the Ray dashboard's metrics and task views."""


def start_local_head(
    num_cpus: int | None = None, dashboard_port: int = 8265, ray_metrics: bool = False
) -> str:
    """Start a local Ray head as a daemon that outlives this process (``ray start --head``),
    every port on loopback and a token required (``cluster.ray_access``); return the
    mark its processes carry. ``ray_metrics``: with Ray's own metrics on."""
    require_closed_ray()
    mark = f"head-{os.getpid()}-{time.time_ns()}"
    cmd = [
        ray_cli(),
        "start",
        "--head",
        "--disable-usage-stats",
        "--dashboard-host=127.0.0.1",
        f"--dashboard-port={dashboard_port}",
    ]
    if num_cpus is not None:
        cmd.append(f"--num-cpus={num_cpus}")
    env = {**LEAN_RAY_ENV, **os.environ, HEAD_MARK: mark}
    if ray_metrics:
        env.update(RAY_METRICS_ENV)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return mark


def head_processes(mark: str) -> list[psutil.Process]:
    """The running processes of the Ray head started with ``mark``."""
    found = []
    for process in psutil.process_iter(["environ"]):
        with contextlib.suppress(psutil.Error):
            environ = process.info.get("environ") or {}
            if environ.get(HEAD_MARK) == mark and process.pid != os.getpid():
                found.append(process)
    return found


def stop_local_head(mark: str, timeout: float = 5.0) -> int:
    """Stop the Ray head ``start_local_head`` started (SIGTERM, then SIGKILL what is left
    after ``timeout``); return how many processes it had. Nothing else is touched."""
    processes = head_processes(mark)
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive + head_processes(mark):  # workers a dying raylet just forked
        with contextlib.suppress(psutil.Error):
            process.kill()
    psutil.wait_procs(alive, timeout=5)
    if not local_ray_running():
        # As `ray stop` does: the newest cluster's address is no longer true, and a
        # later ray.init() would try to join it.
        CURRENT_CLUSTER_FILE.unlink(missing_ok=True)
    return len(processes)


CURRENT_CLUSTER_FILE = Path(tempfile.gettempdir()) / "ray" / "ray_current_cluster"
"""Where Ray records the address of the newest cluster started on this machine."""


def local_ray_running(timeout: float = 1.0) -> bool:
    """Whether the Ray cluster last started on this machine answers: its GCS accepts a
    connection. (``ray status`` answers the same question, but waits ~40 s for a GCS
    that is gone, which made every ``vigil up`` that long.)"""
    try:
        address = CURRENT_CLUSTER_FILE.read_text().strip()
        host, _, port = address.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def connect(address: str | None) -> Any:
    """Join the Ray cluster at ``address`` (``auto``: the local head) in Vigil's namespace."""
    return ray.init(
        ignore_reinit_error=True,
        address=address or "auto",
        namespace=NAMESPACE,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
