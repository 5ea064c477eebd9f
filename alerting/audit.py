"""A tenant's audit trail: who changed what, in a chain no one can edit unseen.

Every entry is sealed with an HMAC-SHA256 over its own fields, its tenant and the seal
of the entry before it. Whoever lacks the audit key (held by the operator, never stored
in Redis) cannot forge a seal, so editing an entry breaks its seal, deleting or
reordering entries breaks the chain of ``prev`` seals and sequence numbers, and moving
an entry to another tenant breaks its seal too. Only dropping the newest entries leaves
a valid shorter chain; the trail's head (its last sequence number and seal) is kept
apart and checked, and ``vigil audit verify`` prints it so an operator can anchor it
elsewhere.

Pure: the caller passes the time and stores the entries (``cluster/audit_store.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class AuditAction(StrEnum):
    """What an entry records."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    FEEDBACK = "feedback"
    SILENCE_CREATE = "silence.create"
    SILENCE_UPDATE = "silence.update"
    SILENCE_EXPIRE = "silence.expire"
    CONFIG_APPLY = "config.apply"
    SECRET_SET = "secret.set"
    SECRET_DELETE = "secret.delete"
    KEY_CREATE = "key.create"
    KEY_REVOKE = "key.revoke"
    KEY_ROTATE = "key.rotate"
    PERSON_ERASE = "person.erase"
    TENANT_DELETE = "tenant.delete"
    TIMELINE_ARCHIVE = "timeline.archive"


@dataclass(frozen=True)
class AuditEntry:
    """One sealed entry: the ``seq``-th change of a tenant, made by ``actor``."""

    seq: int
    at: float  # epoch seconds
    actor: str  # the authenticated key's label, or the operator's command
    action: AuditAction
    target: str  # what was changed: an alert, incident, silence, key id, secret name
    detail: Mapping[str, Any] = field(default_factory=dict)
    prev: str = ""  # the previous entry's seal ("" for the first)
    seal: str = ""

    def to_record(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action.value,
            "target": self.target,
            "detail": dict(self.detail),
            "prev": self.prev,
            "seal": self.seal,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> AuditEntry:
        return cls(
            seq=int(record["seq"]),
            at=float(record["at"]),
            actor=str(record["actor"]),
            action=AuditAction(record["action"]),
            target=str(record["target"]),
            detail=dict(record.get("detail") or {}),
            prev=str(record.get("prev", "")),
            seal=str(record.get("seal", "")),
        )


def _signed_bytes(tenant: str, entry: AuditEntry) -> bytes:
    """The bytes a seal covers: every field but the seal, and the tenant, canonically."""
    fields = entry.to_record()
    del fields["seal"]
    fields["tenant"] = tenant
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def seal(key: bytes, tenant: str, entry: AuditEntry) -> AuditEntry:
    """``entry`` with its seal computed (its ``prev`` must already be set)."""
    mac = hmac.new(key, _signed_bytes(tenant, entry), hashlib.sha256).hexdigest()
    return replace(entry, seal=mac)


def next_entry(
    key: bytes,
    tenant: str,
    head: tuple[int, str] | None,
    *,
    at: float,
    actor: str,
    action: AuditAction,
    target: str,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """The sealed entry that follows ``head`` (the last entry's sequence number and seal)."""
    seq, prev = head if head is not None else (0, "")
    entry = AuditEntry(seq + 1, at, actor, action, target, dict(detail or {}), prev)
    return seal(key, tenant, entry)


@dataclass(frozen=True)
class Verdict:
    """What checking a trail found: how many entries held, and the first problem."""

    checked: int
    problem: str | None = None
    head: tuple[int, str] | None = None  # the last good entry's (seq, seal)

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(
    key: bytes, tenant: str, entries: Iterable[AuditEntry], head: tuple[int, str] | None
) -> Verdict:
    """Check every seal, the chain and the stored ``head``; the first break is reported."""
    expected_prev, expected_seq, checked = "", 1, 0
    last: tuple[int, str] | None = None
    for entry in entries:
        problem = None
        if entry.seq != expected_seq:
            problem = f"entry {expected_seq} is missing (found {entry.seq})"
        elif entry.prev != expected_prev:
            problem = f"entry {entry.seq} does not follow entry {entry.seq - 1}"
        elif not hmac.compare_digest(seal(key, tenant, entry).seal, entry.seal):
            problem = f"entry {entry.seq} was altered (its seal does not match)"
        if problem is not None:
            return Verdict(checked, problem, last)
        checked += 1
        expected_prev, expected_seq = entry.seal, entry.seq + 1
        last = (entry.seq, entry.seal)
    if head != last:
        stored = "none" if head is None else f"entry {head[0]}"
        found = "none" if last is None else f"entry {last[0]}"
        problem = f"the trail's head names {stored}, but its last entry is {found}"
        return Verdict(checked, problem, last)
    return Verdict(checked, None, last)
