"""The HTTP ingress: Vigil's native alert API under Ray Serve (FastAPI).

Each request is authenticated to one tenant, validated as a whole, and handed to
that tenant's actor in one call; the answer is sent only after the actor has stored
the change in Redis. Refusals share one JSON shape (see ``problems``).
"""

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import redis
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from ray import serve
from ray.exceptions import ActorDiedError, ActorUnavailableError
from ray.serve.handle import DeploymentHandle
from starlette.routing import Route, WebSocketRoute

from actors.actor_call import ActorCall, ActorCallError
from actors.correlator_client import CorrelatorClient, correlator_call
from actors.escalator_client import EscalatorClient, escalator_call, escalator_calls
from actors.retrainer import ensure_retrainer
from actors.supervisor import SUPERVISOR_NAME, ensure_supervisor
from actors.tenant_client import TenantClient, tenant_call
from actors.tenant_operations import TenantOperations, claimed
from alerting.alert import IncomingAlert
from alerting.amconfig import RoutingConfig
from alerting.audit import AuditAction
from alerting.errors import VigilError
from alerting.lifecycle import Action, IngestResult
from alerting.query import DEFAULT_PAGE_SIZE
from alerting.rate_limit import TokenBucket, retry_after

# The module, not its families: Serve pickles the deployment class with the globals
# its methods name, and a metric holds a lock (a module pickles by reference).
from cluster import keys, metrics, tracing
from cluster.audit_store import AuditTrail, audit_key
from cluster.coalescer import Coalescer
from cluster.config import load_config
from cluster.errors import SecretError
from cluster.health import health_record, loop_health
from cluster.logs import log_event
from cluster.metrics_relay import fresh_snapshots, notice_outcomes, replica_process
from cluster.metrics_token import metrics_token
from cluster.observability import observe_process
from cluster.redis_client import async_client, sync_client
from cluster.runtime import correlator_name, escalator_name, shard_of, tenant_actor_name
from cluster.secrets import SecretStore, box_for
from cluster.serve_loopback import keep_replica_grpc_on_loopback
from cluster.settings import Settings
from cluster.tenants import Principal, TenantResolver
from models.registry import ModelRegistry
from serve_app import (
    alertmanager_api,
    audit_api,
    console_api,
    graphql_api,
    incidents_api,
    links_api,
    live_api,
    metrics_api,
    pagerduty_api,
    schedules_api,
    slack_api,
    webhook_api,
)
from serve_app.action_body import ACTION_BODY, read_action
from serve_app.auth import credentials, unauthenticated
from serve_app.batch_fingerprint import fingerprints
from serve_app.body_limit import BodyLimitMiddleware
from serve_app.model_cards import card_for
from serve_app.problems import ApiError, refusal, unavailable, validated
from serve_app.query_params import alert_query
from serve_app.replica import Replica
from serve_app.request_metrics import RequestMetricsMiddleware, current_tally
from serve_app.wire import json_body, read_json_body, read_model

keep_replica_grpc_on_loopback()  # before Serve starts this replica's gRPC server

log = logging.getLogger("vigil.ingress")

API = "/api/v1/critical-alerts"
MAX_BUCKETS = 100_000  # tenants' request budgets one replica keeps


class BulkRequest(BaseModel):
    """``POST /api/v1/critical-alerts/bulk``: many alerts, stored all or none."""

    model_config = ConfigDict(extra="forbid")

    alerts: list[IncomingAlert] = Field(min_length=1)


BATCH_PATHS = (f"{API}/bulk", "/api/v2/alerts", webhook_api.PATH)
PAGERDUTY_PATHS = (pagerduty_api.V2_PATH, pagerduty_api.V1_PATH)


def _limit_for(app: FastAPI) -> Any:
    def limit(path: str) -> int:
        if path in PAGERDUTY_PATHS:
            return pagerduty_api.MAX_BODY_BYTES  # PagerDuty's own limit
        settings: Settings | None = getattr(app.state, "settings", None)
        if settings is None:
            return 1024 * 1024
        return settings.max_bulk_body_bytes if path in BATCH_PATHS else settings.max_body_bytes

    return limit


app = FastAPI(
    title="Vigil",
    description=(
        "Critical-alert manager: native API, Alertmanager API v2, Alertmanager webhooks and "
        "PagerDuty Events. Authenticate with `Authorization: Bearer <key>` or basic auth "
        "(user = tenant id, password = key); PagerDuty events with their routing_key."
    ),
    version="0.1.0",
)
app.add_middleware(BodyLimitMiddleware, limit_for=_limit_for(app))
# Added last, so outermost: it counts the body limit's refusals too.
app.add_middleware(RequestMetricsMiddleware)
# The compatible APIs are plain routes that reach the replica through app.state; they
# must be on the app before serve.ingress wraps it below.
app.include_router(alertmanager_api.router)
app.include_router(webhook_api.router)
app.include_router(pagerduty_api.router)
app.include_router(live_api.router)  # before incidents_api's /incidents/{incident_id}
app.include_router(incidents_api.router)
app.include_router(schedules_api.router)
app.include_router(slack_api.router)
app.include_router(links_api.router)
app.include_router(audit_api.router)
app.include_router(metrics_api.router)
app.include_router(console_api.router)
# GraphQL, HTTP and WebSocket on one path; Strawberry's app is built in the replica.
graphql_app = graphql_api.LazyGraphQL()
app.router.routes.append(Route(graphql_api.PATH, graphql_app, methods=["GET", "POST"]))
app.router.routes.append(WebSocketRoute(graphql_api.PATH, graphql_app))


@app.exception_handler(ApiError)
async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
    return exc.response()


@app.exception_handler(VigilError)
@app.exception_handler(ActorCallError)
async def _refused(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VigilError | ActorCallError)
    return refusal(exc).response()


# The deployment comes last: serve.ingress captures the helpers above when it wraps it.
@serve.deployment(name="Ingress")
@serve.ingress(app)
class Ingress:
    """One replica of the HTTP front door; replicas are stateless and autoscaled."""

    def __init__(self, settings: Settings, predictor: DeploymentHandle[Any] | None = None) -> None:
        if settings.redis_url is None:
            raise ValueError("the ingress needs settings.redis_url")
        self.settings = settings
        self.predictor = predictor  # None when CRITICAL_ALERT_ML_ENABLED=false
        app.state.settings = settings
        self.redis = async_client(settings.redis_url, socket_timeout=2)
        self.redis_sync = sync_client(settings.redis_url, socket_timeout=2)  # the registry's
        self.config = load_config(settings.config_path, settings.max_escalation_levels)
        self.tenants = TenantResolver(self.config, self.redis, settings.cache_ttl_seconds)
        self.audit_trail = AuditTrail(self.redis_sync, audit_key(settings))
        self.integrations = TenantResolver(
            self.config, self.redis, settings.cache_ttl_seconds, integration=True
        )
        self.started = time.time()
        self.started_at = datetime.now(UTC)  # loops have stall_after from here to beat
        self.metrics_token = metrics_token(settings)
        self.process_name = replica_process("ingress")
        observe_process(self.process_name, settings, actor=False)
        replica: Replica = self  # mypy checks the replica is what the routers expect
        app.state.ingress = replica  # the routers of the other APIs reach it here
        self.calls: dict[str, ActorCall] = {}  # actor name → its kept calls
        # Incidents form and escalations run only while the correlators and escalators
        # do, and Vigil watches itself while the supervisor does: start them all with
        # the front door.
        for shard in range(settings.correlator_shards):
            for call in (correlator_call(shard, settings), *escalator_calls(shard, settings)):
                self.calls[call.name] = call.start()
        supervisor = ActorCall(SUPERVISOR_NAME, lambda: ensure_supervisor(settings))
        self.calls[SUPERVISOR_NAME] = supervisor.start()
        if predictor is not None:  # the model learns only while ML is on
            ensure_retrainer(settings)
        self.ingesters: dict[str, Coalescer[IncomingAlert, IngestResult]] = {}
        self.buckets: dict[str, TokenBucket] = {}  # tenant → its request budget here

    # -- plumbing ----------------------------------------------------------------------

    async def principal(self, request: Request) -> Principal:
        """Who the request's API key is (401 if unknown or revoked, 503 if unknowable)."""
        given = credentials(request)
        return await self.principal_of_key(given.key, given.claimed_tenant)

    async def principal_of_key(self, key: str, claimed_tenant: str | None = None) -> Principal:
        """Who an API key is, however it came (a header, a WebSocket's
        ``connection_init``): 401 if unknown, revoked or not ``claimed_tenant``'s (basic
        auth's user), 503 if unknowable, 429 past the tenant's rate."""
        principal = await self.principal_for_key(self.tenants, key)
        if principal is None:
            raise unauthenticated("unknown or revoked API key")
        if claimed_tenant is not None and claimed_tenant != principal.tenant:
            # The key is valid but for another tenant: refuse rather than guess.
            raise unauthenticated("the key does not belong to the tenant named by the user")
        self.admit(principal.tenant)
        return principal

    async def channel_outcomes(self, tenant: str) -> dict[str, dict[str, float]]:
        """The tenant's notices by channel type and outcome, summed over every process
        that published its metrics (since each started): what channel health shows."""
        try:
            published = await asyncio.wait_for(self.redis.hgetall(keys.metrics()), 2)
        except (redis.RedisError, TimeoutError, OSError):
            return {}
        snapshots, _ = fresh_snapshots(
            published, time.time(), self.settings.metrics_interval_seconds
        )
        return notice_outcomes(snapshots.values(), tenant)

    def admit(self, tenant: str) -> None:
        """Spend one of the tenant's requests (429 with ``Retry-After`` when its tier's
        rate is used up). Before any body is read: a flooding tenant costs a lookup.

        The bucket is this replica's: with N replicas a tenant gets up to N times its
        rate, which the tiers' numbers allow for (``configs/serve.yaml`` caps N).
        """
        current_tally().tenant = tenant  # a refusal from here on is the tenant's
        now = time.monotonic()
        bucket = self.buckets.get(tenant)
        if bucket is None:
            if len(self.buckets) > MAX_BUCKETS:
                self.buckets.clear()  # bounded; a cleared bucket starts full again
            limits = self.config.limits_for(tenant)
            bucket = TokenBucket(limits.requests_per_second, limits.burst, now)
            self.buckets[tenant] = bucket
        wait = bucket.take(now)
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                f"tenant {tenant!r} sends more than its tier allows "
                f"({bucket.rate:g} requests/s, {bucket.burst} at once); nothing was done",
                headers={"Retry-After": retry_after(wait)},
            )

    async def authenticate(self, request: Request) -> str:
        """The tenant the request's API key belongs to (401 if none, 503 if unknowable)."""
        return (await self.principal(request)).tenant

    async def principal_for_key(self, resolver: TenantResolver, key: str) -> Principal | None:
        """Look a key up (503 when Redis, which holds run-time keys, is down)."""
        try:
            return await resolver.principal_for(key)
        except redis.RedisError:
            raise unavailable("cannot verify the key: Redis is down") from None

    async def audit(
        self,
        tenant: str,
        actor: str,
        action: AuditAction,
        target: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Add a change that was made to the tenant's audit trail.

        Called once the change is stored. A replica that dies between the two loses
        the entry but not the change (the change's own record, on the alert, the
        incident's timeline or the silence, still names the key that made it). A trail
        that cannot be written is logged, not answered as a failure: the change is
        already made, and a retry would make it twice.
        """
        kind, _, name = target.partition(" ")
        log_event(
            log,
            f"api.{action.value}",
            f"{actor} {action.value.replace('_', ' ')} {target}",
            tenant=tenant,
            incident_id=name if kind == "incident" else None,
            alert_id=name if kind == "alert" else None,
        )
        try:
            await asyncio.to_thread(self.audit_trail.append, tenant, actor, action, target, detail)
        except redis.RedisError as exc:
            log.error("audit entry lost for %s: %s %s (%s)", tenant, action, target, exc)

    def routing(self, tenant: str) -> RoutingConfig:
        """The tenant's routing tree and receivers (``alertmanager.yml``)."""
        return self.config.routing_for(tenant)

    def _call(self, name: str, make: Callable[[], ActorCall]) -> ActorCall:
        """The kept calls of one actor (its handle found once, refound when it dies)."""
        call = self.calls.get(name)
        if call is None:
            call = self.calls[name] = make()
        return call

    def operations(self, principal: Principal) -> TenantOperations:
        """What the principal's tenant may read and change, attributed to it."""
        tenant = principal.tenant
        return TenantOperations(
            principal,
            self.tenant(tenant),
            self.correlator(tenant),
            self.escalator(tenant),
            lambda alerts: self.ingest(tenant, alerts),
            self.audit,
        )

    def tenant(self, tenant: str) -> TenantClient:
        """The tenant's actor."""
        name = tenant_actor_name(tenant)
        return TenantClient(tenant, self._call(name, lambda: tenant_call(tenant, self.settings)))

    def correlator(self, tenant: str) -> CorrelatorClient:
        """The correlator shard that owns the tenant."""
        shard = shard_of(tenant, self.settings.correlator_shards)
        call = self._call(correlator_name(shard), lambda: correlator_call(shard, self.settings))
        return CorrelatorClient(tenant, call)

    def escalator(self, tenant: str) -> EscalatorClient:
        """The escalator lanes of the shard that owns the tenant."""
        shard = shard_of(tenant, self.settings.correlator_shards)
        calls = [
            self._call(
                escalator_name(shard, lane),
                functools.partial(escalator_call, shard, self.settings, lane=lane),
            )
            for lane in range(self.settings.escalator_lanes)
        ]
        return EscalatorClient(tenant, calls)

    async def tenant_secret(self, tenant: str, name: str) -> str | None:
        """One of the tenant's stored secrets (``None`` if it has none, or none of the
        configured keys reads it); read off the event loop."""

        def read() -> str | None:
            try:
                return SecretStore(self.redis_sync, tenant, box_for(self.settings)).get(name)
            except SecretError:
                return None

        return await asyncio.to_thread(read)

    async def ingest(self, tenant: str, alerts: list[IncomingAlert]) -> list[IngestResult]:
        """Store alerts through the tenant's actor, merged with concurrent requests."""
        ingester = self.ingesters.get(tenant)
        if ingester is None:
            ingester = Coalescer(
                self.tenant(tenant).ingest,
                max_items=self.settings.max_bulk_alerts,
                merged=metrics.INGEST_MERGED.labels(tenant).observe,
            )
            self.ingesters[tenant] = ingester
        # Hash the labels here, in bulk: replicas scale out, the tenant's actor does not.
        # (Some endpoints already hashed their alerts, to check a sender's fingerprint.)
        unhashed = [a for a in alerts if not a.has_fingerprint]
        for alert, value in zip(unhashed, fingerprints([a.labels for a in unhashed]), strict=True):
            alert.with_fingerprint(value)
        traceparent = tracing.current_traceparent()
        if traceparent is not None:
            for alert in alerts:
                alert.with_trace(traceparent)
        current_tally().received += len(alerts)
        results = await ingester.submit(alerts)
        # A repeat of an open alert; a resolution keeps its alert's id too, but is news.
        duplicates = sum(1 for r in results if r["duplicate"] and r["status"] != "resolved")
        metrics.ALERTS_STORED.labels(tenant).inc(len(results) - duplicates)
        metrics.ALERTS_DUPLICATE.labels(tenant).inc(duplicates)
        return results

    # -- health ------------------------------------------------------------------------

    @app.get("/healthz", tags=["health"])
    async def healthz(self) -> dict[str, str]:
        """Alive: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(self) -> JSONResponse:
        """Ready: Redis answers, every correlator and escalator loop beats and keeps up
        (``VIGIL_LOOP_STALL_SECONDS``, ``VIGIL_MAX_*_LAG``), and the live actors this
        replica uses answer. ``loops`` lists each loop's heartbeat age and lag."""
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.redis.ping(), 2)
            checks["redis"] = "ok"
        except (redis.RedisError, TimeoutError, OSError) as exc:
            checks["redis"] = f"down: {type(exc).__name__}"
        loops: list[dict[str, Any]] = []
        if checks["redis"] == "ok":
            try:
                health = await asyncio.wait_for(
                    loop_health(self.redis, self.config, self.settings, self.started_at), 2
                )
                loops = [health_record(h) for h in health]
                bad = [h.describe() for h in health if not h.ok]
                checks["loops"] = "ok" if not bad else "; ".join(bad)[:2000]
            except (redis.RedisError, TimeoutError, OSError) as exc:
                checks["loops"] = f"unknown: {type(exc).__name__}"
        for name, call in list(self.calls.items()):
            if call.handle is None:
                continue
            try:
                await asyncio.wait_for(call.handle.ping.remote(), 2)
                checks[f"actor:{name}"] = "ok"
            except (ActorDiedError, ActorUnavailableError):
                # Gone (idle eviction, a lost node): recreated on its next call.
                call.forget()
            except Exception as exc:
                checks[f"actor:{name}"] = f"not answering: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks, "loops": loops}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/api/v1/models", tags=["prediction"])
    async def models(self, request: Request) -> JSONResponse:
        """The risk model: whether ML is on, the serving version, every registered model
        with its metrics and data window (and, of the tenants it learnt from, only the
        caller's count, with whether its risk is provisional for the caller), and the
        newest promotion decisions."""
        tenant = await self.authenticate(request)
        if self.predictor is None:
            return JSONResponse({"enabled": False, "serving": None, "models": [], "log": []})
        try:
            serving = await asyncio.wait_for(self.predictor.info.remote(), 5)
        except Exception as exc:
            raise unavailable(f"the predictor is not answering: {type(exc).__name__}") from None
        registry = ModelRegistry(self.redis_sync)
        cards, log = await asyncio.to_thread(lambda: (registry.cards(), registry.log()[-20:]))
        body = {"enabled": True, "serving": serving, "models": [card_for(c, tenant) for c in cards]}
        return JSONResponse({**body, "log": log})

    # -- the native alert API ------------------------------------------------------------

    @app.post(f"{API}", status_code=202, tags=["alerts"], openapi_extra=json_body(IncomingAlert))
    async def create_alert(self, request: Request) -> JSONResponse:
        """Ingest one alert; 202 once it is stored, with its id and whether it was a duplicate."""
        tenant = await self.authenticate(request)
        alert = await read_model(request, IncomingAlert)
        (result,) = await self.ingest(tenant, [alert])
        return JSONResponse(result, status_code=202)

    @app.post(f"{API}/bulk", status_code=202, tags=["alerts"], openapi_extra=json_body(BulkRequest))
    async def create_alerts(self, request: Request) -> JSONResponse:
        """Ingest up to ``VIGIL_MAX_BULK_ALERTS`` alerts at once: all stored, or none."""
        tenant = await self.authenticate(request)
        data = await read_json_body(request)
        limit = self.settings.max_bulk_alerts
        items = data.get("alerts") if isinstance(data, dict) else None
        if isinstance(items, list) and len(items) > limit:
            raise ApiError(
                422,
                "invalid_request",
                f"at most {limit} alerts per bulk request, got {len(items)}",
                [{"field": "alerts", "message": f"at most {limit} items"}],
            )
        bulk = validated(BulkRequest, data, items_field="alerts")
        results = await self.ingest(tenant, bulk.alerts)
        return JSONResponse({"accepted": len(results), "results": results}, status_code=202)

    @app.get(f"{API}", tags=["alerts"])
    async def list_alerts(
        self,
        request: Request,
        status: Annotated[list[str] | None, Query()] = None,
        severity: Annotated[list[str] | None, Query()] = None,
        filter: Annotated[list[str] | None, Query()] = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> JSONResponse:
        """A page of alerts, newest first; ``filter`` takes label matchers like ``service="db"``."""
        tenant = await self.authenticate(request)
        query = alert_query(status or [], severity or [], filter or [], limit, cursor)
        page = await self.tenant(tenant).list_alerts(query)
        return JSONResponse(
            {
                "items": [a.model_dump(mode="json") for a in page.items],
                "total": page.total,
                "next_cursor": page.next_cursor,
            }
        )

    @app.get(f"{API}/{{alert_id}}", tags=["alerts"])
    async def get_alert(self, alert_id: str, request: Request) -> JSONResponse:
        """One alert by id."""
        tenant = await self.authenticate(request)
        alert = await self.tenant(tenant).get(alert_id)
        return JSONResponse(alert.model_dump(mode="json"))

    async def act(self, request: Request, alert_id: str, action: Action) -> JSONResponse:
        """Acknowledge or resolve one alert, as the key's label."""
        principal = await self.principal(request)
        body = await read_action(request)
        operations = self.operations(principal)
        alert = await operations.act_on_alert(action, alert_id, body.by, body.reason)
        return JSONResponse(alert.model_dump(mode="json"))

    @app.post(
        f"{API}/{{alert_id}}/acknowledge",
        tags=["alerts"],
        openapi_extra=ACTION_BODY,
    )
    async def acknowledge(self, alert_id: str, request: Request) -> JSONResponse:
        """Acknowledge an alert (idempotent; 409 if it is resolved)."""
        return await self.act(request, alert_id, Action.ACKNOWLEDGE)

    @app.post(
        f"{API}/{{alert_id}}/resolve",
        tags=["alerts"],
        openapi_extra=ACTION_BODY,
    )
    async def resolve(self, alert_id: str, request: Request) -> JSONResponse:
        """Resolve an alert by hand (idempotent)."""
        return await self.act(request, alert_id, Action.RESOLVE)

    @app.put(
        f"{API}/{{alert_id}}/escalate",
        tags=["alerts"],
        openapi_extra=ACTION_BODY,
    )
    async def escalate(self, alert_id: str, request: Request) -> JSONResponse:
        """Escalate an open alert one level now (409 at the highest level or if resolved),
        and notify the next level of each open incident it belongs to (``incidents``)."""
        principal = await self.principal(request)
        tenant, body = principal.tenant, await read_action(request)
        by = principal.attributed(body.by)
        alert = await self.tenant(tenant).escalate(alert_id, by, body.reason)
        escalated = await self.escalate_incidents_of(tenant, alert.fingerprint, by)
        detail = {**claimed(body.by, body.reason), "level": str(alert.escalation_level)}
        await self.audit(tenant, principal.actor, AuditAction.ESCALATE, f"alert {alert_id}", detail)
        return JSONResponse({**alert.model_dump(mode="json"), "incidents": escalated})

    async def escalate_incidents_of(
        self, tenant: str, fingerprint: str, by: str | None
    ) -> list[dict[str, Any]]:
        """Escalate every open incident of an alert through its policy; for each, the
        level notified or why not (no policy, no further level)."""
        found: list[dict[str, Any]] = []
        for incident_id in await self.correlator(tenant).open_incidents_of(fingerprint):
            try:
                level = await self.escalator(tenant).escalate(incident_id, by)
            except VigilError as refused:  # no policy, no further level: say why
                found.append({"id": incident_id, "not_escalated": refusal(refused).message})
            else:
                found.append({"id": incident_id, "escalated_to_level": level})
        return found
