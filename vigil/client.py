"""``VigilClient``: one tenant's Vigil over actor handles, with the HTTP API's checks.

It calls the same actors through the same typed clients as the ingress
(``actors.tenant_operations.TenantOperations``), and refuses what the HTTP API refuses,
with the same answer: every refusal is a ``serve_app.problems.ApiError`` carrying the
HTTP status, code, message and field details the REST API would have sent. What it
does not do is what only the HTTP face does: API keys (Ray access is the credential)
and the tier's request rate (it has no HTTP requests to count; quotas on open alerts
and silences still hold, in the tenant's actor).

Changes are attributed to ``ray-client`` in the tenant's audit trail.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import ray

from actors.actor_call import ActorCallError
from actors.correlator_client import correlator_client
from actors.escalator_client import EscalatorClient, escalator_calls
from actors.supervisor import SUPERVISOR_NAME
from actors.tenant_client import tenant_client
from actors.tenant_operations import TenantOperations
from alerting.alert import Alert, IncomingAlert
from alerting.audit import AuditAction
from alerting.errors import InvalidRequest, VigilError
from alerting.incident import Incident
from alerting.lifecycle import Action, IngestResult
from alerting.query import DEFAULT_PAGE_SIZE, Page
from alerting.silence import Silence, SilenceDraft
from cluster import runtime
from cluster.audit_store import AuditTrail, audit_key
from cluster.config import load_config
from cluster.incident_feed import IncidentChanges, check_position
from cluster.redis_client import sync_client
from cluster.runtime import NAMESPACE, shard_of
from cluster.settings import Settings
from cluster.tenants import Principal
from serve_app.batch_fingerprint import fingerprints
from serve_app.problems import ApiError, refusal, validated
from serve_app.query_params import alert_query, bad_param, filter_param, incident_query

CLIENT_LABEL = "ray-client"
"""Who the client's changes are recorded as, in timelines and the audit trail."""

T = TypeVar("T")


async def _answered(call: Awaitable[T]) -> T:
    """The call's answer, or its refusal as the HTTP API would have put it."""
    try:
        return await call
    except (VigilError, ActorCallError) as exc:
        raise refusal(exc) from None


class VigilClient:
    """One tenant's alerts, incidents and silences, through Vigil's actors."""

    def __init__(self, tenant: str, settings: Settings) -> None:
        config = load_config(settings.config_path, settings.max_escalation_levels)
        if config.tenant(tenant) is None:
            raise ApiError(404, "not_found", f"Vigil has no tenant {tenant!r}")
        self.tenant = tenant
        self.settings = settings
        self.principal = Principal(tenant, "ray", CLIENT_LABEL)
        shard = shard_of(tenant, settings.correlator_shards)
        alerts = tenant_client(tenant, settings)
        self._trail = AuditTrail(sync_client(settings.redis_url or ""), audit_key(settings))
        self.operations = TenantOperations(
            self.principal,
            alerts,
            correlator_client(tenant, settings),
            EscalatorClient(tenant, escalator_calls(shard, settings)),
            alerts.ingest,
            self._audit,
        )

    @classmethod
    async def connect(cls, tenant: str, address: str | None = None) -> VigilClient:
        """Join Ray (unless this process has) and find the running Vigil's settings."""
        if not ray.is_initialized():
            runtime.connect(address)  # once; blocking, as ray.init must run here
        try:
            supervisor = await asyncio.to_thread(ray.get_actor, SUPERVISOR_NAME, NAMESPACE)
        except ValueError:
            raise ApiError(503, "unavailable", "Vigil is not running in this Ray cluster") from None
        settings: Settings = await supervisor.settings_in_force.remote()
        return cls(tenant, settings)

    async def _audit(
        self,
        tenant: str,
        actor: str,
        action: AuditAction,
        target: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        await asyncio.to_thread(self._trail.append, tenant, actor, action, target, detail)

    # -- alerts ------------------------------------------------------------------------

    async def send(
        self, alerts: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> list[IngestResult]:
        """Store one alert or a batch (as the JSON bodies of ``POST .../critical-alerts``
        and ``.../bulk``): all of them, or none. A 422 ``ApiError`` names each field
        that is wrong."""
        batch = [alerts] if isinstance(alerts, Mapping) else list(alerts)
        limit = self.settings.max_bulk_alerts
        if not 1 <= len(batch) <= limit:
            raise bad_param("alerts", f"send between 1 and {limit} alerts, got {len(batch)}")
        parsed = [validated(IncomingAlert, a) for a in batch]
        for alert, value in zip(parsed, fingerprints([a.labels for a in parsed]), strict=True):
            alert.with_fingerprint(value)
        return await _answered(self.operations.send(parsed))

    async def alerts(
        self,
        status: Sequence[str] = (),
        severity: Sequence[str] = (),
        filter: Sequence[str] = (),
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Alert]:
        """A page of alerts, newest first (the REST list's filters and cursor)."""
        query = alert_query(list(status), list(severity), list(filter), limit, cursor)
        return await _answered(self.operations.list_alerts(query))

    async def alert(self, alert_id: str) -> Alert:
        """One alert (404 ``ApiError`` if the tenant has none of that id)."""
        return await _answered(self.operations.get_alert(alert_id))

    # -- incidents ---------------------------------------------------------------------

    async def incidents(
        self,
        state: Sequence[str] = (),
        severity: Sequence[str] = (),
        receiver: Sequence[str] = (),
        filter: Sequence[str] = (),
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> Page[Incident]:
        """A page of incidents, newest first (the REST list's filters and cursor)."""
        query = incident_query(
            list(state), list(severity), list(receiver), list(filter), limit, cursor
        )
        return await _answered(self.operations.list_incidents(query))

    async def incident(self, incident_id: str) -> tuple[Incident, list[dict[str, Any]]]:
        """One incident with its members, and its timeline (oldest first)."""
        return await _answered(self.operations.get_incident(incident_id))

    async def acknowledge(self, incident_id: str, reason: str | None = None) -> Incident:
        """Acknowledge an incident and its firing alerts: its escalation stops."""
        act = self.operations.act_on_incident(Action.ACKNOWLEDGE, incident_id, None, reason)
        return await _answered(act)

    async def resolve(self, incident_id: str, reason: str | None = None) -> Incident:
        """Resolve an incident and its open alerts."""
        act = self.operations.act_on_incident(Action.RESOLVE, incident_id, None, reason)
        return await _answered(act)

    async def escalate(self, incident_id: str, reason: str | None = None) -> int:
        """Page the incident's next escalation level now; the level paged."""
        return await _answered(self.operations.escalate_incident(incident_id, None, reason))

    async def feedback(self, incident_id: str, verdict: str) -> Incident:
        """Say whether the incident was ``actionable`` or ``noise``."""
        if verdict not in ("actionable", "noise"):
            raise bad_param("verdict", "verdict must be actionable or noise")
        return await _answered(self.operations.give_feedback(incident_id, verdict))

    async def watch(
        self, after: str | None = None, poll_seconds: float | None = None
    ) -> AsyncIterator[IncidentChanges]:
        """Incident changes as they happen, from now (or from feed position ``after``,
        which every item carries as ``position``). Survives correlator restarts."""
        poll = self.settings.live_poll_seconds if poll_seconds is None else poll_seconds
        if after is not None:  # a malformed position is refused before the first read
            try:
                check_position(after)
            except InvalidRequest as exc:
                raise refusal(exc) from None
        async for changes in self.operations.watch(after, poll):
            yield changes

    # -- silences ----------------------------------------------------------------------

    async def silences(self, filter: Sequence[str] = ()) -> list[Silence]:
        """Every silence (expired ones until their retention ends)."""
        return await _answered(self.operations.list_silences(filter_param(list(filter))))

    async def silence(
        self,
        matchers: Sequence[str],
        comment: str,
        duration: timedelta = timedelta(hours=1),
        starts_at: datetime | None = None,
    ) -> str:
        """Mute alerts whose labels match every matcher (like ``service="db"``) for
        ``duration``; the silence's id."""
        parsed = filter_param(list(matchers))
        if not parsed:
            raise bad_param("matchers", "a silence needs at least one matcher")
        start = starts_at or datetime.now(UTC)
        draft = SilenceDraft(parsed, start, start + duration, CLIENT_LABEL, comment)
        return await _answered(self.operations.set_silence(draft))

    async def expire_silence(self, silence_id: str) -> Silence:
        """End a silence now."""
        return await _answered(self.operations.expire_silence(silence_id))
