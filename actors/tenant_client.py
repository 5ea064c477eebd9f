"""``TenantClient``: the typed way to call one tenant's ``TenantActor``.

The ingress, the CLI, the correlator and the supervisor use it; each method is the
actor's method of the same name, with its types. Errors are ``actors.actor_call``'s:
a domain refusal (``NotFound``, ``InvalidTransition``, ``InvalidSilence``) comes out
as itself, an outage as ``ActorUnavailable`` or ``StoreUnavailable``.
"""

from __future__ import annotations

from collections.abc import Sequence

from actors.actor_call import CALL_TIMEOUT_SECONDS, ActorCall
from actors.tenant import tenant_actor
from alerting.alert import Alert, IncomingAlert
from alerting.lifecycle import Action, IngestResult
from alerting.matchers import Matcher
from alerting.query import AlertQuery, Page
from alerting.silence import Silence, SilenceDraft
from cluster.runtime import tenant_actor_name
from cluster.settings import Settings


def tenant_call(
    tenant: str, settings: Settings, timeout: float = CALL_TIMEOUT_SECONDS
) -> ActorCall:
    """Calls of one tenant's actor, created on first use (it rebuilds from Redis)."""
    return ActorCall(tenant_actor_name(tenant), lambda: tenant_actor(tenant, settings), timeout)


def tenant_client(tenant: str, settings: Settings) -> TenantClient:
    """A client of one tenant's actor with a handle of its own."""
    return TenantClient(tenant, tenant_call(tenant, settings))


class TenantClient:
    """Calls one tenant's actor through ``call`` (shared by every client of it)."""

    def __init__(self, tenant: str, call: ActorCall) -> None:
        self.tenant = tenant
        self.call = call

    async def ingest(self, batch: list[IncomingAlert]) -> list[IngestResult]:
        """Store a batch of deliveries; one result per alert, in order."""
        answer: list[IngestResult] = await self.call(lambda actor: actor.ingest.remote(batch))
        return answer

    async def get(self, alert_id: str) -> Alert:
        """One alert by id (``NotFound``)."""
        answer: Alert = await self.call(lambda actor: actor.get.remote(alert_id))
        return answer

    async def list_alerts(self, query: AlertQuery) -> Page[Alert]:
        """A page of the tenant's alerts matching ``query``."""
        answer: Page[Alert] = await self.call(lambda actor: actor.list_alerts.remote(query))
        return answer

    async def acknowledge(
        self, alert_id: str, by: str | None = None, reason: str | None = None
    ) -> Alert:
        """Acknowledge an open alert (``InvalidTransition`` if it is resolved)."""
        answer: Alert = await self.call(
            lambda actor: actor.acknowledge.remote(alert_id, by, reason)
        )
        return answer

    async def resolve(
        self, alert_id: str, by: str | None = None, reason: str | None = None
    ) -> Alert:
        """Resolve an alert by hand (idempotent)."""
        answer: Alert = await self.call(lambda actor: actor.resolve.remote(alert_id, by, reason))
        return answer

    async def escalate(
        self, alert_id: str, by: str | None = None, reason: str | None = None
    ) -> Alert:
        """Raise an open alert one escalation level."""
        answer: Alert = await self.call(lambda actor: actor.escalate.remote(alert_id, by, reason))
        return answer

    async def act_on_dedup_key(
        self, dedup_key: str, action: Action, by: str | None = None
    ) -> list[str]:
        """Acknowledge or resolve the open alerts a ``dedup_key`` names; the ids changed."""
        answer: list[str] = await self.call(
            lambda actor: actor.act_on_dedup_key.remote(dedup_key, action, by)
        )
        return answer

    async def act_on_alerts(
        self, alert_ids: list[str], action: Action, by: str | None, reason: str | None
    ) -> list[str]:
        """Acknowledge or resolve these alerts (an incident's); the ids changed."""
        answer: list[str] = await self.call(
            lambda actor: actor.act_on_alerts.remote(alert_ids, action, by, reason)
        )
        return answer

    async def open_alerts(self, matchers: Sequence[Matcher]) -> list[tuple[Alert, list[str]]]:
        """Open alerts matching ``matchers``, each with the ids of the silences muting it."""
        answer: list[tuple[Alert, list[str]]] = await self.call(
            lambda actor: actor.open_alerts.remote(matchers)
        )
        return answer

    async def set_silence(self, draft: SilenceDraft) -> str:
        """Create or change a silence; its id (``InvalidSilence``, ``SilenceNotFound``)."""
        answer: str = await self.call(lambda actor: actor.set_silence.remote(draft))
        return answer

    async def get_silence(self, silence_id: str) -> Silence:
        """One silence by id (``SilenceNotFound``)."""
        answer: Silence = await self.call(lambda actor: actor.get_silence.remote(silence_id))
        return answer

    async def list_silences(self, filters: Sequence[Matcher]) -> list[Silence]:
        """The silences that pass the filter, in Alertmanager's order."""
        answer: list[Silence] = await self.call(lambda actor: actor.list_silences.remote(filters))
        return answer

    async def expire_silence(self, silence_id: str) -> Silence:
        """End a silence now (``SilenceNotFound``)."""
        answer: Silence = await self.call(lambda actor: actor.expire_silence.remote(silence_id))
        return answer

    async def erase_person(self, names: list[str], pseudonym: str) -> int:
        """Replace a person's names in the tenant's alerts and silences; how many."""
        answer: int = await self.call(lambda actor: actor.erase_person.remote(names, pseudonym))
        return answer

    async def ping(self) -> bool:
        """Whether the actor answers, having rebuilt its state."""
        answer: bool = await self.call(lambda actor: actor.ping.remote())
        return answer

    async def warm(self) -> bool:
        """Have the actor find and call its correlator, so the first alert is fast."""
        answer: bool = await self.call(lambda actor: actor.warm.remote())
        return answer
