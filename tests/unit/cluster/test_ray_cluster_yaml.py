"""``ray-cluster.yaml`` starts its nodes with the Ray tuning ``vigil up`` gives a local
head (``LEAN_RAY_ENV``): a cluster's actors must not run at Ray's nice 15, nor its
proxies be killed after Ray's 5 s readiness checks, any more than a laptop's."""

from pathlib import Path

import pytest
import yaml

from cluster.runtime import LEAN_RAY_ENV

ROOT = Path(__file__).resolve().parents[3]
# `ray start --disable-usage-stats` says this one on the command line.
ON_THE_COMMAND_LINE = {"RAY_USAGE_STATS_ENABLED": "--disable-usage-stats"}


@pytest.mark.parametrize("commands", ["head_start_ray_commands", "worker_start_ray_commands"])
def test_every_node_starts_with_vigils_ray_tuning(commands: str) -> None:
    cluster = yaml.safe_load((ROOT / "ray-cluster.yaml").read_text())
    start = next(c for c in cluster[commands] if "ray start" in c)
    words = start.split()
    for name, value in LEAN_RAY_ENV.items():
        expected = ON_THE_COMMAND_LINE.get(name, f"{name}={value}")
        assert expected in words, f"{commands}: {expected} missing"
