"""Vigil's actors run at the priority of whoever started Vigil, not below it.

Ray starts its workers at nice 15 unless told otherwise, and every Vigil actor (the
escalator, the tenants, the ingress) is a Ray worker: beside one CPU-bound process at
nice 0 they got a few percent of a core, and ``vigil up`` took 261 s instead of 20 s
(``cluster/runtime.py``, ``LEAN_RAY_ENV``). ``test_cli_lifecycle`` checks the head
``vigil up`` starts; this checks the Ray the tests share, started as ``init_local`` does.
"""

from __future__ import annotations

import os

import pytest
import ray

pytestmark = pytest.mark.integration


@ray.remote(num_cpus=0)
def worker_niceness() -> tuple[int, int]:
    """The niceness of the worker that runs this, and its pid (not the driver's)."""
    return os.nice(0), os.getpid()


def test_ray_workers_run_at_the_drivers_priority(ray_cluster: None) -> None:
    niceness, pid = ray.get(worker_niceness.remote(), timeout=120)
    assert pid != os.getpid()  # it ran in a worker process
    assert niceness == os.nice(0)
