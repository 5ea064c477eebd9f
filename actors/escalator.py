"""The escalator: carries out each tenant's escalation policies.

One actor (``num_cpus=0``, async) follows every tenant's notifications stream (the
correlator's "this group has something to say" entries):

* a group's **first** notification starts the escalation of its incident, if the
  route's receiver has a policy (``escalation.receivers`` / ``default_policy``);
* **all_resolved** resolves it: resolved notices go to the levels that got a firing
  notice, and only to them.

Due steps come from the escalation store (a Redis sorted set). Before a step is
carried out the incident's state is read from the correlator: an acknowledged one
stops escalating, a resolved one is resolved. Each step is delivered through the
notification log (a step delivered before a crash is not sent again), the steps and
breaches go on the incident's timeline, and only then is the new state saved: every
overdue step fires once after a restart, none is skipped, none repeats.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import ray

from actors.notifiers.channels import build_sender, tenant_channels
from actors.notifiers.pipeline import Delivery, Sender, build_pipeline
from alerting.delivery import RetryPolicy
from alerting.errors import InvalidTransition
from alerting.escalation import (
    Breach,
    EscalationPolicy,
    EscalationState,
    Notify,
    TargetKind,
    acknowledge,
    advance,
    escalate_now,
    resolve,
    start,
)
from alerting.incident import Incident, IncidentNotFound, IncidentState, TimelineEntry
from alerting.message import Message, MessageKind, message_of
from alerting.oncall import on_call
from cluster import keys
from cluster.config import TenantConfig, load_config
from cluster.escalation_store import EscalationStore
from cluster.notification_log import NotificationLog
from cluster.redis_client import async_client, sync_client
from cluster.runtime import NAMESPACE, correlator_name, long_lived_actor_options, shard_of
from cluster.secrets import SecretError, SecretStore, box_for
from cluster.settings import Settings

log = logging.getLogger("vigil.escalator")

ESCALATOR_NAME = "escalator"
POLL_SECONDS = 0.2  # how long a stream read blocks, so due steps are never late by more
START_REASONS = ("first",)
RESOLVE_REASONS = ("all_resolved",)


class TenantEscalations:
    """One tenant's escalations: its policies, stream position and loop."""

    def __init__(self, tenant: TenantConfig, settings: Settings) -> None:
        self.config = tenant
        self.settings = settings
        self.client = async_client(settings.redis_url or "")
        self.sync_client = sync_client(settings.redis_url or "", socket_timeout=5)  # secrets
        self.store = EscalationStore(self.client, tenant.id)
        self.log = NotificationLog(self.client, tenant.id)
        self.position = "0-0"
        self.policies: dict[str, EscalationPolicy] = {
            name: spec.policy(name) for name, spec in tenant.escalation.policies.items()
        }
        self.tier = tenant.escalation.tier()
        self.channels = tenant_channels(tenant)
        self.retry = RetryPolicy()
        # The loop and a manual escalation both read, change and save states.
        self.lock = asyncio.Lock()

    @property
    def tenant(self) -> str:
        return self.config.id

    async def run_forever(self) -> None:
        stored = await self.client.hget(keys.escalator(self.tenant), "position")
        self.position = stored.decode() if stored else "0-0"
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    await self.round(session)
                except Exception as exc:  # Redis away, a correlator restarting: retry
                    log.warning("tenant %s: escalation round failed: %r", self.tenant, exc)
                    await asyncio.sleep(0.5)

    async def round(self, session: aiohttp.ClientSession) -> None:
        """Read new notifications (waiting at most until the next step is due), then
        carry out every due step."""
        wait = POLL_SECONDS
        upcoming = await self.store.next_due()
        if upcoming is not None:
            wait = min(wait, max(0.0, (upcoming - datetime.now(UTC)).total_seconds()))
        block = max(1, int(wait * 1000))
        found = await self.client.xread(
            {keys.notifications(self.tenant): self.position}, count=100, block=block
        )
        async with self.lock:
            for _, entries in found:
                for entry_id, fields in entries:
                    await self._follow(session, json.loads(fields[b"notifications"]))
                    self.position = entry_id.decode()
                    await self.client.hset(keys.escalator(self.tenant), "position", self.position)
            for state in await self.store.due(datetime.now(UTC)):
                await self._carry_out(session, state)

    async def escalate(
        self, session: aiohttp.ClientSession, incident_id: str, by: str | None
    ) -> int:
        """Notify the incident's next level now; return that level (counted from 1).
        ``IncidentNotFound`` / ``InvalidTransition`` say why not."""
        async with self.lock:
            incident = await self._incident(incident_id)
            if incident is None:
                raise IncidentNotFound(f"no incident {incident_id!r} for tenant {self.tenant!r}")
            if incident.state is IncidentState.RESOLVED:
                raise InvalidTransition(f"incident {incident_id} is resolved")
            state = await self.store.get(incident_id)
            if state is None:
                name = self.config.escalation.policy_name_for(incident.receiver)
                if name is None:
                    raise InvalidTransition(
                        f"receiver {incident.receiver!r} has no escalation policy"
                    )
                state = start(
                    incident_id,
                    self.policies[name],
                    incident.severity,
                    incident.created_at,
                    self.tier,
                )
            now = datetime.now(UTC)
            state, step = escalate_now(state, self.policies[state.policy], now)
            if step is None:
                raise InvalidTransition(f"incident {incident_id} has no further level")
            entries = await self._deliver(session, step, incident)
            if by:
                entries[0] = replace(entries[0], by=by)
            await self._note(incident_id, entries)
            await self.store.save([state])
            return step.level + 1

    async def _follow(self, session: aiohttp.ClientSession, records: list[dict[str, Any]]) -> None:
        for record in records:
            incident_id, reason = record["incident_id"], record["reason"]
            existing = await self.store.get(incident_id)
            if reason in START_REASONS and existing is None:
                name = self.config.escalation.policy_name_for(record["receiver"])
                if name is None:
                    continue
                incident = await self._incident(incident_id)
                if incident is None:
                    continue
                state = start(
                    incident_id,
                    self.policies[name],
                    incident.severity,
                    datetime.fromtimestamp(record["at"], UTC),
                    self.tier,
                )
                await self.store.save([state])
                await self._note(
                    incident_id,
                    [TimelineEntry(datetime.now(UTC), "escalation_started", f"policy {name}")],
                )
            elif reason in RESOLVE_REASONS and existing is not None:
                await self._resolve(session, existing, await self._incident(incident_id))

    async def _carry_out(self, session: aiohttp.ClientSession, state: EscalationState) -> None:
        incident = await self._incident(state.incident_id)
        now = datetime.now(UTC)
        if incident is None or incident.state is IncidentState.RESOLVED:
            await self._resolve(session, state, incident)
            return
        if incident.state is IncidentState.ACKNOWLEDGED and state.acknowledged_at is None:
            state = acknowledge(state, incident.acknowledged_at or now)
        policy = self.policies[state.policy]
        state, events = advance(state, policy, now)
        entries: list[TimelineEntry] = []
        for event in events:
            if isinstance(event, Breach):
                entries.append(
                    TimelineEntry(
                        now,
                        "sla_breached",
                        f"{event.deadline.value} deadline {event.due.isoformat()}",
                    )
                )
            else:
                entries += await self._deliver(session, event, incident)
        await self._note(state.incident_id, entries)
        await self.store.save([state])

    async def _deliver(
        self, session: aiohttp.ClientSession, step: Notify, incident: Incident
    ) -> list[TimelineEntry]:
        """Notify every target of a step; what happened, for the timeline."""
        now = datetime.now(UTC)
        base = message_of(incident, now, self._link(incident.id))
        message = replace(base, kind=MessageKind.FIRING, step=step.step, level=step.level)
        entries = [
            TimelineEntry(
                now, "escalated", f"level {step.level + 1} (step {step.step}, {step.reason.value})"
            )
        ]
        for target in step.targets:
            if target.kind is TargetKind.SCHEDULE:
                entries.append(self._on_call_entry(target.name, now))
                continue
            entries.append(await self._send(session, message, [target.name, *step.fallback]))
        return entries

    async def _send(
        self, session: aiohttp.ClientSession, message: Message, chain: list[str]
    ) -> TimelineEntry:
        senders, problem = await asyncio.to_thread(self._senders, session, chain)
        if not senders:
            return TimelineEntry(datetime.now(UTC), "delivery_failed", problem or "no channel")
        pipeline = build_pipeline(senders, self.retry, log=self.log)
        delivery = await pipeline.run(Delivery(message))
        event = "delivered" if delivery.delivered else "delivery_failed"
        return TimelineEntry(datetime.now(UTC), event, "; ".join(delivery.steps)[:1000])

    def _senders(
        self, session: aiohttp.ClientSession, chain: list[str]
    ) -> tuple[list[tuple[str, Sender]], str | None]:
        """Senders for the chain's channels, up to the first whose secret cannot be read
        (and why); a blocking Redis read, so run off the event loop."""
        senders: list[tuple[str, Sender]] = []
        try:
            secrets = SecretStore(self.sync_client, self.tenant, box_for(self.settings))
            for name in chain:
                sender = build_sender(
                    session, self.channels[name], secrets, self.settings.public_base_url
                )
                senders.append((name, sender))
        except SecretError as exc:
            return senders, str(exc)
        return senders, None

    def _on_call_entry(self, schedule_name: str, now: datetime) -> TimelineEntry:
        schedule = self.config.schedule(schedule_name)
        found = on_call(schedule, now) if schedule is not None else None
        who = found.user if found is not None else "nobody"
        # People have no contact channels yet: the step names who is on call.
        return TimelineEntry(now, "on_call", f"schedule {schedule_name}: {who} is on call")

    async def _resolve(
        self, session: aiohttp.ClientSession, state: EscalationState, incident: Incident | None
    ) -> None:
        """Stop the escalation; resolved notices to the levels notified (``incident``:
        as the caller just read it, ``None`` if it is gone)."""
        state, levels = resolve(state, datetime.now(UTC))
        entries = []
        if incident is not None and levels:
            policy = self.policies[state.policy]
            base = message_of(incident, datetime.now(UTC), self._link(incident.id))
            for level in levels:
                message = replace(base, kind=MessageKind.RESOLVED, step=level, level=level)
                for target in policy.levels[level].targets:
                    if target.kind is TargetKind.CHANNEL:
                        chain = [target.name, *policy.levels[level].fallback]
                        entries.append(await self._send(session, message, chain))
        await self._note(state.incident_id, entries)
        await self.store.save([state])

    async def _incident(self, incident_id: str) -> Incident | None:
        correlator = self._correlator()
        try:
            incident, _ = await correlator.get_incident.remote(self.tenant, incident_id)
        except ray.exceptions.RayTaskError:
            return None
        return incident  # type: ignore[no-any-return]

    async def _note(self, incident_id: str, entries: list[TimelineEntry]) -> None:
        if entries:
            await self._correlator().note.remote(self.tenant, incident_id, entries)

    def _correlator(self) -> Any:
        name = correlator_name(shard_of(self.tenant, self.settings.correlator_shards))
        return ray.get_actor(name, namespace=NAMESPACE)

    def _link(self, incident_id: str) -> str:
        return f"{self.settings.public_base_url}/api/v1/incidents/{incident_id}"


class EscalatorActor:
    """Runs every tenant's escalations that have a policy."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = load_config(settings.config_path, settings.max_escalation_levels)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.workers: dict[str, TenantEscalations] = {}
        ray.get_runtime_context().current_actor.boot.remote()

    async def boot(self) -> int:
        for tenant in self.config.tenants:
            if tenant.escalation.policies and tenant.id not in self.tasks:
                worker = TenantEscalations(tenant, self.settings)
                self.workers[tenant.id] = worker
                self.tasks[tenant.id] = asyncio.get_running_loop().create_task(worker.run_forever())
        return len(self.tasks)

    async def escalate(self, tenant: str, incident_id: str, by: str | None = None) -> int:
        """Escalate one incident now (``PUT .../escalate``, Slack's button)."""
        worker = self.workers.get(tenant)
        if worker is None:
            raise InvalidTransition(f"tenant {tenant!r} has no escalation policies")
        async with aiohttp.ClientSession() as session:
            return await worker.escalate(session, incident_id, by)

    async def ping(self) -> bool:
        return True


RemoteEscalatorActor = ray.remote(EscalatorActor)


def ensure_escalator(settings: Settings) -> Any:
    """The escalator's handle, creating it on first use."""
    options = long_lived_actor_options(ESCALATOR_NAME)
    return RemoteEscalatorActor.options(**options).remote(settings)
