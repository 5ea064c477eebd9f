"""``vigil tenant delete NAME --yes``: everything of a tenant made at run time, gone.

It follows ``cluster/tenant_removal.py``'s order (mark, revoke, release the live
actors, delete, verify), prints each step, and exits 1 if anything of the tenant is
left. A tenant of the configuration file is refused: Vigil keeps its actors running
and would start them again; remove it from the file and restart first.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from alerting.audit import AuditAction
from cli.command_redis import command_client
from cli.live_vigil import running_vigil
from cli.operator import operator
from cluster import keys
from cluster.audit_store import AuditTrail, audit_key
from cluster.config import load_config
from cluster.settings import Settings
from cluster.tenant_removal import delete_data, leftovers, mark_deleted, revoke_all


def _say(message: str) -> None:
    print(message, flush=True)


def release_live_actors(settings: Settings, tenant: str) -> str:
    """Make a running Vigil let go of the tenant: its actor killed (it cannot start
    again: the tenant is marked deleted), its correlator's loops stopped. What was done."""
    if not running_vigil(settings):
        return "no running Vigil: nothing to stop"
    import ray

    from actors.correlator_client import correlator_client
    from cluster import runtime

    done = []
    try:
        actor = ray.get_actor(runtime.tenant_actor_name(tenant), namespace=runtime.NAMESPACE)
    except ValueError:
        pass
    else:
        ray.kill(actor, no_restart=True)
        done.append("its actor stopped")
    if asyncio.run(correlator_client(tenant, settings).forget_tenant()):
        done.append("its correlation stopped")
    return ", ".join(done) or "nothing of it was running"


def cmd_tenant_delete(args: argparse.Namespace, settings: Settings) -> int:
    tenant = keys.check_tenant_id(args.name)
    config = load_config(settings.config_path, settings.max_escalation_levels)
    if config.tenant(tenant) is not None:
        _say(
            f"vigil: tenant {tenant!r} is in the configuration file ({settings.config_path}):"
            " remove it there and restart Vigil, then delete it"
        )
        return 2
    if not args.yes:
        _say(
            f"vigil: this deletes every alert, incident, silence, key, secret and audit entry"
            f" of {tenant!r}; run again with --yes"
        )
        return 2
    with command_client(settings) as client:
        mark_deleted(client, tenant)
        revoked = revoke_all(client, tenant, time.time(), f"tenant deleted by {operator()}")
        _say(f"marked        {tenant} deleted: none of its actors starts again")
        _say(f"revoked       {revoked} key(s)")
        _say(f"released      {release_live_actors(settings, tenant)}")
        deleted = delete_data(client, tenant)
        left = leftovers(client, tenant)
        detail = {"redis_keys": str(deleted), "keys_revoked": str(revoked)}
        trail = AuditTrail(client, audit_key(settings))
        trail.append(keys.SYSTEM_PREFIX, operator(), AuditAction.TENANT_DELETE, tenant, detail)
    if left:
        _say(f"vigil: {len(left)} key(s) of {tenant} are left: {', '.join(left[:10])}")
        _say("       run the command again to finish")
        return 1
    _say(f"deleted       {deleted} Redis key(s) of {tenant}; verified: nothing of it is left")
    _say(f"audit         written to the system trail (vigil audit show {keys.SYSTEM_PREFIX})")
    return 0
