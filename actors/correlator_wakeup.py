"""``CorrelatorWakeup``: how a tenant's actor tells its correlator shard that the
change stream has news.

The call carries no data and nobody waits for it: the changes are already on the
stream, so a lost wake-up only delays them until the correlator's next poll. The shard
is found by name, never created here (its creator is the ingress), and a shard that is
not running is looked up again at most every ``LOOKUP_SECONDS``.

It stands apart from ``CorrelatorClient`` because the tenant's actor must not import
the correlator's module, which imports the tenant's client.
"""

from __future__ import annotations

import asyncio
import time

import ray

from actors.actor_call import Handle
from cluster.runtime import NAMESPACE, correlator_name, shard_of

LOOKUP_SECONDS = 5.0


class CorrelatorWakeup:
    """Wake-up calls from one tenant to the correlator shard that owns it."""

    def __init__(self, tenant: str, shards: int) -> None:
        self.tenant = tenant
        self.name = correlator_name(shard_of(tenant, shards))
        self.handle: Handle | None = None
        self.next_lookup = 0.0

    def wake(self) -> None:
        """Tell the shard the tenant's stream has news (fire and forget)."""
        if self.handle is None:
            if time.monotonic() < self.next_lookup:
                return
            self.next_lookup = time.monotonic() + LOOKUP_SECONDS
            try:
                self.handle = ray.get_actor(self.name, namespace=NAMESPACE)
            except ValueError:  # not running: the correlator's poll finds the changes
                return
        try:
            self.handle.wake.remote(self.tenant)
        except Exception:  # the handle went stale: look it up again next time
            self.handle = None

    async def warm(self) -> bool:
        """Find the shard and call it once, so the first wake-up waits for neither the
        lookup nor the connection; whether it answered."""
        try:
            handle = await asyncio.to_thread(ray.get_actor, self.name, namespace=NAMESPACE)
            await handle.ping.remote()
        except Exception:  # not up yet: the first wake-up looks it up, as before
            return False
        self.handle = handle
        return True
