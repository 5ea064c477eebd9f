"""Which tenant, and which of its keys, a request's key is: keys in the config file and
keys made at run time, each with a label, each revocable.

Two kinds of key: API keys (``vgl_...``, the whole tenant API) and integration keys
(32 hex digits like PagerDuty's, accepted only as the ``routing_key`` of events).
Keys are stored only as SHA-256 digests. A key is named by its id, the first 12 hex
digits of its digest: enough to tell a tenant's keys apart, useless to an attacker.

Every change a key makes is attributed to its label (``Principal.actor``), so the
record says which key acted whatever name a client writes in its body.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, replace

import redis
import redis.asyncio as aioredis

from cluster import keys
from cluster.config import VigilConfig, hash_api_key
from cluster.redis_client import text

API_KEY_PREFIX = "vgl_"
KEY_ID_LENGTH = 12
SCAN_BATCH = 1000


def key_id(digest: str) -> str:
    """A key's public name: the start of its digest."""
    return digest[:KEY_ID_LENGTH]


@dataclass(frozen=True)
class Principal:
    """Who a request is: the tenant, and which of its keys (by id and label)."""

    tenant: str
    key_id: str
    label: str = ""

    @property
    def actor(self) -> str:
        """The name changes are recorded under: the key's label, else its id."""
        return self.label or f"key {self.key_id}"

    def attributed(self, claimed: str | None) -> str:
        """The ``by`` of a change: the key's name, with what the client said kept as a
        note (a client may name anyone; only the key is proven)."""
        if not claimed or claimed == self.actor:
            return self.actor
        return f"{self.actor} (says {claimed})"


@dataclass(frozen=True)
class KeyInfo:
    """One key of a tenant, as ``vigil tenant keys`` lists it (never the key itself)."""

    key_id: str
    tenant: str
    label: str
    kind: str  # "api" or "integration"
    source: str  # "config" or "runtime"
    created_at: float | None = None
    revoked_at: float | None = None


def new_api_key() -> str:
    """A fresh random API key (256 bits), recognisable by its prefix in secret scanners."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def new_integration_key() -> str:
    """A fresh integration key in PagerDuty's shape (32 lower-case hex digits, 128 bits)."""
    return secrets.token_hex(16)


def _record(tenant: str, label: str, at: float) -> str:
    return json.dumps({"tenant": tenant, "label": label, "created_at": at})


def _parse(raw: bytes | str) -> tuple[str, str, float | None]:
    """(tenant, label, created_at) of a registry value; a bare tenant id is a key made
    before keys had labels."""
    value = text(raw)
    if not value.startswith("{"):
        return value, "", None
    record = json.loads(value)
    created = record.get("created_at")
    return str(record["tenant"]), str(record.get("label", "")), created


def _registry(integration: bool) -> str:
    return keys.integration_keys() if integration else keys.api_keys()


def create_key(
    client: redis.Redis, tenant: str, label: str = "", *, integration: bool = False
) -> tuple[str, KeyInfo]:
    """Register ``tenant`` (if new) with a new key; the key (shown once, stored as a
    hash) and what is kept of it."""
    keys.check_tenant_id(tenant)
    key = new_integration_key() if integration else new_api_key()
    digest, now = hash_api_key(key), time.time()
    with client.pipeline(transaction=True) as pipe:
        pipe.sadd(keys.tenants(), tenant)
        pipe.srem(keys.deleted_tenants(), tenant)  # made again on purpose
        pipe.hset(_registry(integration), digest, _record(tenant, label, now))
        pipe.execute()
    kind = "integration" if integration else "api"
    return key, KeyInfo(key_id(digest), tenant, label, kind, "runtime", now)


def runtime_keys(
    client: redis.Redis, tenant: str, *, integration: bool
) -> list[tuple[str, KeyInfo]]:
    """The tenant's keys of one kind made at run time, each with its full digest."""
    kind = "integration" if integration else "api"
    found = []
    for raw_digest, raw in client.hscan_iter(_registry(integration), count=SCAN_BATCH):
        owner, label, created = _parse(raw)
        if owner == tenant:
            digest = text(raw_digest)
            found.append((digest, KeyInfo(key_id(digest), tenant, label, kind, "runtime", created)))
    return found


def _digests(client: redis.Redis, config: VigilConfig, tenant: str) -> list[tuple[str, KeyInfo]]:
    """Every key of the tenant with its full digest, configured ones first."""
    found: list[tuple[str, KeyInfo]] = []
    section = config.tenant(tenant)
    for kind, configured in (
        ("api", section.api_keys if section else []),
        ("integration", section.integration_keys if section else []),
    ):
        for k in configured:
            found.append((k.sha256, KeyInfo(key_id(k.sha256), tenant, k.label, kind, "config")))
    for integration in (False, True):
        found += runtime_keys(client, tenant, integration=integration)
    revoked = client.hgetall(keys.revoked_keys())
    marked: list[tuple[str, KeyInfo]] = []
    for digest, info in found:
        mark = revoked.get(digest.encode())
        if mark is not None:
            info = replace(info, revoked_at=json.loads(text(mark))["at"])
        marked.append((digest, info))
    return marked


def list_keys(client: redis.Redis, config: VigilConfig, tenant: str) -> list[KeyInfo]:
    """The tenant's keys (configured and made at run time), revoked ones marked."""
    return [info for _, info in _digests(client, config, tenant)]


def revoke_key(
    client: redis.Redis, config: VigilConfig, tenant: str, wanted: str, reason: str = ""
) -> KeyInfo:
    """Revoke the tenant's key whose id is ``wanted`` (``LookupError``: no such key).

    The digest goes to the revoked set, which every lookup checks first, configured
    keys included (a key in the file stays refused until it is removed from the file
    too). A run-time key's record stays, so ``vigil tenant keys`` still lists it, as
    revoked.
    """
    matches = [(d, i) for d, i in _digests(client, config, tenant) if i.key_id == wanted]
    if not matches:
        raise LookupError(f"tenant {tenant!r} has no key {wanted!r} (see 'vigil tenant keys')")
    digest, info = matches[0]
    now = time.time()
    client.hset(keys.revoked_keys(), digest, revocation(tenant, now, reason))
    return replace(info, revoked_at=now)


def revocation(tenant: str, at: float, why: str) -> str:
    """What the revoked set keeps of a revoked key: whose, when and why."""
    return json.dumps({"tenant": tenant, "at": at, "why": why})


class TenantResolver:
    """Maps keys of one kind to principals: configured keys, then Redis, with a short cache.

    Every lookup also asks whether the key was revoked, so a revocation reaches every
    replica within the cache's TTL (``CRITICAL_ALERT_CACHE_TTL``). Lookups of unknown
    keys are cached too (negatively), so a client hammering with a bad key costs one
    Redis read per TTL, not one per request.
    """

    def __init__(
        self,
        config: VigilConfig,
        client: aioredis.Redis,
        ttl_seconds: float,
        *,
        integration: bool = False,
    ) -> None:
        self._static: dict[str, Principal] = {}
        for section in config.tenants:
            for k in section.integration_keys if integration else section.api_keys:
                self._static[k.sha256] = Principal(section.id, key_id(k.sha256), k.label)
        self._registry = _registry(integration)
        self._client = client
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    async def principal_for(self, api_key: str) -> Principal | None:
        """Who the key is, or ``None`` for an unknown or revoked key."""
        digest = hash_api_key(api_key)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = await self._look_up(digest)
        if len(self._cache) > 10_000:
            self._cache.clear()  # bounded: a flood of random keys cannot grow it forever
        self._cache[digest] = (now + self._ttl, principal)
        return principal

    async def _look_up(self, digest: str) -> Principal | None:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.hexists(keys.revoked_keys(), digest)
            pipe.hget(self._registry, digest)
            revoked, raw = await pipe.execute()
        if revoked:
            return None
        static = self._static.get(digest)
        if static is not None:
            return static
        if raw is None:
            return None
        tenant, label, _ = _parse(raw)
        return Principal(tenant, key_id(digest), label)


def all_tenants(client: redis.Redis, config: VigilConfig) -> list[str]:
    """Every tenant: those in the configuration file and those made at run time."""
    made = {text(t) for t in client.smembers(keys.tenants())}
    return sorted({t.id for t in config.tenants} | made)
