"""The configuration each tenant runs with, in its audit trail.

``vigil up`` calls ``record_applied`` once it has loaded the file: every tenant whose
section changed since the last start (its SHA-256, kept in ``keys.config_applied``) gets
a ``config.apply`` entry naming the file and the new digest. So the trail says from
when each tenant's routing, escalation, schedules, tier and keys were in force.
"""

from __future__ import annotations

import hashlib
import json

import redis

from alerting.audit import AuditAction
from cluster import keys
from cluster.audit_store import AuditTrail
from cluster.config import VigilConfig
from cluster.redis_client import text


def section_digest(config: VigilConfig, tenant: str) -> str:
    """The SHA-256 of a tenant's section, as loaded (key order and formatting aside)."""
    section = config.tenant(tenant)
    document = section.model_dump(mode="json") if section is not None else None
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def record_applied(
    client: redis.Redis, trail: AuditTrail, config: VigilConfig, origin: str, actor: str
) -> list[str]:
    """Audit every tenant whose section differs from the last one applied; those tenants."""
    applied = {text(k): text(v) for k, v in client.hgetall(keys.config_applied()).items()}
    changed = []
    for section in config.tenants:
        digest = section_digest(config, section.id)
        if applied.get(section.id) == digest:
            continue
        detail = {"file": origin, "sha256": digest}
        trail.append(section.id, actor, AuditAction.CONFIG_APPLY, "configuration", detail)
        client.hset(keys.config_applied(), section.id, digest)
        changed.append(section.id)
    return changed
