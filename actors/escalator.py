"""The escalator: delivers each tenant's group notifications and carries out its
escalation policies.

One actor per tenant shard and lane (``escalator:<n>``, ``escalator:<n>.<lane>``,
``num_cpus=0``, async) follows each of its tenants' notifications stream (the
correlator's group flushes and incident news) and does its lane's share of it
(``alerting/lanes.py``: a group's notifications by group key, an incident's escalation
by incident id; one lane unless ``VIGIL_ESCALATOR_LANES`` says more):

* a group notification goes to the integrations of its ``alertmanager.yml`` receiver
  (webhook, Slack, Teams, PagerDuty), in Alertmanager's formats, through the delivery
  pipeline (``actors/notifiers/am_receivers.py``); deliveries run in the background, and
  the stored stream position waits for them (``actors/stream_frontier.py``), so a
  restart delivers what was under way, once;
* the first group notification with firing alerts starts the escalation of its
  incident, if the receiver has a policy (``escalation.receivers`` / ``default_policy``):
  a receiver with both is told as Alertmanager would tell it *and* escalates;
* the incident **resolving** (its alerts, or a person) resolves it: resolved notices go
  to the levels that got a firing notice, and only to them;
* a person **acknowledging** it stops it at once: acknowledged notices go to the same
  levels (PagerDuty gets its acknowledge event);
* the incident being **muted** (every open alert silenced or inhibited) pauses it, and
  **unmuted** resumes it (``alerting/escalation.py`` says how the clocks move). A step
  that comes due for a muted incident pauses it rather than pages: muting never pages
  and never resolves.

Due steps come from the escalation store (a Redis sorted set). Before a step is
carried out the incident's state is read from the correlator: an acknowledged one
stops escalating, a resolved one is resolved. Each step is delivered through the
notification log (a step delivered before a crash is not sent again), and only then
is the new state saved: every overdue step fires once after a restart, none is
skipped, none repeats. The steps, deliveries and breaches are written to the
incident's timeline once per round (a crash in between can lose those entries, never
a notice).

Throughput: due steps run as concurrent tasks, their Redis reads and writes coalesced
into shared round trips (``cluster.coalescer``), and the channel secrets are decrypted
once per change (``cluster.secret_cache``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import aiohttp
import ray

from actors.correlator_client import correlator_client
from actors.keyed_locks import KeyedLocks
from actors.loop_keeper import LoopKeeper, mark_progress
from actors.notifiers.am_receivers import (
    GroupMessage,
    Integration,
    IntegrationUnusable,
    group_message,
    group_sender,
    integrations_of,
)
from actors.notifiers.channels import build_sender, tenant_channels
from actors.notifiers.delivery_metrics import record_delivery
from actors.notifiers.pipeline import DELIVERY_OUTCOMES, Delivery, Sender, build_pipeline
from actors.stream_frontier import StreamFrontier
from actors.whereabouts import Whereabouts
from alerting.amconfig import RoutingConfig
from alerting.correlation import Notification
from alerting.delivery import RetryPolicy
from alerting.errors import InvalidTransition
from alerting.escalation import (
    Breach,
    Deadline,
    EscalationPolicy,
    EscalationState,
    Notify,
    acknowledge,
    advance,
    escalate_now,
    pause,
    resolve,
    resume,
    start,
)
from alerting.flush import FLUSH_REASONS, NotifyReason
from alerting.incident import (
    Incident,
    IncidentNotFound,
    IncidentState,
    TimelineEntry,
    TimelineEvent,
)
from alerting.lanes import lane_of, resume_position, stream_order, trim_point
from alerting.liveness import LoopKind
from alerting.message import Message, MessageKind, message_of
from alerting.recipients import Chain, recipients
from cluster import keys, tracing
from cluster.clock import Clock, utc_now
from cluster.coalescer import Coalescer
from cluster.config import TenantConfig, VigilConfig, load_config
from cluster.errors import SecretError
from cluster.escalation_store import EscalationStore
from cluster.incident_store import append_timelines
from cluster.logs import log_timeline
from cluster.metrics import (
    ESCALATION_DELAY,
    ESCALATION_STEPS_DELIVERED,
    ESCALATION_STEPS_DUE,
    NOTIFICATION_FALLBACKS,
    NOTIFICATION_RETRIES,
    NOTIFICATIONS,
    SLA_BREACHES,
    expect_loop,
    loop_failed,
)
from cluster.notification_log import CoalescedLog, NotificationLog
from cluster.observability import observe_process
from cluster.record_retention import forget_purged
from cluster.records import NotificationsEntry
from cluster.redis_client import async_client, text
from cluster.runtime import (
    escalator_name,
    long_lived_actor_options,
    shard_of,
)
from cluster.secret_cache import SecretCache, SecretSnapshot
from cluster.settings import Settings

log = logging.getLogger("vigil.escalator")

POLL_SECONDS = 0.2  # how long a stream read blocks, so due steps are never late by more
BUSY_POLL_SECONDS = 0.02  # the same while overdue steps are being delivered
STEP_CONCURRENCY = 256  # due steps delivered at once per tenant
CONNECTIONS = 256  # open HTTP connections per tenant (kept alive between notices)
DUE_BATCH = 500  # due steps taken per round
RECORD_SWEEP_SECONDS = 600.0  # how often records of purged incidents are dropped
REDIS_CALLS_IN_FLIGHT = 8  # coalesced Redis calls of one kind at once (cluster.coalescer)
# A group's notification that lists firing alerts starts its incident's escalation.
START_REASONS = FLUSH_REASONS - {NotifyReason.ALL_RESOLVED}
RESOLVE_REASONS = frozenset({NotifyReason.INCIDENT_RESOLVED, NotifyReason.RESOLVED_BY_HAND})
# Notifications the receiver's own integrations are told of (risk pages too).
DELIVERED_REASONS = FLUSH_REASONS | {NotifyReason.RISK}


def positions_by_lane(raw: dict[bytes, bytes]) -> dict[int, str]:
    """The stream positions in an ``HGETALL`` of ``keys.escalator(tenant)``, by lane."""
    positions = {}
    for field, value in raw.items():
        lane = keys.lane_of_position(text(field))
        if lane is not None:
            positions[lane] = text(value)
    return positions


def starts_escalation(notification: Notification) -> bool:
    """Whether a notification starts its incident's escalation (if it has none yet):
    a group's flush that lists firing alerts, as decided for send_resolved integrations
    (the same flush decided for the others says nothing new)."""
    return (
        notification.reason in START_REASONS
        and bool(notification.firing)
        and notification.send_resolved
    )


class TenantEscalations:
    """One tenant's escalations: its policies, stream position and loop.

    Due steps run as tasks, at most ``STEP_CONCURRENCY`` at once, so a channel that is
    down (retries, a ``Retry-After``, a hanging attempt) delays only its own incident's
    step, not every other deadline. Steps, hand escalations and resolutions of one
    incident take turns under that incident's lock.
    """

    def __init__(
        self,
        tenant: TenantConfig,
        routing: RoutingConfig,
        settings: Settings,
        clock: Clock = utc_now,
        lane: int = 0,
    ) -> None:
        self.clock = clock  # the one source of "now": a test can drive it
        self.config = tenant
        self.lane = lane  # this process's share of the tenant (alerting/lanes.py)
        self.lanes = settings.escalator_lanes
        self.timeline_cap = tenant.tier_limits().timeline_entries  # its tier's
        self.settings = settings
        self.integrations: dict[str, list[Integration]] = {
            r.name: integrations_of(r) for r in routing.receivers if r.integrations()
        }
        self.global_settings = routing.global_settings
        self.group_locks = KeyedLocks()  # a group's notifications go out in order
        self.frontier = StreamFrontier("0-0")
        self.client = async_client(settings.redis_url or "")
        self.store = EscalationStore(self.client, tenant.id, lane, self.lanes)
        self.swept_at = 0.0  # monotonic time of the last record sweep (0: due at once)
        self.correlator = correlator_client(tenant.id, settings)
        self.log = CoalescedLog(NotificationLog(self.client, tenant.id), REDIS_CALLS_IN_FLIGHT)
        # Steps due together read and save their states in shared round trips.
        self.read_state = Coalescer(self._read_states, DUE_BATCH, REDIS_CALLS_IN_FLIGHT)
        self.save_state = Coalescer(self._save_states, DUE_BATCH, REDIS_CALLS_IN_FLIGHT)
        self.position = "0-0"
        self.policies: dict[str, EscalationPolicy] = {
            name: spec.policy(name) for name, spec in tenant.escalation.policies.items()
        }
        self.tier = tenant.escalation.tier()
        self.channels = tenant_channels(tenant)
        self.retry = RetryPolicy()
        self.jitter = random.Random()  # one for every send: seeding one per send costs
        self.locks = KeyedLocks()
        self.in_flight: dict[str, asyncio.Task[None]] = {}
        self.slots = asyncio.Semaphore(STEP_CONCURRENCY)
        # Timeline entries wait here and are written once per round, in one round trip
        # (straight to the stored timelines: the correlator need not rewrite incidents).
        self.notes: dict[str, list[TimelineEntry]] = {}
        self.flushing: asyncio.Task[None] | None = None
        self.secret_cache = SecretCache(self.client, tenant.id, settings)
        self.secrets = SecretSnapshot(tenant.id, {}, {})  # refreshed each round
        self.task: asyncio.Task[None] | None = None
        self.progress_at = 0.0  # epoch seconds of the last round (the heartbeat)
        self.entry_tasks: set[asyncio.Task[None]] = set()
        self._stored_position = ""
        self._zero_metrics()

    def _zero_metrics(self) -> None:
        """Every series of the tenant at 0 from the start (see ``CorrelationMetrics``)."""
        tenant = self.tenant
        ESCALATION_STEPS_DUE.labels(tenant)
        ESCALATION_STEPS_DELIVERED.labels(tenant)
        ESCALATION_DELAY.labels(tenant)
        for deadline in Deadline:
            SLA_BREACHES.labels(tenant, deadline.value)
        kinds: set[str] = {c.type for c in self.channels.values()}
        for integrations in self.integrations.values():
            kinds |= {i.channel_type for i in integrations}
        for kind in kinds:
            NOTIFICATION_RETRIES.labels(tenant, kind)
            NOTIFICATION_FALLBACKS.labels(tenant, kind)
            for outcome in DELIVERY_OUTCOMES:
                NOTIFICATIONS.labels(tenant, kind, outcome)

    @property
    def tenant(self) -> str:
        return self.config.id

    def owns_incident(self, incident_id: str) -> bool:
        """Whether this lane runs the incident's escalation."""
        return lane_of(incident_id, self.lanes) == self.lane

    def owns_group(self, group_key: str) -> bool:
        """Whether this lane delivers the group's notifications."""
        return lane_of(group_key, self.lanes) == self.lane

    def _owns_record(self, record: Mapping[str, Any]) -> bool:
        """Whether a stored notification has work for this lane: its group's delivery
        or its incident's escalation (the rest is not even built)."""
        return self.owns_group(record["group_key"]) or self.owns_incident(record["incident_id"])

    def ensure_running(self) -> bool:
        """Run the loop in the background where it is not running; whether it had to."""
        if self.task is not None and not self.task.done():
            return False
        self.task = asyncio.get_running_loop().create_task(self.run_forever())
        return True

    async def lag_seconds(self) -> float:
        """The age of the most overdue step (0: none is overdue)."""
        upcoming = await self.store.next_due()
        if upcoming is None:
            return 0.0
        return max(0.0, (self.clock() - upcoming).total_seconds())

    async def run_forever(self) -> None:
        """Rounds until the actor ends; each failed round is retried (Redis away, a
        correlator restarting), so only a hung round stops the heartbeat."""
        # Every page goes out under the outbound policy (cluster/outbound.py).
        async with self.settings.outbound_policy.session(CONNECTIONS) as session:
            positioned = False
            while True:
                try:
                    if not positioned:
                        await self._position()
                        positioned = True
                    await self.round(session)
                    self.progress_at = mark_progress()
                    await self._sweep_records()
                except Exception as exc:
                    loop_failed("escalator", exc)
                    log.warning("tenant %s: escalation round failed: %r", self.tenant, exc)
                    await asyncio.sleep(0.5)

    async def _position(self) -> None:
        """Where to read from after a (re)start, and this lane's due set complete: the
        earliest position any lane stored (``resume_position`` says why), and the
        escalations of its incidents moved to its due set, were the number of lanes
        changed."""
        stored = await self._stored_positions()
        self.position = resume_position(stored.values())
        self.frontier = StreamFrontier(self.position)
        moved = await self.store.adopt()
        if moved:
            log.info("tenant %s: lane %d took over %d escalations", self.tenant, self.lane, moved)

    async def _stored_positions(self) -> dict[int, str]:
        """Every lane's stored stream position, by lane (lanes of an earlier number
        included)."""
        raw: dict[bytes, bytes] = await self.client.hgetall(keys.escalator(self.tenant))  # type: ignore[assignment]
        return positions_by_lane(raw)

    async def _sweep_records(self) -> None:
        """Now and then, drop the records of incidents the correlator purged
        (``cluster/record_retention.py``); a failed sweep is tried again next time.
        Lane 0 sweeps for the tenant's every lane."""
        now = time.monotonic()
        if self.lane != 0 or now - self.swept_at < RECORD_SWEEP_SECONDS:
            return
        self.swept_at = now
        try:
            dropped = await forget_purged(self.client, self.tenant)
        except Exception as exc:
            log.warning("tenant %s: record sweep failed, will retry: %r", self.tenant, exc)
            return
        if dropped:
            log.info("tenant %s: dropped %d records of purged incidents", self.tenant, dropped)

    async def round(self, session: aiohttp.ClientSession) -> None:
        """Read new notifications (waiting at most until the next step is due), then
        start every due step that is not already under way."""
        found: list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]
        found = await self.client.xread(  # type: ignore[assignment]
            {keys.notifications(self.tenant): self.position},
            count=1000,
            block=max(1, int(await self._wait() * 1000)),
        )
        self.secrets = await self.secret_cache.snapshot()
        for _, entries in found:
            keep = self._owns_record if self.lanes > 1 else None
            parsed = [
                (text(i), NotificationsEntry.from_fields(fields, keep)) for i, fields in entries
            ]
            read = [(i, entry.notifications) for i, entry in parsed]
            # Traced entries' work runs in a span of their trace: the tasks it starts
            # (deliveries, the notifiers' calls) inherit it.
            traces = [entry.trace for _, entry in parsed]
            with tracing.span("escalate", traces, attributes={"vigil.tenant": self.tenant}):
                await self._take(session, read)
            self.position = read[-1][0]
        await self._store_position()
        now = self.clock()
        due = await self.store.due(now, limit=DUE_BATCH + len(self.in_flight))
        due = [i for i in due if i not in self.in_flight]
        if due:
            incidents = await self._incidents(due)
            for incident_id in due:
                self._spawn(incident_id, self._step(session, incident_id, incidents))
        if self.notes and (self.flushing is None or self.flushing.done()):
            # In the background: a busy correlator must not hold up the next deadline.
            self.flushing = asyncio.get_running_loop().create_task(self._flush_notes())

    async def _take(
        self, session: aiohttp.ClientSession, read: list[tuple[str, tuple[Notification, ...]]]
    ) -> None:
        """Start the work of stream entries just read: new escalations, news of
        incidents, receivers' notifications."""
        records = [r for _, entry_records in read for r in entry_records]
        starting = [
            r for r in records if starts_escalation(r) and self.owns_incident(r.incident_id)
        ]
        await self._start(session, starting)
        docs = await self._alert_documents(records)
        for entry, entry_records in read:
            # Everything that may wait (a person's notices, a receiver's delivery, an
            # incident's lock) runs in the background: a channel that is down must not
            # hold up the next deadline. The entry counts as done, for the stored
            # position, once all of it is.
            work = self._escalation_work(session, entry_records)
            work += [
                self._group_send(session, integration, message)
                for integration, message in self._group_sends(entry_records, docs)
            ]
            self.frontier.read(entry, len(work))
            for piece in work:
                self._spawn_entry_work(entry, piece)

    async def _store_position(self) -> None:
        """Store the position up to which this lane's deliveries are done (a restart
        reads again from there; the notification log skips what was delivered)."""
        position = self.frontier.position
        if position == self._stored_position:
            return
        bookkeeping = keys.escalator(self.tenant)
        # The other lanes' positions come back in the same round trip as the store.
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hset(bookkeeping, keys.escalator_position(self.lane), position)
            pipe.hgetall(bookkeeping)
            _, raw = await pipe.execute()
        self._stored_position = position
        stored = positions_by_lane(raw)
        # Entries below every lane's position are delivered: only now may they leave
        # the stream (approximately: whole nodes below it, never past it).
        trim_to = trim_point(stored, self.lanes)
        if trim_to is not None:
            await self.client.xtrim(
                keys.notifications(self.tenant), minid=trim_to, approximate=True
            )
        # Positions of lanes that no longer run (their number was lowered) hold back
        # every restart's reading; once this lane has read past one, it is not needed.
        if self.lane != 0:
            return
        stale = [
            keys.escalator_position(lane)
            for lane, at in stored.items()
            if lane >= self.lanes and stream_order(at) <= stream_order(position)
        ]
        if stale:
            await self.client.hdel(bookkeeping, *stale)

    async def _alert_documents(self, records: Sequence[Notification]) -> dict[str, dict[str, Any]]:
        """The stored alerts the receivers' notifications list (one round trip)."""
        ids = {
            alert_id
            for r in records
            if r.reason in DELIVERED_REASONS
            and r.receiver in self.integrations
            and self.owns_group(r.group_key)
            for alert_id in r.alert_ids.values()
        }
        if not ids:
            return {}
        wanted = sorted(ids)
        raw = await self.client.hmget(keys.alerts(self.tenant), wanted)
        return {i: json.loads(doc) for i, doc in zip(wanted, raw, strict=True) if doc}

    def _group_sends(
        self, records: Sequence[Notification], docs: dict[str, dict[str, Any]]
    ) -> list[tuple[Integration, GroupMessage]]:
        """The requests one stream entry's notifications make of receivers' integrations."""
        sends = []
        for record in records:
            if record.reason not in DELIVERED_REASONS or not self.owns_group(record.group_key):
                continue
            for integration in self.integrations.get(record.receiver, []):
                if integration.send_resolved != record.send_resolved:
                    continue
                try:
                    message = group_message(
                        self.tenant,
                        record,
                        integration,
                        docs,
                        self.settings.public_base_url,
                        self.global_settings,
                    )
                except IntegrationUnusable as exc:
                    entry = TimelineEntry(
                        self.clock(),
                        TimelineEvent.DELIVERY_FAILED,
                        f"{integration.name}: {exc}",
                    )
                    self._note(record.incident_id, [entry])
                    continue
                if message is not None:
                    sends.append((integration, message))
        return sends

    def _spawn_entry_work(self, entry: str, work: Coroutine[Any, Any, None]) -> None:
        """Run one piece of a stream entry's work in the background; the entry is done
        with it once it ends, however it ends."""

        async def run() -> None:
            try:
                await work
            except Exception as exc:  # a bug must not hold the stream position forever
                log.warning("tenant %s: work of entry %s failed: %r", self.tenant, entry, exc)
            finally:
                self.frontier.done(entry)

        task = asyncio.get_running_loop().create_task(run())
        self.entry_tasks.add(task)
        task.add_done_callback(self.entry_tasks.discard)

    async def _group_send(
        self, session: aiohttp.ClientSession, integration: Integration, message: GroupMessage
    ) -> None:
        """Deliver one group notification to one integration (a group's go out in order)."""
        async with self.group_locks.hold(message.group_key), self.slots:
            chain = [(integration.name, group_sender(session))]
            pipeline = build_pipeline(chain, self.retry, rng=self.jitter, log=self.log)
            started = time.perf_counter()
            delivery = await pipeline.run(Delivery(message))
        kind = integration.channel_type
        record_delivery(self.tenant, delivery, kind, lambda _: kind, time.perf_counter() - started)
        event = TimelineEvent.DELIVERED if delivery.delivered else TimelineEvent.DELIVERY_FAILED
        detail = f"{message.reason} to {integration.name}: " + "; ".join(delivery.steps)
        self._note(message.incident_id, [TimelineEntry(self.clock(), event, detail[:1000])])

    async def _wait(self) -> float:
        """How long the stream read may block: until the next step is due, at most
        ``POLL_SECONDS``; briefly while overdue steps are being delivered."""
        upcoming = await self.store.next_due()
        if upcoming is None:
            return POLL_SECONDS
        wait = (upcoming - self.clock()).total_seconds()
        if wait <= 0 and self.in_flight:
            return BUSY_POLL_SECONDS  # the overdue one may be one of ours, under way
        return min(POLL_SECONDS, max(0.0, wait))

    def _spawn(self, incident_id: str, step: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(step)
        self.in_flight[incident_id] = task
        task.add_done_callback(lambda done: self._finished(incident_id, done))

    def _finished(self, incident_id: str, task: asyncio.Task[None]) -> None:
        self.in_flight.pop(incident_id, None)
        if not task.cancelled() and task.exception() is not None:
            # The state was not saved, so the step comes round again.
            log.warning(
                "tenant %s: step of %s failed: %r", self.tenant, incident_id, task.exception()
            )

    async def _step(
        self, session: aiohttp.ClientSession, incident_id: str, incidents: dict[str, Incident]
    ) -> None:
        async with self.slots, self.locks.hold(incident_id):
            state = await self._still_due(incident_id)
            if state is not None:
                await self._carry_out(session, state, incidents.get(incident_id))

    async def _still_due(self, incident_id: str) -> EscalationState | None:
        """The incident's state if a step is still due (call under its lock): read again,
        since a hand escalation or a resolution may have moved it meanwhile."""
        state = await self.read_state.one(incident_id)
        due = state.due_at() if state is not None else None
        if state is None or due is None or due > self.clock():
            return None
        return state

    async def escalate(
        self, session: aiohttp.ClientSession, incident_id: str, by: str | None
    ) -> int:
        """Notify the incident's next level now; return that level (counted from 1).
        ``IncidentNotFound`` / ``InvalidTransition`` say why not."""
        self.secrets = await self.secret_cache.snapshot()
        async with self.locks.hold(incident_id):
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
            now = self.clock()
            state, step = escalate_now(state, self.policies[state.policy], now)
            if step is None:
                raise InvalidTransition(f"incident {incident_id} has no further level")
            base = message_of(incident, now, self._link(incident_id))
            entries = await self._deliver(session, step, base)
            if by:
                entries[0] = replace(entries[0], by=by)
            self._note(incident_id, entries)
            await self.store.save([state])
        await self._flush_notes()
        return step.level + 1

    def _escalation_work(
        self, session: aiohttp.ClientSession, records: Sequence[Notification]
    ) -> list[Coroutine[Any, Any, None]]:
        """What an entry's incident news asks of their escalations: pause or resume
        (muted, unmuted), stop (acknowledged), resolve. Run in the background, each
        under its incident's lock, in stream order."""
        work: list[Coroutine[Any, Any, None]] = []
        for record in records:
            reason, incident_id = record.reason, record.incident_id
            if not self.owns_incident(incident_id):
                continue
            if reason in (NotifyReason.MUTED, NotifyReason.UNMUTED):
                work.append(self._mute(incident_id, reason is NotifyReason.MUTED, record.at))
            elif reason in RESOLVE_REASONS or reason is NotifyReason.ACKNOWLEDGED:
                acknowledged = reason is NotifyReason.ACKNOWLEDGED
                work.append(self._stop(session, incident_id, acknowledged))
        return work

    async def _stop(
        self, session: aiohttp.ClientSession, incident_id: str, acknowledged: bool
    ) -> None:
        """Acknowledged: no more levels. Resolved: over, and those paged are told."""
        async with self.locks.hold(incident_id):
            existing = await self.store.get(incident_id)
            if existing is None or existing.resolved_at is not None:
                return
            incident = await self._incident(incident_id)
            if acknowledged:
                await self._acknowledged(session, existing, incident)
            else:
                await self._resolve(session, existing, incident)

    async def _mute(self, incident_id: str, muted: bool, when: datetime) -> None:
        """Pause (muted) or resume (unmuted) an incident's escalation, from when the
        correlator saw it happen."""
        async with self.locks.hold(incident_id):
            state = await self.store.get(incident_id)
            if state is None or state.resolved_at is not None:
                return
            changed = pause(state, when) if muted else resume(state, when)
            if changed == state:
                return
            now = self.clock()
            if muted:
                entry = TimelineEntry(
                    now, TimelineEvent.ESCALATION_PAUSED, "every open alert is muted"
                )
            else:
                entry = TimelineEntry(
                    now, TimelineEvent.ESCALATION_RESUMED, "an alert is no longer muted"
                )
            self._note(incident_id, [entry])
            await self.store.save([changed])

    async def _start(self, session: aiohttp.ClientSession, records: Sequence[Notification]) -> None:
        """Start the policy of each new incident whose receiver has one (an incident of
        several groups gets one "first" per group: the earliest counts), and carry out
        the steps due at once with notices built from the notification itself: the
        incident was just formed, so there is nothing to ask the correlator."""
        by_incident: dict[str, tuple[str, Notification]] = {}
        for record in records:
            name = self.config.escalation.policy_name_for(record.receiver)
            if name is not None:
                by_incident.setdefault(record.incident_id, (name, record))
        if not by_incident:
            return
        existing = await self.store.get_many(list(by_incident))
        fresh = [i for i in by_incident if i not in existing]
        states = []
        now = self.clock()
        for incident_id in fresh:
            name, record = by_incident[incident_id]
            states.append(
                start(incident_id, self.policies[name], record.severity, record.at, self.tier)
            )
            self._note(
                incident_id,
                [TimelineEntry(now, TimelineEvent.ESCALATION_STARTED, f"policy {name}")],
            )
        await self.store.save(states)
        for state in states:
            due = state.due_at()
            if due is not None and due <= now and state.incident_id not in self.in_flight:
                _, record = by_incident[state.incident_id]
                first = self._first(session, state.incident_id, self._message_of(record, now))
                self._spawn(state.incident_id, first)

    def _message_of(self, record: Notification, now: datetime) -> Message:
        """The firing notice of a just-formed incident, from its first notification."""
        return Message(
            tenant=self.tenant,
            incident_id=record.incident_id,
            kind=MessageKind.FIRING,
            severity=record.severity,
            summary=record.summary or record.group_key,
            at=now,
            labels=dict(record.labels),
            link=self._link(record.incident_id),
        )

    async def _first(self, session: aiohttp.ClientSession, incident_id: str, base: Message) -> None:
        async with self.slots, self.locks.hold(incident_id):
            state = await self._still_due(incident_id)
            if state is not None:
                await self._advance(session, state, base)

    async def _carry_out(
        self, session: aiohttp.ClientSession, state: EscalationState, incident: Incident | None
    ) -> None:
        now = self.clock()
        if incident is None or incident.state is IncidentState.RESOLVED:
            await self._resolve(session, state, incident)
            return
        if incident.state is IncidentState.ACKNOWLEDGED and state.acknowledged_at is None:
            state = acknowledge(state, incident.acknowledged_at or now)
        if incident.muted_at is not None:
            # Muted: the news is on its way (or was lost with a restart); never page.
            self._note(
                state.incident_id, [TimelineEntry(now, TimelineEvent.ESCALATION_PAUSED, "muted")]
            )
            await self.save_state.one(pause(state, incident.muted_at))
            return
        await self._advance(session, state, message_of(incident, now, self._link(incident.id)))

    async def _advance(
        self, session: aiohttp.ClientSession, state: EscalationState, base: Message
    ) -> None:
        """Carry out what is due: breaches on the timeline, steps delivered (notices
        made from ``base``), then the new state saved."""
        now = self.clock()
        state, events = advance(state, self.policies[state.policy], now)
        entries: list[TimelineEntry] = []
        for event in events:
            if isinstance(event, Breach):
                SLA_BREACHES.labels(self.tenant, event.deadline.value).inc()
                entries.append(
                    TimelineEntry(
                        now,
                        TimelineEvent.SLA_BREACHED,
                        f"{event.deadline.value} deadline {event.due.isoformat()}",
                    )
                )
            else:
                entries += await self._deliver(session, event, base)
        self._note(state.incident_id, entries)
        await self.save_state.one(state)

    async def _deliver(
        self, session: aiohttp.ClientSession, step: Notify, base: Message
    ) -> list[TimelineEntry]:
        """Notify every target of a step, all at once; what happened, for the timeline."""
        now = self.clock()
        message = replace(
            base,
            kind=MessageKind.FIRING,
            step=step.step,
            level=step.level + 1,
            due=step.due,
            at=now,
        )
        entries = [
            TimelineEntry(
                now,
                TimelineEvent.ESCALATED,
                f"level {step.level + 1} (step {step.step}, {step.reason.value})",
            )
        ]
        ESCALATION_STEPS_DUE.labels(self.tenant).inc()
        ESCALATION_DELAY.labels(self.tenant).observe(max(0.0, (now - step.due).total_seconds()))
        found = recipients(step, self.config.people, self.config.schedule, now)
        entries += [TimelineEntry(now, event, detail) for event, detail in found.notes]
        # Remembered before sending: a resolved notice to someone whose firing notice
        # failed is better than none to someone who got it.
        await self.store.add_people(base.incident_id, step.level, found.people)
        sent = await asyncio.gather(
            *(self._send(session, message, chain) for chain in found.chains)
        )
        if any(entry.event is TimelineEvent.DELIVERED for entry in sent):
            ESCALATION_STEPS_DELIVERED.labels(self.tenant).inc()
        return entries + sent

    async def _send(
        self, session: aiohttp.ClientSession, message: Message, chain: Chain
    ) -> TimelineEntry:
        senders, problem = self._senders(session, chain)
        if not senders:
            return TimelineEntry(
                self.clock(), TimelineEvent.DELIVERY_FAILED, problem or "no channel"
            )
        pipeline = build_pipeline(senders, self.retry, rng=self.jitter, log=self.log)
        started = time.perf_counter()
        delivery = await pipeline.run(Delivery(message))
        record_delivery(
            self.tenant,
            delivery,
            self._channel_type(chain[0]),
            self._channel_type,
            time.perf_counter() - started,
        )
        event = TimelineEvent.DELIVERED if delivery.delivered else TimelineEvent.DELIVERY_FAILED
        return TimelineEntry(self.clock(), event, "; ".join(delivery.steps)[:1000])

    def _channel_type(self, name: str) -> str:
        """A channel's type (its metric label: names are the tenant's free text)."""
        channel = self.channels.get(name)
        return channel.type if channel is not None else "unknown"

    def _senders(
        self, session: aiohttp.ClientSession, chain: Chain
    ) -> tuple[list[tuple[str, Sender]], str | None]:
        """Senders for the chain's channels, up to the first whose secret cannot be read
        (and why)."""
        senders: list[tuple[str, Sender]] = []
        try:
            for name in chain:
                url = self.settings.public_base_url
                sender = build_sender(session, self.channels[name], self.secrets, url, name)
                senders.append((name, sender))
        except SecretError as exc:
            return senders, str(exc)
        return senders, None

    async def _resolve(
        self, session: aiohttp.ClientSession, state: EscalationState, incident: Incident | None
    ) -> None:
        """Stop the escalation; resolved notices to the levels notified (``incident``:
        as the caller just read it, ``None`` if it is gone)."""
        state, levels = resolve(state, self.clock())
        await self._tell_notified(session, state, incident, levels, MessageKind.RESOLVED)

    async def _acknowledged(
        self, session: aiohttp.ClientSession, state: EscalationState, incident: Incident | None
    ) -> None:
        """Somebody took it: no more levels; those paged so far hear who (PagerDuty
        stops its own escalation on the acknowledge event)."""
        if state.acknowledged_at is not None or state.resolved_at is not None:
            return
        at = incident.acknowledged_at if incident and incident.acknowledged_at else None
        state = acknowledge(state, at or self.clock())
        levels = state.notified_levels
        by = incident.acknowledged_by if incident else None
        detail = f"acknowledged at level {max(levels, default=0)}: no further levels are paged"
        # Noted before the save: a crash in between notes it twice, never not at all.
        stopped = TimelineEntry(self.clock(), TimelineEvent.ESCALATION_STOPPED, detail, by=by)
        self._note(state.incident_id, [stopped])
        await self._tell_notified(session, state, incident, levels, MessageKind.ACKNOWLEDGED)

    async def _tell_notified(
        self,
        session: aiohttp.ClientSession,
        state: EscalationState,
        incident: Incident | None,
        levels: tuple[int, ...],
        kind: MessageKind,
    ) -> None:
        """Send ``kind`` notices to the channels and people of the levels that got a
        firing notice (people: whoever was paged then, not who is on call now), then
        save the state."""
        sends = []
        if incident is not None and levels:
            policy = self.policies[state.policy]
            people = await self.store.people(state.incident_id)
            now = self.clock()
            base = message_of(incident, now, self._link(incident.id))
            for level in levels:
                message = replace(base, kind=kind, step=level, level=level + 1)
                found = recipients(
                    policy.levels[level],
                    self.config.people,
                    self.config.schedule,
                    now,
                    paged=people.get(level, []),
                )
                sends += [self._send(session, message, chain) for chain in found.chains]
        self._note(state.incident_id, list(await asyncio.gather(*sends)))
        await self.store.save([state])

    async def _read_states(self, incident_ids: list[str]) -> list[EscalationState | None]:
        found = await self.store.get_many(incident_ids)
        return [found.get(i) for i in incident_ids]

    async def _save_states(self, states: list[EscalationState]) -> list[None]:
        await self.store.save(states)
        return [None] * len(states)

    async def _incident(self, incident_id: str) -> Incident | None:
        return (await self._incidents([incident_id])).get(incident_id)

    async def _incidents(self, incident_ids: list[str]) -> dict[str, Incident]:
        if not incident_ids:
            return {}
        return await self.correlator.incidents(incident_ids)

    def _note(self, incident_id: str, entries: list[TimelineEntry]) -> None:
        if entries:
            self.notes.setdefault(incident_id, []).extend(entries)
            log_timeline(log, self.tenant, incident_id, entries)

    async def _flush_notes(self) -> None:
        """Put the waiting entries on the incidents' stored timelines (kept for the next
        round if Redis cannot take them now)."""
        if not self.notes:
            return
        notes, self.notes = self.notes, {}
        try:
            await append_timelines(self.client, self.tenant, notes, self.timeline_cap)
        except Exception:
            for incident_id, entries in notes.items():
                self.notes[incident_id] = entries + self.notes.get(incident_id, [])
            raise

    def _link(self, incident_id: str) -> str:
        return f"{self.settings.public_base_url}/api/v1/incidents/{incident_id}"


def escalating_tenants(config: VigilConfig, shard: int, shards: int) -> list[TenantConfig]:
    """The tenants an escalator shard runs: its shard's tenants that escalate or have
    receivers to notify (``VigilConfig.escalates``)."""
    return [t for t in config.tenants if config.escalates(t) and shard_of(t.id, shards) == shard]


class EscalatorActor(Whereabouts):
    """Runs its lane's share of the escalations of its shard's tenants (those with a
    policy or receivers to notify). Tenants are spread over ``VIGIL_CORRELATOR_SHARDS``
    shards as over the correlators, and each tenant over ``VIGIL_ESCALATOR_LANES``
    lanes (``alerting/lanes.py``).

    ``async __init__`` starts every tenant's loop and the keeper that restarts and
    reports them (``actors/loop_keeper.py`` says why they always come back).
    """

    async def __init__(self, settings: Settings, shard: int = 0, lane: int = 0) -> None:  # type: ignore[misc]
        self.settings = settings
        self.shard = shard
        self.lane = lane
        observe_process(escalator_name(shard, lane), settings)
        expect_loop("escalator")
        self.config = load_config(settings.config_path, settings.max_escalation_levels)
        self.workers: dict[str, TenantEscalations] = {}
        shards = settings.correlator_shards
        self.keeper = LoopKeeper(
            LoopKind.ESCALATOR,
            shard,
            async_client(settings.redis_url or ""),
            lambda tenant: shard_of(tenant, shards) == shard,
            lane,
            settings.escalator_lanes,
        )
        for tenant in escalating_tenants(self.config, shard, shards):
            routing = self.config.routing_for(tenant.id)
            worker = TenantEscalations(tenant, routing, settings, lane=lane)
            self.workers[tenant.id] = worker
            self.keeper.keep(tenant.id, worker)
        self._watch = asyncio.get_running_loop().create_task(self.keeper.watch_forever())

    async def escalate(self, tenant: str, incident_id: str, by: str | None = None) -> int:
        """Escalate one incident now (``PUT .../escalate``, Slack's button); the caller
        picked the lane that owns it (``EscalatorClient``)."""
        worker = self.workers.get(tenant)
        if worker is None:
            raise InvalidTransition(f"tenant {tenant!r} has no escalation policies")
        if not worker.owns_incident(incident_id):  # a caller with another lane count
            raise InvalidTransition(f"incident {incident_id} is escalated by another lane")
        async with worker.settings.outbound_policy.session() as session:
            return await worker.escalate(session, incident_id, by)

    async def ping(self) -> bool:
        return True


RemoteEscalatorActor = ray.remote(EscalatorActor)


def escalator_actor(shard: int, settings: Settings, lane: int = 0) -> Any:
    """An escalator process's handle (a shard's lane), creating it on first use."""
    options = long_lived_actor_options(escalator_name(shard, lane), settings.actor_resources)
    return RemoteEscalatorActor.options(**options).remote(settings, shard, lane)
