"""Where a tenant's audit trail is kept: a Redis list of sealed entries and its head.

Appending reads the head, seals the next entry over it and writes both in one
transaction that ``WATCH``es the head: two writers at once (two ingress replicas, a
replica and a ``vigil`` command) cannot both extend the same head, the loser retries
on the new one, so the chain never forks. A crash before ``EXEC`` writes nothing; after
it, the entry and the head are both there.

The seal key (``audit_key``) is the operator's: ``VIGIL_AUDIT_KEY``, or a 0600 file in
the data dir made once. It is never written to Redis, so whoever can write Redis but
not read that key can delete or edit entries, but cannot do so unseen.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

import redis

from alerting.audit import AuditAction, AuditEntry, Verdict, next_entry, verify
from cluster import keys
from cluster.redis_client import text
from cluster.secret_file import ensure_secret_file
from cluster.settings import Settings

AUDIT_KEY_FILE = "audit-key"
PAGE = 500


def audit_key(settings: Settings) -> bytes:
    """The key that seals audit entries: ``VIGIL_AUDIT_KEY``, else the data dir's file."""
    if settings.audit_key is not None:
        return settings.audit_key.get_secret_value().encode()
    return ensure_secret_file(settings.data_dir / AUDIT_KEY_FILE, 32).encode()


def _head(raw: Any) -> tuple[int, str] | None:
    if raw is None:
        return None
    seq, _, mac = text(raw).partition(" ")
    return int(seq), mac


class AuditTrail:
    """A tenant's trail over a synchronous Redis client (the ingress calls it in a thread)."""

    def __init__(self, client: redis.Redis, key: bytes) -> None:
        self._client = client
        self._key = key

    def append(
        self,
        tenant: str,
        actor: str,
        action: AuditAction,
        target: str,
        detail: Mapping[str, Any] | None = None,
        at: float | None = None,
    ) -> AuditEntry:
        """Seal and store the tenant's next entry; the stored entry."""
        head_key = keys.audit_head(tenant)
        sealed: list[AuditEntry] = []

        def extend(pipe: Any) -> None:
            entry = next_entry(
                self._key,
                tenant,
                _head(pipe.get(head_key)),
                at=time.time() if at is None else at,
                actor=actor,
                action=action,
                target=target,
                detail=detail,
            )
            pipe.multi()
            pipe.rpush(keys.audit(tenant), json.dumps(entry.to_record(), separators=(",", ":")))
            pipe.set(head_key, f"{entry.seq} {entry.seal}")
            sealed[:] = [entry]

        self._client.transaction(extend, head_key)
        return sealed[0]

    def entries(self, tenant: str, start: int = 0, count: int | None = None) -> list[AuditEntry]:
        """Entries from the ``start``-th (0 is the oldest), at most ``count`` of them."""
        stop = -1 if count is None else start + count - 1
        raw = self._client.lrange(keys.audit(tenant), start, stop)
        return [AuditEntry.from_record(json.loads(text(r))) for r in raw]

    def length(self, tenant: str) -> int:
        return int(self._client.llen(keys.audit(tenant)))

    def head(self, tenant: str) -> tuple[int, str] | None:
        return _head(self._client.get(keys.audit_head(tenant)))

    def _snapshot(self, tenant: str) -> tuple[tuple[int, str] | None, int]:
        """The head and the trail's length, read together (one transaction)."""
        with self._client.pipeline(transaction=True) as pipe:
            pipe.get(keys.audit_head(tenant))
            pipe.llen(keys.audit(tenant))
            raw_head, length = pipe.execute()
        return _head(raw_head), int(length)

    def _first(self, tenant: str, length: int) -> Iterator[AuditEntry]:
        for start in range(0, length, PAGE):
            yield from self.entries(tenant, start, min(PAGE, length - start))

    def verify(self, tenant: str) -> Verdict:
        """Check the tenant's trail, as it stood when the check began, against its seals
        and its head (entries appended during the check are left for the next one)."""
        head, length = self._snapshot(tenant)
        return verify(self._key, tenant, self._first(tenant, length), head)
