"""``TenantOperations``: what one authenticated tenant may read and change, whichever
face it comes through: the REST API, GraphQL, or the Python client over actor handles.

Each face proves who is asking (an API key, or a Ray connection) and then calls these,
so an action does the same thing, is refused for the same reasons and leaves the same
audit entry everywhere. Validation of the request's own shape stays with the face
(pydantic models, query parameters); these take typed values.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol

from actors.actor_call import ActorUnavailable, StoreUnavailable
from actors.correlator_client import CorrelatorClient
from actors.escalator_client import EscalatorClient
from actors.tenant_client import TenantClient
from alerting.alert import Alert, IncomingAlert
from alerting.audit import AuditAction
from alerting.incident import Incident
from alerting.incident_query import IncidentQuery
from alerting.lifecycle import Action, IngestResult
from alerting.matchers import Matcher
from alerting.query import AlertQuery, Page
from alerting.silence import Silence, SilenceDraft
from cluster.incident_feed import FEED_START, IncidentChanges, check_position
from cluster.tenants import Principal

Ingest = Callable[[list[IncomingAlert]], Awaitable[list[IngestResult]]]
"""Stores a tenant's alerts (the ingress merges concurrent requests; the Python client
calls the tenant's actor)."""


class Auditor(Protocol):
    """Adds a change that was made to a tenant's audit trail."""

    async def __call__(
        self,
        tenant: str,
        actor: str,
        action: AuditAction,
        target: str,
        detail: dict[str, Any] | None = None,
    ) -> None: ...


def claimed(by: str | None, reason: str | None = None) -> dict[str, str]:
    """What the client said about a change, for its audit entry (only what it gave)."""
    said = {"says_by": by, "reason": reason}
    return {k: v for k, v in said.items() if v}


class TenantOperations:
    """One tenant's reads and changes, attributed to ``principal``."""

    def __init__(
        self,
        principal: Principal,
        alerts: TenantClient,
        correlator: CorrelatorClient,
        escalator: EscalatorClient,
        ingest: Ingest,
        audit: Auditor,
    ) -> None:
        self.principal = principal
        self.tenant = principal.tenant
        self.alerts_actor = alerts
        self.correlator = correlator
        self.escalator = escalator
        self._ingest = ingest
        self._audit = audit

    async def _audited(
        self, action: AuditAction, target: str, detail: dict[str, Any] | None = None
    ) -> None:
        await self._audit(self.tenant, self.principal.actor, action, target, detail)

    # -- alerts --------------------------------------------------------------------------

    async def send(self, alerts: list[IncomingAlert]) -> list[IngestResult]:
        """Store validated alerts: all of them, or none."""
        return await self._ingest(alerts)

    async def list_alerts(self, query: AlertQuery) -> Page[Alert]:
        """A page of alerts, newest first."""
        return await self.alerts_actor.list_alerts(query)

    async def get_alert(self, alert_id: str) -> Alert:
        """One alert (``NotFound``)."""
        return await self.alerts_actor.get(alert_id)

    async def act_on_alert(
        self, action: Action, alert_id: str, by: str | None = None, reason: str | None = None
    ) -> Alert:
        """Acknowledge or resolve one alert."""
        actor = self.alerts_actor
        change = actor.acknowledge if action is Action.ACKNOWLEDGE else actor.resolve
        alert = await change(alert_id, self.principal.attributed(by), reason)
        await self._audited(AuditAction(action.value), f"alert {alert_id}", claimed(by, reason))
        return alert

    # -- incidents -----------------------------------------------------------------------

    async def list_incidents(self, query: IncidentQuery) -> Page[Incident]:
        """A page of incidents, newest first."""
        return await self.correlator.list_incidents(query)

    async def get_incident(self, incident_id: str) -> tuple[Incident, list[dict[str, Any]]]:
        """One incident and its timeline (``IncidentNotFound``)."""
        return await self.correlator.get_incident(incident_id)

    async def act_on_incident(
        self, action: Action, incident_id: str, by: str | None = None, reason: str | None = None
    ) -> Incident:
        """Acknowledge or resolve an incident and its open alerts."""
        by_key = self.principal.attributed(by)
        incident = await self.correlator.act(action, incident_id, by_key, reason)
        target = f"incident {incident_id}"
        await self._audited(AuditAction(action.value), target, claimed(by, reason))
        return incident

    async def escalate_incident(
        self, incident_id: str, by: str | None = None, reason: str | None = None
    ) -> int:
        """Notify the incident's next escalation level now; the level notified."""
        # NotFound for an incident this tenant does not have, whatever its escalations.
        await self.correlator.get_incident(incident_id)
        level = await self.escalator.escalate(incident_id, self.principal.attributed(by))
        detail = {**claimed(by, reason), "level": str(level)}
        await self._audited(AuditAction.ESCALATE, f"incident {incident_id}", detail)
        return level

    async def give_feedback(
        self, incident_id: str, verdict: str, by: str | None = None
    ) -> Incident:
        """Say whether an incident was actionable or noise (its training label)."""
        by_key = self.principal.attributed(by)
        incident = await self.correlator.feedback(incident_id, verdict, by_key)
        detail = {**claimed(by), "verdict": verdict}
        await self._audited(AuditAction.FEEDBACK, f"incident {incident_id}", detail)
        return incident

    async def incident_updates(
        self, after: str | None, wait_seconds: float = 0.0
    ) -> IncidentChanges:
        """The incidents touched after feed position ``after`` (``None``: from now on);
        with nothing new, waiting up to ``wait_seconds`` for the correlator's news."""
        position = None if after is None else check_position(after)
        return await self.correlator.incident_updates(position, wait_seconds)

    async def watch(
        self,
        after: str | None = None,
        poll_seconds: float = 0.5,
        idle_seconds: float | None = None,
    ) -> AsyncIterator[IncidentChanges]:
        """Incident changes as they happen, from feed position ``after`` (``None``: from
        now on); each item's ``position`` resumes the watch where it stopped. With
        ``idle_seconds``, an empty item comes after that long without news (a face's
        cue to send a keep-alive, or to notice its client left).

        It long-polls the correlator: each read waits up to ``poll_seconds`` for its
        next commit, so the correlator's changes are seen at once and the escalator's
        timeline entries within ``poll_seconds``. A restarting correlator or an
        unreachable Redis pauses the watch rather than ending it; the position is kept,
        so nothing in between is missed.
        """
        position = after
        quiet_since = time.monotonic()
        while True:
            try:
                changes = await self.incident_updates(position, poll_seconds if position else 0)
            except (ActorUnavailable, StoreUnavailable):
                changes = None
            if changes is not None and position is None:
                position = changes.position  # from now on: this read is only where
            elif changes is not None and (changes.incidents or changes.removed or changes.gap):
                position = changes.position
                quiet_since = time.monotonic()
                yield changes
                continue
            elif changes is not None:
                position = changes.position
            if idle_seconds is not None and time.monotonic() - quiet_since >= idle_seconds:
                quiet_since = time.monotonic()
                yield IncidentChanges(position or FEED_START, (), (), gap=False)
            if changes is None:  # the actor is restarting, or Redis is back soon
                await asyncio.sleep(max(poll_seconds, 1.0))

    async def noise(self) -> dict[str, Any]:
        """The tenant's noise figures."""
        return await self.correlator.noise()

    # -- silences ------------------------------------------------------------------------

    async def list_silences(self, filters: Sequence[Matcher] = ()) -> list[Silence]:
        """Every silence (expired ones until their retention ends)."""
        return await self.alerts_actor.list_silences(filters)

    async def set_silence(self, draft: SilenceDraft) -> str:
        """Create a silence, or change one by id; its id."""
        silence_id = await self.alerts_actor.set_silence(draft)
        action = AuditAction.SILENCE_UPDATE if draft.id else AuditAction.SILENCE_CREATE
        detail = {
            "matchers": ",".join(str(m) for m in draft.matchers),
            "starts_at": draft.starts_at.isoformat(),
            "ends_at": draft.ends_at.isoformat(),
            "says_by": draft.created_by,
            "comment": draft.comment[:512],
        }
        await self._audited(action, f"silence {silence_id}", detail)
        return silence_id

    async def expire_silence(self, silence_id: str) -> Silence:
        """Expire a silence now."""
        silence = await self.alerts_actor.expire_silence(silence_id)
        await self._audited(AuditAction.SILENCE_EXPIRE, f"silence {silence_id}")
        return silence
