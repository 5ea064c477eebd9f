"""``vigil tenant create`` and ``vigil tenant integration-key``."""

from __future__ import annotations

from cli.command_redis import command_client
from cluster.settings import Settings
from cluster.tenants import create_integration_key, create_tenant


def cmd_tenant_key(settings: Settings, tenant: str, integration: bool) -> int:
    """Make a key for a tenant (registering it if new) and print it, only this once."""
    with command_client(settings) as client:
        try:
            key = (
                create_integration_key(client, tenant)
                if integration
                else create_tenant(client, tenant)
            )
        except ValueError as exc:
            print(str(exc), flush=True)
            return 2
    if integration:
        print(f"tenant {tenant}: new integration key (PagerDuty routing_key; shown only now):")
    else:
        print(f"tenant {tenant} created; its API key (shown only now, stored as a hash):")
    print(key, flush=True)
    return 0
