"""Redis at its memory bound refuses new work with a 503 and keeps what it stored.

Before: Redis had no memory limit, so a flood grew it until the kernel killed it, and
an operator who set one with an evicting policy lost confirmed alerts silently.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from cluster.redis_client import sync_client
from tests.security.helpers import alert_total
from tests.system import Vigil, unique_labels

pytestmark = pytest.mark.integration


@pytest.fixture()
def full_redis(vigil: Vigil) -> Iterator[redis.Redis]:
    """The system's Redis with its bound just under what it holds, for one request."""
    client = sync_client(vigil.redis.url)
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory", str(max(used // 2, 1024 * 1024)))
    try:
        yield client
    finally:
        client.config_set("maxmemory", "4gb")
        client.close()


def test_a_batch_into_a_full_redis_is_a_503_and_nothing_is_stored(
    vigil: Vigil, full_redis: redis.Redis
) -> None:
    labels = unique_labels()
    alerts = [{"labels": {**labels, "n": str(i)}} for i in range(50)]
    r = vigil.session("acme").post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=60)
    assert r.status_code == 503, r.text
    assert "full" in r.json()["message"] and "nothing stored" in r.json()["message"]
    assert full_redis.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
    full_redis.config_set("maxmemory", "4gb")
    assert alert_total(vigil, "acme", labels["alertname"]) == 0
    r = vigil.session("acme").post(vigil.api("/bulk"), json={"alerts": alerts}, timeout=60)
    assert r.status_code == 202, r.text  # room again: the same batch is taken
