"""Which tenant a key belongs to, from the config file and from keys made at run time.

Two kinds of key: API keys (``vgl_...``, the whole tenant API) and integration keys
(32 hex digits like PagerDuty's, accepted only as the ``routing_key`` of events).
"""

from __future__ import annotations

import secrets
import time

import redis
import redis.asyncio as aioredis

from cluster import keys
from cluster.config import VigilConfig, hash_api_key

API_KEY_PREFIX = "vgl_"


def new_api_key() -> str:
    """A fresh random API key (256 bits), recognisable by its prefix in secret scanners."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def _register(client: redis.Redis, tenant: str, registry: str, key: str) -> str:
    """Register ``tenant`` (if new) and ``key`` for it in ``registry``, stored as a hash."""
    keys.check_tenant_id(tenant)
    with client.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.tenants(), tenant)
        pipe.hset(registry, hash_api_key(key), tenant)
        pipe.execute()
    return key


def create_tenant(client: redis.Redis, tenant: str) -> str:
    """Register ``tenant`` (if new) with a new API key; return the key, stored only as a hash."""
    return _register(client, tenant, keys.api_keys(), new_api_key())


def new_integration_key() -> str:
    """A fresh integration key in PagerDuty's shape (32 lower-case hex digits, 128 bits)."""
    return secrets.token_hex(16)


def create_integration_key(client: redis.Redis, tenant: str) -> str:
    """Register a new integration key for ``tenant``; return it (stored only as a hash)."""
    return _register(client, tenant, keys.integration_keys(), new_integration_key())


class TenantResolver:
    """Maps keys of one kind to tenants: configured keys first, then Redis, with a short cache.

    Lookups of unknown keys are cached too (negatively), so a client hammering with a
    bad key costs one Redis read per TTL, not one per request.
    """

    def __init__(
        self,
        config: VigilConfig,
        client: aioredis.Redis,
        ttl_seconds: float,
        *,
        integration: bool = False,
    ) -> None:
        self._static = config.integration_key_hashes() if integration else config.key_hashes()
        self._registry = keys.integration_keys() if integration else keys.api_keys()
        self._client = client
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, str | None]] = {}

    async def tenant_for(self, api_key: str) -> str | None:
        """The tenant id the key belongs to, or ``None`` for an unknown key."""
        digest = hash_api_key(api_key)
        tenant = self._static.get(digest)
        if tenant is not None:
            return tenant
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        raw = await self._client.hget(self._registry, digest)
        tenant = raw.decode() if isinstance(raw, bytes) else raw
        if len(self._cache) > 10_000:
            self._cache.clear()  # bounded: a flood of random keys cannot grow it forever
        self._cache[digest] = (now + self._ttl, tenant)
        return tenant
