"""The embedded Redis is closed to other local users, and `vigil up` refuses an external
Redis that would lose confirmed writes.

Before, the embedded server took no password and its append-only file was 0644: any
local user could read every tenant's alerts, or add a key hash and take a tenant over.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from cluster.redis_durability import persistence_problem
from cluster.redis_server import EmbeddedRedis

VIGIL = str(Path(sys.executable).parent / "vigil")


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "data")
    server.start()
    yield server
    server.stop()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_embedded_redis_needs_its_password(embedded: EmbeddedRedis) -> None:
    port = int(embedded.port_file.read_text())
    anonymous = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    with pytest.raises(redis.AuthenticationError):
        anonymous.set("tenants", "mine")
    anonymous.close()
    with redis.Redis.from_url(embedded.url) as client:  # the URL Vigil uses carries it
        assert client.ping() and client.get("tenants") is None


def test_the_embedded_redis_files_are_the_owners_only(embedded: EmbeddedRedis) -> None:
    with redis.Redis.from_url(embedded.url) as client:
        client.set("a", "b")  # so the append-only file has content
    assert mode(embedded.dir) == 0o700
    files = [p for p in embedded.dir.rglob("*") if p.is_file()]
    assert any("appendonly" in p.name for p in files), files
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}


def test_a_volatile_redis_is_named_as_such(embedded: EmbeddedRedis) -> None:
    with redis.Redis.from_url(embedded.url) as client:
        assert persistence_problem(client) is None
        client.config_set("appendonly", "no")
        problem = persistence_problem(client)
        assert problem is not None and "appendonly is off" in problem


def test_the_embedded_redis_fsyncs_every_reply_and_rewrites_rarely(
    embedded: EmbeddedRedis,
) -> None:
    # Every reply waits for its fsync (202 means on disk); a rewrite, which stalls those
    # fsyncs while it writes the data set, comes at 4x the last size, from 256 MB.
    with redis.Redis.from_url(embedded.url, decode_responses=True) as client:
        found = client.config_get("a*")
    assert found["appendonly"] == "yes" and found["appendfsync"] == "always"
    assert found["auto-aof-rewrite-percentage"] == "300"
    assert int(found["auto-aof-rewrite-min-size"]) == 256 * 2**20


def test_up_refuses_a_volatile_redis(embedded: EmbeddedRedis, tmp_path: Path) -> None:
    with redis.Redis.from_url(embedded.url) as client:
        client.config_set("appendonly", "no")
    env = {**os.environ, "REDIS_URL": embedded.url, "VIGIL_DATA_DIR": str(tmp_path / "vigil")}
    haproxy_dirs = set(Path("/tmp").glob("vigil-haproxy-*"))  # where `vigil up` makes one
    result = subprocess.run(
        [VIGIL, "up", "--detach"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "appendonly is off" in result.stderr
    assert not (tmp_path / "vigil" / "state.json").exists()  # nothing was started
    assert set(Path("/tmp").glob("vigil-haproxy-*")) == haproxy_dirs  # nor left behind
    assert embedded.url.split("@")[0].split(":")[-1] not in result.stderr  # no password


def test_a_full_redis_refuses_writes_and_never_evicts(embedded: EmbeddedRedis) -> None:
    with redis.Redis.from_url(embedded.url) as client:
        found = client.config_get("maxmemory*")
        assert found["maxmemory-policy"] == "noeviction"
        assert int(found["maxmemory"]) == 4 * 1024**3
        client.config_set("maxmemory-policy", "allkeys-lru")
        problem = persistence_problem(client)
        assert problem is not None and "evicts stored alerts" in problem
