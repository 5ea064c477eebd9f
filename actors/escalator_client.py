"""``EscalatorClient``: the typed way to have a tenant's escalator escalate an incident
now (``PUT .../escalate``, Slack's button). The call goes to the escalator lane that owns
the incident (``alerting/lanes.py``). Errors are ``actors.actor_call``'s
(``IncidentNotFound`` and ``InvalidTransition`` come out as themselves)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from actors.actor_call import CALL_TIMEOUT_SECONDS, ActorCall
from actors.escalator import escalator_actor
from alerting.lanes import lane_of
from cluster.runtime import escalator_name
from cluster.settings import Settings


def escalator_call(
    shard: int, settings: Settings, timeout: float = CALL_TIMEOUT_SECONDS, lane: int = 0
) -> ActorCall:
    """Calls of one escalator process (a shard's lane), created on first use."""
    return ActorCall(
        escalator_name(shard, lane), lambda: escalator_actor(shard, settings, lane), timeout
    )


def escalator_calls(shard: int, settings: Settings) -> list[ActorCall]:
    """Calls of every lane of an escalator shard, by lane."""
    return [escalator_call(shard, settings, lane=lane) for lane in range(settings.escalator_lanes)]


class EscalatorClient:
    """Calls the escalator lanes that run ``tenant`` through ``calls`` (by lane)."""

    def __init__(self, tenant: str, calls: Sequence[ActorCall]) -> None:
        self.tenant = tenant
        self.calls = list(calls)

    async def escalate(self, incident_id: str, by: str | None) -> int:
        """Notify the incident's next level now; that level, counted from 1."""
        call = self.calls[lane_of(incident_id, len(self.calls))]
        answer: int = await call(lambda actor: actor.escalate.remote(self.tenant, incident_id, by))
        return answer

    async def ping(self) -> bool:
        """Whether every lane answers."""
        answers = await asyncio.gather(
            *(call(lambda actor: actor.ping.remote()) for call in self.calls)
        )
        return all(answers)
