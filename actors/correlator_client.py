"""``CorrelatorClient``: the typed way to ask a tenant's correlator shard about its
incidents, or have it act on them.

One correlator shard serves many tenants; a client speaks for one of them and puts its
id first in every call, as the actor's methods take it. Errors are
``actors.actor_call``'s (``IncidentNotFound`` comes out as itself).
"""

from __future__ import annotations

from typing import Any

from actors.actor_call import CALL_TIMEOUT_SECONDS, ActorCall
from actors.correlator import correlator_actor
from alerting.incident import Incident
from alerting.incident_query import IncidentQuery
from alerting.lifecycle import Action
from alerting.query import Page
from cluster.incident_feed import IncidentChanges
from cluster.runtime import correlator_name, shard_of
from cluster.settings import Settings


def correlator_call(
    shard: int, settings: Settings, timeout: float = CALL_TIMEOUT_SECONDS
) -> ActorCall:
    """Calls of one correlator shard, created on first use."""
    return ActorCall(correlator_name(shard), lambda: correlator_actor(shard, settings), timeout)


def correlator_client(tenant: str, settings: Settings) -> CorrelatorClient:
    """A client of the tenant's correlator shard with a handle of its own."""
    shard = shard_of(tenant, settings.correlator_shards)
    return CorrelatorClient(tenant, correlator_call(shard, settings))


class CorrelatorClient:
    """Calls the correlator shard that owns ``tenant`` through ``call``."""

    def __init__(self, tenant: str, call: ActorCall) -> None:
        self.tenant = tenant
        self.call = call

    async def forget_tenant(self) -> bool:
        """Stop the tenant's loops for good (it is being deleted); whether it had any."""
        answer: bool = await self.call(lambda actor: actor.forget_tenant.remote(self.tenant))
        return answer

    async def erase_person(self, names: list[str], pseudonym: str) -> int:
        """Replace a person's names in the tenant's incidents and timelines; how many."""
        answer: int = await self.call(
            lambda actor: actor.erase_person.remote(self.tenant, names, pseudonym)
        )
        return answer

    async def list_incidents(self, query: IncidentQuery) -> Page[Incident]:
        """A page of the tenant's incidents matching ``query``, newest first."""
        answer: Page[Incident] = await self.call(
            lambda actor: actor.list_incidents.remote(self.tenant, query)
        )
        return answer

    async def get_incident(self, incident_id: str) -> tuple[Incident, list[dict[str, Any]]]:
        """One incident and its timeline (``IncidentNotFound``)."""
        answer: tuple[Incident, list[dict[str, Any]]] = await self.call(
            lambda actor: actor.get_incident.remote(self.tenant, incident_id)
        )
        return answer

    async def act(
        self, action: Action, incident_id: str, by: str | None, reason: str | None
    ) -> Incident:
        """Acknowledge or resolve an incident and, through the tenant's actor, its alerts."""
        answer: Incident = await self.call(
            lambda actor: actor.act.remote(self.tenant, incident_id, action, by, reason)
        )
        return answer

    async def feedback(self, incident_id: str, verdict: str, by: str | None) -> Incident:
        """Record whether an incident was actionable or noise."""
        answer: Incident = await self.call(
            lambda actor: actor.feedback.remote(self.tenant, incident_id, verdict, by)
        )
        return answer

    async def incidents(self, incident_ids: list[str]) -> dict[str, Incident]:
        """Several incidents by id, without timelines; unknown ids left out."""
        answer: dict[str, Incident] = await self.call(
            lambda actor: actor.incidents.remote(self.tenant, incident_ids)
        )
        return answer

    async def incident_updates(
        self, after: str | None, wait_seconds: float = 0.0
    ) -> IncidentChanges:
        """The incidents touched after feed position ``after`` (``None``: from now on);
        with nothing new, waiting up to ``wait_seconds`` for the correlator's next commit."""
        answer: IncidentChanges = await self.call(
            lambda actor: actor.incident_updates.remote(self.tenant, after, wait_seconds)
        )
        return answer

    async def open_incidents_of(self, fingerprint: str) -> list[str]:
        """The ids of the open incidents an alert belongs to."""
        answer: list[str] = await self.call(
            lambda actor: actor.open_incidents_of.remote(self.tenant, fingerprint)
        )
        return answer

    async def noise(self) -> dict[str, Any]:
        """The tenant's noise figures and how many incidents are open."""
        answer: dict[str, Any] = await self.call(lambda actor: actor.noise.remote(self.tenant))
        return answer

    async def caught_up(self) -> str:
        """Have everything on the tenant's stream applied now; the position reached."""
        answer: str = await self.call(lambda actor: actor.caught_up.remote(self.tenant))
        return answer

    async def rate_watch(self) -> dict[str, Any]:
        """The tenant's rate watch: buckets remembered, resumed from the store, replaying."""
        answer: dict[str, Any] = await self.call(lambda actor: actor.rate_watch.remote(self.tenant))
        return answer

    async def scored(self) -> int:
        """Run one scoring round now; how many incidents were scored."""
        answer: int = await self.call(lambda actor: actor.scored.remote(self.tenant))
        return answer

    async def ping(self) -> bool:
        """Whether the shard answers."""
        answer: bool = await self.call(lambda actor: actor.ping.remote())
        return answer
