"""Ray: start a local head or join a cluster, and the names actors live under."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import ray

NAMESPACE = "vigil"


def tenant_actor_name(tenant: str) -> str:
    """The stable name of a tenant's actor in the ``vigil`` namespace."""
    return f"tenant:{tenant}"


def ray_cli() -> str:
    """Path of the ``ray`` command installed beside this Python (else the one on PATH)."""
    beside = Path(sys.executable).parent / "ray"
    found = str(beside) if beside.exists() else shutil.which("ray")
    if found is None:
        raise RuntimeError("the 'ray' command is not on PATH; is Vigil installed in this venv?")
    return found


def start_local_head(num_cpus: int | None = None, dashboard_port: int = 8265) -> None:
    """Start a local Ray head as a daemon that outlives this process (``ray start --head``)."""
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
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def stop_local_ray() -> None:
    """Stop every Ray process this machine's ``ray start`` left running."""
    subprocess.run([ray_cli(), "stop", "--force"], check=False, stdout=subprocess.DEVNULL)


def local_ray_running() -> bool:
    """Whether a Ray head started with ``ray start`` answers on this machine."""
    result = subprocess.run(
        [ray_cli(), "status"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return result.returncode == 0


def connect(address: str | None) -> Any:
    """Join the Ray cluster at ``address`` (``auto``: the local head) in Vigil's namespace."""
    return ray.init(
        ignore_reinit_error=True,
        address=address or "auto",
        namespace=NAMESPACE,
        log_to_driver=False,
        logging_level=logging.WARNING,
    )
