"""The escalator's secret cache against a real Redis: a snapshot reads what is stored,
a changed or re-encrypted secret is read anew, and a secret that cannot be decrypted
names itself in the error, never its value."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis
from cryptography.fernet import Fernet
from redis import asyncio as aioredis

from cluster.errors import SecretError
from cluster.redis_server import EmbeddedRedis
from cluster.secret_cache import SecretCache
from cluster.secrets import SecretBox, SecretStore, rotate_all
from cluster.settings import Settings
from tests.system import other_database

pytestmark = pytest.mark.integration

DB = 8  # a database of the session's Redis no other test uses


async def test_snapshots_follow_changes_rotation_and_tampering(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    url = other_database(redis_server.url, DB)
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = Settings(REDIS_URL=url, VIGIL_DATA_DIR=tmp_path, VIGIL_ENCRYPTION_KEYS=old)
    client = redis.Redis.from_url(url)
    store = SecretStore(client, "acme", SecretBox([old.encode()]))
    store.set("hook-url", "https://hooks.example/one")
    async_redis = aioredis.Redis.from_url(url)
    cache = SecretCache(async_redis, "acme", settings)

    first = await cache.snapshot()
    assert first.get("hook-url") == "https://hooks.example/one"
    assert first.names() == ["hook-url"] and "hooks.example" not in repr(first)
    with pytest.raises(SecretError, match="has no secret 'nope'"):
        first.get("nope")

    store.set("hook-url", "https://hooks.example/two")
    assert (await cache.snapshot()).get("hook-url") == "https://hooks.example/two"

    # Rotated under a new primary key that the escalator's settings also carry.
    cache.settings = Settings(
        REDIS_URL=url, VIGIL_DATA_DIR=tmp_path, VIGIL_ENCRYPTION_KEYS=f"{new},{old}"
    )
    rotate_all(client, SecretBox([new.encode(), old.encode()]))
    assert (await cache.snapshot()).get("hook-url") == "https://hooks.example/two"

    client.hset("acme:secrets", "hook-url", b"gAAAAA-not-a-token")
    broken = await cache.snapshot()
    with pytest.raises(SecretError, match="'hook-url' of tenant 'acme' cannot be decrypted"):
        broken.get("hook-url")
    store.delete("hook-url")
    assert (await cache.snapshot()).names() == []
    await async_redis.aclose()
    client.close()
