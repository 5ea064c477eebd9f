"""``CorrelatorActor``: turns tenants' change streams into incidents.

Each tenant's actor appends its changes to a Redis stream in the transaction that
stores them, then wakes the correlator (a call that carries no data). The
correlator reads the stream from its stored position, feeds the changes to the
tenant's ``TenantCorrelation`` and writes what changed together with the new
position in one transaction. A correlator killed at any point resumes from the last
position it stored, with the state that belongs to it: nothing is lost or applied
twice. Change ids it has already seen are dropped, because a retried write can
append the same changes twice.

Tenants are spread over ``VIGIL_CORRELATOR_SHARDS`` actors (``correlator:<n>``) by a
stable hash of the tenant id; one is enough for a laptop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

import ray

from actors.correlation_metrics import CorrelationMetrics
from actors.loop_keeper import LoopKeeper, mark_progress
from actors.risk_client import RiskClient
from actors.tenant import freeze_long_lived, relax_young_collections
from actors.tenant_client import tenant_client
from actors.whereabouts import Whereabouts
from alerting.correlation import AlertChange, Outbox, TenantCorrelation
from alerting.correlation_config import AnomalyPolicy
from alerting.errors import NotFound
from alerting.incident import Incident
from alerting.incident_query import IncidentQuery, select_incidents
from alerting.lifecycle import Action, ChangeKind
from alerting.liveness import LoopKind
from alerting.noise import noise_figures
from alerting.query import Page
from alerting.risk import RiskScore
from cluster import keys, tracing
from cluster.clock import Clock, utc_now
from cluster.config import VigilConfig, load_config
from cluster.incident_feed import IncidentChanges, check_position, feed_head, read_feed
from cluster.incident_store import START, IncidentStore
from cluster.metrics import (
    ANOMALY_ALARMS,
    CORRELATOR_CHANGES,
    RATE_MEMORY,
    RISK_SCORES,
    expect_loop,
    loop_failed,
)
from cluster.observability import observe_process
from cluster.person_erasure import erase_incidents
from cluster.rate_store import forget_rates, load_rates
from cluster.records import AlertChangeRecord, ChangeEntry, SilenceChangeRecord
from cluster.redis_client import async_client
from cluster.runtime import correlator_name, long_lived_actor_options, shard_of
from cluster.settings import Settings
from models.history_store import (
    HistoryStore,
    example_record,
)
from models.learning import Learning
from models.outcomes import label_source
from models.rate_watch import RateAnomaly, RateWatch, counts_toward_rate

log = logging.getLogger("vigil.correlator")

NEW_ALERT_KINDS = (ChangeKind.CREATED, ChangeKind.REOPENED)
T = TypeVar("T")
MAX_PENDING_ANOMALIES = 100  # kept for a retry while the tenant actor is away

POLL_SECONDS = 1.0  # a missed wake-up costs at most this much delay
READ_ENTRIES = 50  # stream entries per read (each holds one stored batch)
SEEN_CHANGES = 200_000  # change ids remembered to drop a re-appended batch
FEED_READ = 500  # feed entries one live-view read takes at most
MAX_FEED_WAIT = 10.0  # seconds a live view's read may wait for news (well inside a call's bound)
PURGE_EVERY_SECONDS = 60.0
SCORE_EVERY_SECONDS = 0.1  # scoring rounds are spaced so a storm is scored in batches
HISTORY_KEEP = 50_000  # labelled incidents kept per tenant for training


class SeenChanges:
    """The most recent change ids, to drop changes appended twice."""

    def __init__(self, capacity: int = SEEN_CHANGES) -> None:
        self.order: deque[str] = deque()
        self.ids: set[str] = set()
        self.capacity = capacity

    def first_time(self, change_id: str) -> bool:
        """Whether the id is new (and remember it)."""
        if change_id in self.ids:
            return False
        self.ids.add(change_id)
        self.order.append(change_id)
        if len(self.order) > self.capacity:
            self.ids.discard(self.order.popleft())
        return True


class TenantWorker:
    """One tenant's correlation: its engine, its stream position and its loop."""

    def __init__(
        self, tenant: str, settings: Settings, config: VigilConfig, clock: Clock = utc_now
    ) -> None:
        self.clock = clock  # the one source of "now"
        self.tenant = tenant
        self.settings = settings
        self.config = config
        self.store = IncidentStore(tenant, settings.redis_url or "")
        limits = config.limits_for(tenant)  # its tier's
        self.store.timeline_cap = limits.timeline_entries
        self.retention = limits.retention(settings.resolved_retention)
        self.engine: TenantCorrelation | None = None
        self.position = START
        self.seen = SeenChanges()
        self.lock = asyncio.Lock()
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.progress_at = 0.0  # epoch seconds of the last round (the heartbeat)
        self.last_purge = 0.0
        # Learning: the scoring context, features taken so far, labels given so far.
        self.learning = settings.ml_enabled
        self.history = HistoryStore(tenant, self.store.client)
        self.learned = Learning()  # rebuilt from the history when the engine loads
        self.risk = RiskClient()
        self.tenant_client = tenant_client(tenant, settings)
        self.score_wakeup = asyncio.Event()
        self.score_task: asyncio.Task[None] | None = None
        # Rate watching: kept across reloads (a Redis hiccup should not re-learn it), and
        # resumed from its stored counts when the worker starts.
        self.rates: RateWatch | None = None
        self.rate_replay: asyncio.Task[None] | None = None
        self.anomalies: list[RateAnomaly] = []
        self.counted = CorrelationMetrics(tenant)
        # Set (and replaced) after each commit: live views waiting for news wake at once.
        self.committed = asyncio.Event()

    def ensure_running(self) -> bool:
        """Run the loop (and the scoring loop) in the background where it is not running;
        a first round starts at once. Whether anything had to be started."""
        started = False
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())
            self.wakeup.set()
            started = True
        if self.learning and (self.score_task is None or self.score_task.done()):
            self.score_task = asyncio.get_running_loop().create_task(self._score_forever())
            started = True
        return started

    async def stop(self) -> None:
        """End the loops for good (the tenant is being deleted). Taken under the lock, so
        no round is half-way through a write; after it nothing writes for the tenant."""
        async with self.lock:
            for task in (self.task, self.score_task, self.rate_replay):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            self.engine = None

    async def lag_seconds(self) -> float:
        """The age of the oldest change on the stream not applied yet (0: none)."""
        oldest = await self.store.oldest_unread(self.position)
        return 0.0 if oldest is None else max(0.0, time.time() - oldest)

    async def ready(self) -> TenantCorrelation:
        """The engine, rebuilt from Redis if it is not in memory (call under ``lock``)."""
        if self.engine is None:
            await self._load()
        assert self.engine is not None
        return self.engine

    async def _load(self) -> None:
        stored = await self.store.load()
        spec = self.config.correlation_for(self.tenant)
        engine = TenantCorrelation(
            self.tenant, self.config.routing_for(self.tenant), spec.policy(), new_incident_id
        )
        engine.restore(
            stored.incidents, stored.flaps, stored.counts, stored.groups, stored.notification_log
        )
        engine.set_silences(await self.store.silences(), self.clock())
        recomputed = engine.take_outbox()  # marks recomputed on load are what is stored
        if recomputed.groups:  # groups rebuilt from incidents stored before groups were
            await self.store.commit(
                Outbox(groups=recomputed.groups, group_alerts=recomputed.group_alerts), None
            )
        watch = engine.policy.anomaly
        if not watch.enabled:
            self.rates = None
        elif self.rates is None or self.rates.policy != watch:
            self.rates = await self._start_rate_watch(watch, resume=self.rates is None)
        if self.learning:
            await self._load_history(engine)
        self.counted.restart(engine.incidents.values())
        self.seen = SeenChanges()
        for fields in await self.store.entries_before(stored.position, 20):
            for change in ChangeEntry.from_fields(fields).changes:
                self.seen.first_time(change.change_id)
        self.position = stored.position
        self.engine = engine

    async def _start_rate_watch(self, policy: AnomalyPolicy, resume: bool) -> RateWatch:
        """A rate watch for ``policy``. On the worker's first load it resumes from the
        counts stored before, if they fit (``RateWatch.resume``); their replay then runs
        in the background, so correlating does not wait for it (0.7 s a stream: a
        tenant with 200 services replays for about two and a half minutes). Otherwise
        the stored counts are forgotten, so a later start cannot resume an earlier
        watch's streams."""
        rates = RateWatch(policy, self.clock())
        client = self.store.client
        stored = await load_rates(client, self.tenant) if resume else None
        if stored is not None and rates.resume(stored, self.clock()):
            log.info("tenant %s: rate watch resumed; replaying its stored counts", self.tenant)
            self.rate_replay = asyncio.get_running_loop().create_task(self._replay(rates))
        elif stored is not None or not resume:
            await forget_rates(client, self.tenant)
        return rates

    async def _replay(self, rates: RateWatch) -> None:
        """Feed a resumed watch its stored counts, letting other work run in between."""
        try:
            for _ in rates.replay():
                await asyncio.sleep(0)
        except Exception:  # a bug, not a fault: the watch goes on with what it has
            log.exception("tenant %s: replaying the rate watch's counts failed", self.tenant)
            rates.abandon_replay()
            return
        RATE_MEMORY.labels(self.tenant).set(rates.remembered())
        log.info("tenant %s: rate watch replayed its stored counts", self.tenant)

    async def _run(self) -> None:
        failing = False
        while True:
            timeout = POLL_SECONDS
            if self.engine is not None:
                due = self.engine.next_due(self.clock())
                if self.rates is not None:
                    due = min(due or self.rates.next_close, self.rates.next_close)
                if due is not None:
                    timeout = min(timeout, max(0.0, (due - self.clock()).total_seconds()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), timeout)
            self.wakeup.clear()
            try:
                async with self.lock:
                    await self.catch_up()
                self.progress_at = mark_progress()
                failing = False
                if self.anomalies:
                    await self._raise_anomalies()
            except Exception as exc:  # Redis down, or a write failed half-way
                loop_failed("correlator", exc)
                if not failing:
                    log.warning("tenant %s: correlation failed, will retry: %r", self.tenant, exc)
                failing = True
                self.engine = None  # memory may be ahead of Redis: rebuild from Redis
                await asyncio.sleep(0.5)

    async def catch_up(self) -> None:
        """Apply everything new on the stream, then do what the clock says is due."""
        engine = await self.ready()
        while True:
            entries = await self.store.read_changes(self.position, READ_ENTRIES)
            if not entries:
                break
            await self._apply(engine, entries)
            self.progress_at = mark_progress()  # a long backlog is progress, not a stall
        now = self.clock()
        engine.tick(now)
        if self.rates is not None:
            self.anomalies += self.rates.close_due(now)
        if time.monotonic() - self.last_purge > PURGE_EVERY_SECONDS:
            self.last_purge = time.monotonic()
            engine.purge(now, self.retention)
        await self.commit(None)

    async def _apply(
        self, engine: TenantCorrelation, entries: list[tuple[str, dict[bytes, bytes]]]
    ) -> None:
        records: list[tuple[AlertChangeRecord, datetime]] = []
        silences_changed = False
        traces: list[str | None] = []
        for _, fields in entries:
            entry = ChangeEntry.from_fields(fields)
            traces.append(entry.trace)
            for change in entry.changes:
                if not self.seen.first_time(change.change_id):
                    continue
                if isinstance(change, SilenceChangeRecord):
                    silences_changed = True
                else:
                    records.append((change, entry.at))
        # A span only when a traced request stored one of these entries; the notifications
        # this round writes carry its context on (cluster/tracing.py).
        with tracing.span("correlate", traces, attributes={"vigil.tenant": self.tenant}):
            await self._correlate(engine, records, silences_changed, entries[-1][0])

    async def _correlate(
        self,
        engine: TenantCorrelation,
        records: list[tuple[AlertChangeRecord, datetime]],
        silences_changed: bool,
        position: str,
    ) -> None:
        """Apply one read's alert changes (and silences, if they changed) to the engine
        and commit what changed with the stream position ``position``."""
        unknown = list(
            dict.fromkeys(r.alert_id for r, _ in records if not engine.knows(r.fingerprint))
        )
        docs = dict(zip(unknown, await self.store.alert_documents(unknown), strict=True))
        changes = [r.as_change(at, docs.get(r.alert_id)) for r, at in records]
        now = self.clock()
        if silences_changed:
            engine.set_silences(await self.store.silences(), now)
        engine.apply(changes, now)
        self.count_new_alerts(engine, changes, now)
        engine.tick(now)
        await self.commit(position)
        CORRELATOR_CHANGES.labels(self.tenant).inc(len(changes))

    async def commit(self, position: str | None) -> None:
        """Store what the engine changed (and the new position) in one transaction."""
        assert self.engine is not None
        outbox = self.engine.take_outbox()
        rates = self.rates.unsaved_counts() if self.rates is not None else None
        await self.store.commit(outbox, position, rates)
        self.counted.count(outbox)  # once stored: a failed commit is applied again
        if rates is not None and self.rates is not None:
            self.rates.saved(rates)  # kept for the next commit until one succeeds
            RATE_MEMORY.labels(self.tenant).set(self.rates.remembered())
        if outbox:
            woken, self.committed = self.committed, asyncio.Event()
            woken.set()
        if position is not None:
            self.position = position
        if self.learning:
            self.learned.forget(outbox.purged)
            await self._learn(outbox.incidents.values())
            self.score_wakeup.set()

    # -- learning: features, risk scores and labels ------------------------------------

    async def _load_history(self, engine: TenantCorrelation) -> None:
        """Rebuild the outcome histories and the unlabelled snapshots from Redis."""
        self.learned = Learning.restored(
            engine.policy.relatedness.topology,
            await self.history.load_examples(),
            await self.history.load_snapshots(),
            lambda incident_id: incident_id in engine.incidents,
            engine.incidents.values(),
            self.clock(),
        )

    async def _learn(self, incidents: Iterable[Incident]) -> None:
        """Turn incidents that got a label (or a new one) into stored training examples."""
        records: dict[str, dict[str, Any]] = {}
        labelled = self.learned.newly_labelled(incidents)
        for found in labelled:
            incident = found.incident
            snapshots = found.snapshots
            if snapshots is None:  # relabelled: its snapshots went with the old example
                snapshots = await self.history.snapshots_of_example(incident.id)
            records[incident.id] = example_record(
                incident.id, found.outcome, label_source(incident), snapshots, time.time()
            )
        await self.history.save_examples(records, HISTORY_KEEP)
        self.counted.count_outcomes((found.incident, found.outcome.label) for found in labelled)

    async def _score_forever(self) -> None:
        while True:
            await self.score_wakeup.wait()
            self.score_wakeup.clear()
            try:
                await self.score_round()
            except Exception as exc:  # Redis away: the next round retries
                log.warning("tenant %s: scoring failed: %r", self.tenant, exc)
            await asyncio.sleep(SCORE_EVERY_SECONDS)

    async def score_round(self) -> int:
        """Take features of new and changed incidents (kept for training) and ask the
        predictor for their risk; return how many incidents got a score."""
        async with self.lock:
            engine = await self.ready()
            now = self.clock()
            rows, taken = self.learned.to_score(
                engine.take_to_score(), engine.incidents.get, self.risk.available(), now
            )
        await self.history.save_snapshots(taken)
        if not rows:
            return 0
        answer = await self.risk.score(list(rows.values()))
        if answer is None:
            self.learned.not_scored(rows)
            return 0
        provisional = answer.provisional_reason(self.tenant)
        async with self.lock:
            engine = await self.ready()
            for incident_id, risk in zip(rows, answer.risks, strict=True):
                score = RiskScore(round(risk, 6), answer.model, now, provisional)
                engine.set_risk(incident_id, score)
                RISK_SCORES.labels(self.tenant).observe(risk)
            self.learned.scored(rows)
            await self.commit(None)
        return len(rows)

    def count_new_alerts(
        self, engine: TenantCorrelation, changes: list[AlertChange], now: datetime
    ) -> None:
        """Feed the tenant's alert rates: the scoring context's (new alerts and new
        occurrences: the features the model learnt) and the rate watch's (those too,
        and resends when the tenant counts every report, ``anomaly.count: all``)."""
        new = [c for c in changes if c.kind in NEW_ALERT_KINDS]
        if self.learning:
            self.learned.count_alerts(
                now, [c.labels or engine.labels_of(c.fingerprint) or {} for c in new]
            )
        if self.rates is not None:
            policy = self.rates.policy
            for change in (c for c in changes if counts_toward_rate(c.kind, policy)):
                known = change.labels or engine.labels_of(change.fingerprint)
                self.anomalies += self.rates.count(change.stored_at, known)

    async def _raise_anomalies(self) -> None:
        """Raise storms and silences as alerts into the tenant's own stream, where they
        are routed, silenced, inhibited and correlated like any other alert."""
        anomalies, self.anomalies = self.anomalies, []
        if self.rates is None:
            return
        now = self.clock()
        alerts = [a.as_alert(self.rates.policy, now) for a in anomalies]
        try:
            await self.tenant_client.ingest(alerts)
        except Exception as exc:  # the tenant actor restarting: try again next round
            log.warning("tenant %s: raising %d anomalies failed: %r", self.tenant, len(alerts), exc)
            self.anomalies = anomalies[-MAX_PENDING_ANOMALIES:] + self.anomalies
            return
        for anomaly in anomalies:
            ANOMALY_ALARMS.labels(self.tenant, anomaly.kind).inc()
            log.info("tenant %s: %s", self.tenant, anomaly.summary())


def detached(value: T) -> T:
    """A private copy of engine objects, taken now.

    Ray pickles an async actor's return value on another thread after the method
    returns, while the event loop goes on changing the same incidents ("dictionary
    changed size during iteration" under load); a copy made synchronously here is the
    state at the moment of the call, and nobody else touches it.
    """
    copy: T = pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    return copy


def new_incident_id() -> str:
    """A random incident id: 16 hex digits."""
    return os.urandom(8).hex()


class CorrelatorActor(Whereabouts):
    """Forms incidents for the tenants of one shard, and answers questions about them.

    ``async __init__`` starts every loop (see ``actors/loop_keeper.py`` for why they
    always come back after a restart): the configured tenants' at once, without Redis;
    tenants created at run time as soon as their change streams are found.
    """

    async def __init__(self, shard: int, shards: int, settings: Settings) -> None:  # type: ignore[misc]
        if settings.redis_url is None:
            raise ValueError("CorrelatorActor needs settings.redis_url")
        self.shard = shard
        self.shards = shards
        self.settings = settings
        self.config = load_config(settings.config_path, settings.max_escalation_levels)
        observe_process(correlator_name(shard), settings)
        expect_loop("correlator")
        self.workers: dict[str, TenantWorker] = {}
        self.forgotten: set[str] = set()  # deleted tenants: no worker starts for them again
        relax_young_collections()
        self.client = async_client(settings.redis_url)
        self.keeper = LoopKeeper(LoopKind.CORRELATOR, shard, self.client, self._owns)
        for tenant in self.config.tenants:
            if self._owns(tenant.id):
                self._worker(tenant.id)
        loop = asyncio.get_running_loop()
        self._background = [
            loop.create_task(self.keeper.watch_forever()),
            loop.create_task(self._find_tenants()),
            loop.create_task(self._freeze_forever()),
        ]

    def _owns(self, tenant: str) -> bool:
        return shard_of(tenant, self.shards) == self.shard

    async def _find_tenants(self) -> None:
        """Start a worker for every tenant of this shard with a change stream (tenants
        created at run time, whose timers must run after a restart even if no alert
        comes), retrying until Redis answers. Later tenants' first changes wake them."""
        while True:
            try:
                async for key in self.client.scan_iter(match=keys.CHANGE_STREAMS, count=1000):
                    tenant = keys.tenant_of_change_stream(key.decode())
                    if self._owns(tenant) and tenant not in self.forgotten:
                        self._worker(tenant)
                return
            except Exception as exc:  # Redis away: look again soon
                log.warning("correlator %d: finding tenants failed: %r", self.shard, exc)
                await asyncio.sleep(1.0)

    async def _freeze_forever(self) -> None:
        # Incidents live long; keep them out of the collector's full passes.
        while True:
            await asyncio.sleep(5)
            freeze_long_lived()

    def _worker(self, tenant: str) -> TenantWorker:
        if tenant in self.forgotten:
            raise NotFound(f"tenant {tenant!r} was deleted")
        worker = self.workers.get(tenant)
        if worker is None:
            worker = TenantWorker(tenant, self.settings, self.config)
            self.workers[tenant] = worker
            self.keeper.keep(tenant, worker)
        else:
            worker.ensure_running()
        return worker

    async def forget_tenant(self, tenant: str) -> bool:
        """Stop the tenant's loops and let go of it (``vigil tenant delete``); whether it
        had any. Its heartbeat is dropped, so it is not judged stalled."""
        self.forgotten.add(tenant)  # no call starts a worker for it again
        # The keeper first, so it cannot restart the loop that is stopped next; it also
        # forgets the heartbeat, under its lock, so no watch publishes it again.
        await self.keeper.drop(tenant)
        worker = self.workers.pop(tenant, None)
        if worker is not None:
            await worker.stop()
        return worker is not None

    async def erase_person(self, tenant: str, names: list[str], pseudonym: str) -> int:
        """Replace a person's names in the tenant's incidents, timelines and escalation
        records (``vigil person erase``); how many mentions. Under the worker's lock, so
        no round writes meanwhile; the engine is then rebuilt from what was stored."""
        worker = self._worker(tenant)
        async with worker.lock:
            count = await erase_incidents(worker.store.client, tenant, names, pseudonym)
            worker.engine = None  # memory held the names: rebuilt on the next round
        worker.wakeup.set()
        return count

    async def wake(self, tenant: str) -> None:
        """New changes are on the tenant's stream (the call carries no data)."""
        self._worker(tenant).wakeup.set()

    async def _engine(self, tenant: str) -> tuple[TenantWorker, TenantCorrelation]:
        worker = self._worker(tenant)
        async with worker.lock:
            return worker, await worker.ready()

    async def list_incidents(self, tenant: str, query: IncidentQuery) -> Page[Incident]:
        """A page of the tenant's incidents matching ``query``, newest first."""
        _, engine = await self._engine(tenant)
        return detached(select_incidents(engine.incidents.values(), query))

    async def get_incident(
        self, tenant: str, incident_id: str
    ) -> tuple[Incident, list[dict[str, Any]]]:
        """One incident with its members, and its timeline (``IncidentNotFound``)."""
        worker, engine = await self._engine(tenant)
        engine.get(incident_id)  # IncidentNotFound before the Redis read
        timeline = await worker.store.timeline(incident_id)
        return detached(engine.get(incident_id)), timeline

    async def act(
        self, tenant: str, incident_id: str, action: Action, by: str | None, reason: str | None
    ) -> Incident:
        """Acknowledge or resolve an incident (by hand) and, through the tenant's actor,
        its open alerts."""
        worker = self._worker(tenant)
        async with worker.lock:
            engine = await worker.ready()
            change = engine.acknowledge if action is Action.ACKNOWLEDGE else engine.resolve
            alert_ids = change(incident_id, worker.clock(), by, reason)
            await worker.commit(None)
        if alert_ids:
            # The incident is stored first; the alerts' own changes come back over the
            # stream and update the members. Done outside the lock: they wake us.
            await worker.tenant_client.act_on_alerts(alert_ids, action, by, reason)
        return detached(engine.get(incident_id))

    async def feedback(
        self, tenant: str, incident_id: str, verdict: str, by: str | None
    ) -> Incident:
        """Record whether an incident was actionable or noise (its training label)."""
        worker = self._worker(tenant)
        async with worker.lock:
            engine = await worker.ready()
            engine.set_feedback(incident_id, verdict, worker.clock(), by)
            await worker.commit(None)
        return detached(engine.get(incident_id))

    async def incidents(self, tenant: str, incident_ids: list[str]) -> dict[str, Incident]:
        """Several incidents by id, without timelines (the escalator's batch read);
        unknown ids are left out."""
        _, engine = await self._engine(tenant)
        found = {i: engine.incidents[i] for i in incident_ids if i in engine.incidents}
        return detached(found)

    async def incident_updates(
        self, tenant: str, after: str | None, wait_seconds: float = 0.0, count: int = FEED_READ
    ) -> IncidentChanges:
        """The incidents touched after feed position ``after`` (``None``: from now on,
        with none yet), as they are now; ``InvalidRequest`` for a malformed position.

        With nothing new, it waits up to ``wait_seconds`` for this shard's next commit
        (a long poll): a live view sees the correlator's changes at once, and the
        escalator's timeline entries (written by another process) by the next call.
        """
        worker, engine = await self._engine(tenant)
        client = worker.store.client
        if after is None:
            return IncidentChanges(await feed_head(client, tenant), (), (), gap=False)
        check_position(after)
        committed = worker.committed  # taken before the read: a commit after it wakes us
        read = await read_feed(client, tenant, after, count)
        if not read.incident_ids and not read.gap and wait_seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(committed.wait(), min(wait_seconds, MAX_FEED_WAIT))
            read = await read_feed(client, tenant, after, count)
            engine = worker.engine or engine  # reloaded meanwhile: the newer one
        # The engine is at least as new as the feed: a change is in memory before the
        # transaction that appends its entry.
        kept = tuple(engine.incidents[i] for i in read.incident_ids if i in engine.incidents)
        removed = tuple(i for i in read.incident_ids if i not in engine.incidents)
        return detached(IncidentChanges(read.position, kept, removed, read.gap))

    async def open_incidents_of(self, tenant: str, fingerprint: str) -> list[str]:
        """The ids of the open incidents an alert belongs to."""
        _, engine = await self._engine(tenant)
        return engine.open_incidents_of(fingerprint)

    async def scored(self, tenant: str) -> int:
        """Run one scoring round now (tests and benchmarks); return how many were scored."""
        worker = self._worker(tenant)
        async with worker.lock:
            await worker.catch_up()
        return await worker.score_round()

    async def noise(self, tenant: str) -> dict[str, Any]:
        """The tenant's noise figures, and how many incidents are open now."""
        _, engine = await self._engine(tenant)
        figures: dict[str, Any] = noise_figures(engine.counts)
        figures["open_incidents"] = sum(1 for i in engine.incidents.values() if i.is_open)
        return figures

    async def rate_watch(self, tenant: str) -> dict[str, Any]:
        """The tenant's rate watch: buckets its own stream has seen, how many of them it
        resumed from the store after a restart, whether that replay is still running
        (all 0 / False while the tenant has no watch)."""
        worker, _ = await self._engine(tenant)
        rates = worker.rates
        if rates is None:
            return {"remembered": 0, "resumed_from": 0, "replaying": False}
        return {
            "remembered": rates.remembered(),
            "resumed_from": rates.resumed_from,
            "replaying": rates.replaying,
        }

    async def caught_up(self, tenant: str) -> str:
        """Apply everything on the tenant's stream now; return the position reached."""
        worker = self._worker(tenant)
        async with worker.lock:
            await worker.catch_up()
            return worker.position

    async def ping(self) -> bool:
        """Liveness probe."""
        return True


RemoteCorrelatorActor = ray.remote(CorrelatorActor)


def correlator_actor(shard: int, settings: Settings) -> Any:
    """The handle of a correlator shard, creating it on first use."""
    options = long_lived_actor_options(correlator_name(shard), settings.actor_resources)
    return RemoteCorrelatorActor.options(**options).remote(
        shard, settings.correlator_shards, settings
    )
