"""``EscalatorClient``: the typed way to have a tenant's escalator shard escalate an
incident now (``PUT .../escalate``, Slack's button). Errors are ``actors.actor_call``'s
(``IncidentNotFound`` and ``InvalidTransition`` come out as themselves)."""

from __future__ import annotations

from actors.actor_call import CALL_TIMEOUT_SECONDS, ActorCall
from actors.escalator import escalator_actor
from cluster.runtime import escalator_name
from cluster.settings import Settings


def escalator_call(
    shard: int, settings: Settings, timeout: float = CALL_TIMEOUT_SECONDS
) -> ActorCall:
    """Calls of one escalator shard, created on first use."""
    return ActorCall(escalator_name(shard), lambda: escalator_actor(shard, settings), timeout)


class EscalatorClient:
    """Calls the escalator shard that owns ``tenant`` through ``call``."""

    def __init__(self, tenant: str, call: ActorCall) -> None:
        self.tenant = tenant
        self.call = call

    async def escalate(self, incident_id: str, by: str | None) -> int:
        """Notify the incident's next level now; that level, counted from 1."""
        answer: int = await self.call(
            lambda actor: actor.escalate.remote(self.tenant, incident_id, by)
        )
        return answer

    async def ping(self) -> bool:
        """Whether the shard answers."""
        answer: bool = await self.call(lambda actor: actor.ping.remote())
        return answer
