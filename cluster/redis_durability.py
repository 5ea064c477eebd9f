"""Whether a Redis keeps what it confirmed: Vigil answers 202 only after Redis did, so a
Redis without an append-only file would lose acknowledged alerts in a restart."""

from __future__ import annotations

import redis


def persistence_problem(client: redis.Redis) -> str | None:
    """What makes this Redis lose confirmed writes on a restart, or ``None``.

    ``appendonly no`` loses everything since the last snapshot (or everything);
    ``appendfsync no`` leaves it to the kernel, up to ~30 s; an eviction policy other
    than ``noeviction`` deletes keys when memory runs out (Vigil wants the write
    refused instead: a 503 the sender retries). A server that refuses
    ``CONFIG GET`` (some managed services) cannot be checked: that is said too.
    """
    try:
        found = client.config_get("append*")
    except redis.ResponseError as exc:
        return f"cannot verify its persistence (CONFIG GET refused: {exc})"
    if found.get("appendonly") != "yes":
        return "appendonly is off: a restart loses acknowledged alerts"
    if found.get("appendfsync") == "no":
        return "appendfsync is 'no': a crash loses up to ~30 s of acknowledged alerts"
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy", "noeviction")
    except redis.ResponseError as exc:
        return f"cannot verify its eviction policy (CONFIG GET refused: {exc})"
    if policy != "noeviction":
        return f"maxmemory-policy is {policy!r}: when full it evicts stored alerts"
    return None
