"""``vigil person erase NAME``: a person's names replaced by a pseudonym in everything
Vigil stored, for every tenant (or one), on a running Vigil or a stopped one.

On a running Vigil each tenant's actor and correlator rewrite their own records under
their locks (``actors/tenant.py``, ``actors/correlator.py``), so nothing they hold in
memory writes the names back; with Vigil stopped the command rewrites Redis itself
(``cluster/person_erasure.py``). The configuration file is the operator's: the command
lists where it still names the person and exits 1 until they are removed there.
The pseudonym (keyed with the audit key, so the same on every run), never the name,
goes to each tenant's audit trail.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import re
from typing import Any

from alerting.audit import AuditAction
from alerting.erasure import mention
from cli.live_vigil import running_vigil
from cli.operator import operator
from cluster import keys
from cluster.audit_store import AuditTrail, audit_key
from cluster.config import VigilConfig, load_config
from cluster.person_erasure import erase_alerts_and_silences, erase_incidents
from cluster.redis_client import async_client, sync_client
from cluster.redis_server import redis_for_command
from cluster.settings import Settings
from cluster.tenants import all_tenants


def _say(message: str) -> None:
    print(message, flush=True)


def config_mentions(config: VigilConfig, pattern: re.Pattern[str], name: str) -> list[str]:
    """Where the configuration file still names the person (``tenants.<id>.<path>``)."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == name:
                    found.append(f"{path}.{key}")
                walk(inner, f"{path}.{key}")
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                walk(inner, f"{path}.{i}")
        elif isinstance(value, str) and pattern.search(value):
            found.append(path)

    for tenant in config.tenants:
        sections = tenant.model_dump(include={"people", "schedules"})
        walk(sections, f"tenants.{tenant.id}")
    return found


def pseudonym_for(name: str, key: bytes) -> str:
    """The person's pseudonym: the same on every run (a run cut short and run again
    converges on one), and not the name's plain hash, which anyone could recompute
    from a guess: keyed with the operator's audit key."""
    return "erased-" + hmac.new(key, f"person:{name}".encode(), hashlib.sha256).hexdigest()[:10]


def _names(config: VigilConfig, name: str, also: list[str]) -> list[str]:
    """The person's id, the display names the file gives them, and any others given."""
    display = [p.name for t in config.tenants for n, p in t.people.items() if n == name and p.name]
    return sorted({name, *display, *also})


async def _erase(
    settings: Settings, tenants: list[str], names: list[str], pseudonym: str, live: bool
) -> dict[str, int]:
    """Mentions replaced per tenant, by the live actors or, Vigil stopped, directly."""
    counts: dict[str, int] = {}
    if live:
        from actors.correlator_client import correlator_client
        from actors.tenant_client import tenant_client

        for tenant in tenants:
            alerts = await tenant_client(tenant, settings).erase_person(names, pseudonym)
            incidents = await correlator_client(tenant, settings).erase_person(names, pseudonym)
            counts[tenant] = alerts + incidents
        return counts
    client = async_client(settings.redis_url or "")
    try:
        for tenant in tenants:
            alerts = await erase_alerts_and_silences(client, tenant, names, pseudonym)
            counts[tenant] = alerts + await erase_incidents(client, tenant, names, pseudonym)
    finally:
        await client.aclose()
    return counts


def cmd_person_erase(args: argparse.Namespace, settings: Settings) -> int:
    config = load_config(settings.config_path, settings.max_escalation_levels)
    names = _names(config, args.name, args.also)
    seal_key = audit_key(settings)
    pseudonym = pseudonym_for(args.name, seal_key)
    with redis_for_command(
        settings.redis_url, settings.data_dir, settings.embedded_redis_port
    ) as url:
        client = sync_client(url)
        try:
            if args.tenant:
                tenants = [keys.check_tenant_id(args.tenant)]
            else:
                tenants = all_tenants(client, config)
            live = running_vigil(settings)
            where = "by the running Vigil's actors" if live else "in Redis (no Vigil running)"
            _say(f"erasing       {len(names)} name(s) from {len(tenants)} tenant(s), {where}")
            on = settings.model_copy(update={"redis_url": url})
            counts = asyncio.run(_erase(on, tenants, names, pseudonym, live))
            trail = AuditTrail(client, seal_key)
            for tenant, count in counts.items():
                if count:
                    detail = {"pseudonym": pseudonym, "mentions": str(count)}
                    trail.append(tenant, operator(), AuditAction.PERSON_ERASE, pseudonym, detail)
                    _say(f"  {tenant:<22} {count} mention(s) replaced by {pseudonym}")
        finally:
            client.close()
    _say(f"erased        {sum(counts.values())} mention(s) in all; the pseudonym is {pseudonym}")
    left = config_mentions(config, mention(names), args.name)
    if left:
        _say(f"vigil: the configuration file ({settings.config_path}) still names them at:")
        for path in left:
            _say(f"       {path}")
        _say("       remove them there, reload Vigil, and run this again")
        return 1
    return 0
