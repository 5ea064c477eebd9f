"""Deleting a tenant: every key it has, verified gone, and nothing left that writes more.

The order makes it safe against a live system and against a crash at any step:

1. the tenant is marked deleted (``keys.deleted_tenants``): from then on none of its
   actors can start (``TenantActor`` refuses in ``__init__``), so no request, however
   it got past authentication, can write for it again;
2. every key of the tenant is revoked (within the key cache's TTL, requests are
   refused as unauthenticated rather than failing to start an actor);
3. the running actors let go (the command kills the tenant's actor and asks its
   correlator to forget it: ``cli/tenant_delete.py``);
4. every ``<tenant>:*`` key, its registry entries and its loop heartbeats are deleted;
5. a scan proves nothing of the tenant is left.

Each step can be run again: a deletion cut short is finished by running it again.
The mark stays, so a straggler that wakes later still cannot write; ``create_key``
removes it when the tenant is re-created on purpose. The audit trail goes with the
tenant; the deletion itself is written to the system trail (``vigil:audit``).
"""

from __future__ import annotations

import redis

from cluster import keys
from cluster.errors import TenantDeleted
from cluster.loop_beats import forget_beats_sync
from cluster.redis_client import sync_client, text
from cluster.tenants import key_id, revocation, runtime_keys

SCAN_BATCH = 1000


def mark_deleted(client: redis.Redis, tenant: str) -> None:
    """Step 1: no actor of the tenant starts from now on."""
    client.sadd(keys.deleted_tenants(), tenant)


def is_deleted(client: redis.Redis, tenant: str) -> bool:
    return bool(client.sismember(keys.deleted_tenants(), tenant))


def refuse_if_deleted(tenant: str, redis_url: str) -> None:
    """For an actor's ``__init__``: ``TenantDeleted`` if the tenant is marked deleted
    (one read; the actor does not start, so it cannot write for the tenant again)."""
    client = sync_client(redis_url)
    try:
        if is_deleted(client, tenant):
            raise TenantDeleted(f"tenant {tenant!r} was deleted")
    finally:
        client.close()


def _runtime_digests(client: redis.Redis, tenant: str) -> list[tuple[str, str]]:
    """(registry, digest) of every key of the tenant made at run time."""
    return [
        (keys.integration_keys() if integration else keys.api_keys(), digest)
        for integration in (False, True)
        for digest, _ in runtime_keys(client, tenant, integration=integration)
    ]


def revoke_all(client: redis.Redis, tenant: str, at: float, why: str) -> int:
    """Step 2: every run-time key of the tenant revoked; how many."""
    digests = [digest for _, digest in _runtime_digests(client, tenant)]
    if digests:
        mark = revocation(tenant, at, why)
        client.hset(keys.revoked_keys(), mapping=dict.fromkeys(digests, mark))
    return len(digests)


def tenant_keys(client: redis.Redis, tenant: str) -> list[str]:
    """Every Redis key of the tenant."""
    pattern = keys.TENANT_KEYS.format(tenant=tenant)
    return sorted(text(k) for k in client.scan_iter(match=pattern, count=SCAN_BATCH))


def delete_data(client: redis.Redis, tenant: str) -> int:
    """Step 4: the tenant's keys, registry entries and heartbeats; how many keys went."""
    found = tenant_keys(client, tenant)
    for start in range(0, len(found), SCAN_BATCH):
        client.delete(*found[start : start + SCAN_BATCH])
    for registry, digest in _runtime_digests(client, tenant):
        client.hdel(registry, digest)
    client.srem(keys.tenants(), tenant)
    forget_beats_sync(client, tenant)
    return len(found)


def leftovers(client: redis.Redis, tenant: str) -> list[str]:
    """Step 5: what of the tenant is still stored (empty when the deletion is done)."""
    left = tenant_keys(client, tenant)
    left += [
        f"{registry} {key_id(digest)}" for registry, digest in _runtime_digests(client, tenant)
    ]
    if client.sismember(keys.tenants(), tenant):
        left.append(f"{keys.tenants()} {tenant}")
    return left
