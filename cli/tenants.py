"""``vigil tenant ...`` (tenants and their keys) and ``vigil audit ...``.

vigil tenant create NAME [--label L]           register a tenant, print its first API key
vigil tenant integration-key NAME [--label L]  a PagerDuty-style integration key
vigil tenant create-key NAME --label L         another API key (one per person or program)
vigil tenant keys NAME                         ids, labels, where kept, revoked or not
vigil tenant revoke-key NAME KEY_ID            refuse the key from now on (within the
                                               key cache's TTL on every replica)
vigil tenant rotate-key NAME KEY_ID            a new key with the same label, the old
                                               one revoked
vigil audit verify [--tenant T]                check every seal, the chain and the head
vigil audit show TENANT [--last N]             the newest entries

Keys are printed once, when made, and stored only as hashes. Every key change is
written to the tenant's audit trail, as the operator's command.
"""

from __future__ import annotations

import argparse
import time

import redis

from alerting.audit import AuditAction
from cli.command_redis import command_client
from cli.operator import operator
from cluster import keys
from cluster.audit_store import AuditTrail, audit_key
from cluster.config import load_config
from cluster.settings import Settings
from cluster.tenants import KeyInfo, all_tenants, create_key, list_keys, revoke_key


def _say(message: str) -> None:
    print(message, flush=True)


def _stamp(at: float | None) -> str:
    return "-" if at is None else time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(at))


def run_tenant_command(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch ``vigil tenant ...``."""
    try:
        keys.check_tenant_id(args.name)
    except ValueError as exc:
        _say(f"vigil: {exc}")
        return 2
    command = args.tenant_command
    if command in ("keys", "revoke-key", "rotate-key"):  # configured keys count too
        config = load_config(settings.config_path, settings.max_escalation_levels)
    with command_client(settings) as client:
        trail = AuditTrail(client, audit_key(settings))
        if command == "keys":
            _print_keys(list_keys(client, config, args.name))
            return 0
        if command in ("revoke-key", "rotate-key"):
            reason = getattr(args, "reason", "") or f"{command} by {operator()}"
            try:
                old = revoke_key(client, config, args.name, args.key_id, reason)
            except LookupError as exc:
                _say(f"vigil: {exc}")
                return 1
            if command == "revoke-key":
                detail = {"label": old.label, "reason": reason}
                trail.append(args.name, operator(), AuditAction.KEY_REVOKE, old.key_id, detail)
                _say(f"revoked       key {old.key_id} ({old.label or 'no label'}) of {args.name}")
                _say(f"              refused everywhere within {settings.cache_ttl_seconds:g} s")
                if old.source == "config":
                    _say("              it is in the config file: remove it there too")
                return 0
            return _made(client, trail, args.name, old.label, old.kind == "integration", old)
        integration = command == "integration-key"
        return _made(client, trail, args.name, args.label, integration, None)


def _made(
    client: redis.Redis,
    trail: AuditTrail,
    tenant: str,
    label: str,
    integration: bool,
    replaces: KeyInfo | None,
) -> int:
    """Make a key, audit it, and print it once."""
    key, info = create_key(client, tenant, label, integration=integration)
    detail = {"label": label, "kind": info.kind}
    if replaces is None:
        trail.append(tenant, operator(), AuditAction.KEY_CREATE, info.key_id, detail)
    else:
        detail["replaces"] = replaces.key_id
        trail.append(tenant, operator(), AuditAction.KEY_ROTATE, info.key_id, detail)
        _say(f"revoked       key {replaces.key_id} of {tenant}")
    kind = "integration key (PagerDuty routing_key)" if integration else "API key"
    _say(f"tenant {tenant}: new {kind} {info.key_id} ({label or 'no label'}), shown only now:")
    _say(key)
    return 0


def _print_keys(found: list[KeyInfo]) -> None:
    if not found:
        _say("no keys")
        return
    _say(f"{'id':<13} {'kind':<12} {'source':<8} {'created':<21} {'revoked':<21} label")
    for k in found:
        created, revoked = _stamp(k.created_at), _stamp(k.revoked_at)
        _say(f"{k.key_id:<13} {k.kind:<12} {k.source:<8} {created:<21} {revoked:<21} {k.label}")


def run_audit_command(args: argparse.Namespace, settings: Settings) -> int:
    """``vigil audit verify`` (exit 1 when any trail is broken) and ``vigil audit show``."""
    with command_client(settings) as client:
        trail = AuditTrail(client, audit_key(settings))
        if args.audit_command == "show":
            length = trail.length(args.tenant)
            for entry in trail.entries(args.tenant, max(0, length - args.last)):
                said = " ".join(f"{k}={v!r}" for k, v in entry.detail.items())
                _say(
                    f"{entry.seq:>6} {_stamp(entry.at)} {entry.actor:<24} "
                    f"{entry.action.value:<16} {entry.target} {said}".rstrip()
                )
            return 0
        if args.tenant:
            tenants = [args.tenant]
        else:  # every tenant's trail, and the system's (tenant deletions are there)
            config = load_config(settings.config_path, settings.max_escalation_levels)
            tenants = [*all_tenants(client, config), keys.SYSTEM_PREFIX]
        broken = 0
        for tenant in tenants:
            verdict = trail.verify(tenant)
            head = "empty" if verdict.head is None else f"head {verdict.head[0]} {verdict.head[1]}"
            if verdict.intact:
                _say(f"{tenant:<24} intact   {verdict.checked} entries, {head}")
            else:
                broken += 1
                _say(f"{tenant:<24} BROKEN   {verdict.problem} ({verdict.checked} entries hold)")
        return 1 if broken else 0
