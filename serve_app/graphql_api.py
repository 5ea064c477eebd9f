"""GraphQL at ``/graphql``: the REST API's reads and actions as one typed schema, with
``incidentUpdates`` as a subscription over WebSocket (graphql-transport-ws).

Security is the REST API's:
- every operation is one tenant's, proven by the same ``Authorization`` header (Bearer
  key, or basic auth); a WebSocket proves it in the handshake's header or in
  ``connection_init``'s payload (``{"Authorization": "Bearer <key>"}``: a browser
  cannot set a handshake header), and is closed with 4403 without it;
- every object is looked up within that tenant: another tenant's incident is "not
  found", as over REST;
- a query is refused before it runs when it nests deeper than ``MAX_DEPTH``, has more
  than ``MAX_ALIASES`` aliases or ``MAX_TOKENS`` tokens, or could return more than
  ``MAX_COST`` objects (``cost.py``); introspection stays on.

Refusals carry the REST answer in ``extensions``: ``code`` (``not_found``,
``unauthenticated``...) and ``status`` (404, 401...).

Strawberry's app is built in the replica on the first request (``LazyGraphQL``):
Serve pickles the ingress app when the deployment is defined, and a schema does not
pickle (Ray issue 50677).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.scalars import JSON
from strawberry.types import Info

from actors.actor_call import ActorCallError
from actors.notifiers.am_receivers import integrations_of
from actors.tenant_operations import TenantOperations
from alerting.alert import IncomingAlert
from alerting.errors import VigilError
from alerting.lifecycle import Action
from alerting.matchers import Matcher
from alerting.oncall import on_call
from alerting.query import DEFAULT_PAGE_SIZE
from alerting.silence import SilenceDraft
from cluster.tenants import Principal
from serve_app import graphql_types as t
from serve_app.auth import credentials, unauthenticated
from serve_app.graphql_cost import CostLimit
from serve_app.incidents_api import (
    escalation_of,
    incident_detail,
    incident_summary,
    with_escalations,
)
from serve_app.live_api import changes_json
from serve_app.problems import ApiError, refusal, validated
from serve_app.query_params import alert_query, bad_param, filter_param, incident_query
from serve_app.replica import Replica
from serve_app.wire import ingress_of

PATH = "/graphql"
MAX_DEPTH = 8  # the schema has no cycles today; a guard for types that will
MAX_ALIASES = 30
MAX_TOKENS = 5_000
MAX_BATCH = 1_000  # alerts in one createAlerts
KEY_RECHECK_SECONDS = 60.0  # how often a subscription's key is looked up again


def problem(exc: Exception) -> GraphQLError | None:
    """A refusal as a GraphQL error carrying its REST status and code."""
    if isinstance(exc, VigilError | ActorCallError):
        exc = refusal(exc)
    if not isinstance(exc, ApiError):
        return None
    extensions: dict[str, Any] = {"code": exc.code, "status": exc.status}
    if exc.details:
        extensions["details"] = exc.details
    return GraphQLError(exc.message, extensions=extensions)


class Refusals(SchemaExtension):
    """Turn a resolver's refusal (``ApiError``, ``VigilError``, an actor's outage) into
    a GraphQL error with the REST answer's ``code`` and ``status``."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: Any, *args: Any, **kwargs: Any
    ) -> Any:
        try:
            result = _next(root, info, *args, **kwargs)
        except Exception as exc:
            raise (problem(exc) or exc) from None
        if inspect.isawaitable(result):
            return _awaited(result)
        return result


async def _awaited(result: Awaitable[Any]) -> Any:
    try:
        return await result
    except Exception as exc:
        raise (problem(exc) or exc) from None


# -- who is asking ---------------------------------------------------------------------


async def principal_of(info: Info) -> Principal:
    """The operation's principal: from the WebSocket's ``connection_init``, or from the
    request's header (looked up once per operation)."""
    context = info.context
    found: Principal | None = context.get("principal")
    if found is None:  # an HTTP request: authenticated as it came in (LazyGraphQL)
        found = context["principal"] = context["request"].state.principal
    assert found is not None
    return found


def replica_of(info: Info) -> Replica:
    return ingress_of(info.context["request"])


def operations_of(info: Info, principal: Principal) -> TenantOperations:
    return replica_of(info).operations(principal)


async def tenant_operations(info: Info) -> TenantOperations:
    return operations_of(info, await principal_of(info))


# -- inputs ----------------------------------------------------------------------------


@strawberry.input(description="An alert to send; validated as POST /api/v1/critical-alerts.")
class CriticalAlertInput:
    labels: JSON
    severity: str
    annotations: JSON | None = None
    status: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str | None = None
    source: str | None = None

    def as_json(self) -> dict[str, Any]:
        given = {
            "labels": self.labels,
            "severity": self.severity,
            "annotations": self.annotations,
            "status": self.status,
            "starts_at": None if self.starts_at is None else self.starts_at.isoformat(),
            "ends_at": None if self.ends_at is None else self.ends_at.isoformat(),
            "generator_url": self.generator_url,
            "source": self.source,
        }
        return {k: v for k, v in given.items() if v is not None}


@strawberry.input(description='A silence to create: label matchers like service="db".')
class SilenceInput:
    matchers: list[str]
    ends_at: datetime
    comment: str
    created_by: str | None = None
    starts_at: datetime | None = None


# -- queries ---------------------------------------------------------------------------


def _policies(replica: Replica, tenant: str) -> list[t.EscalationRule]:
    config = replica.config.tenant(tenant)
    if config is None:
        return []
    spec = config.escalation
    rules = []
    for name, policy in sorted(spec.policies.items()):
        levels = [
            t.EscalationLevel(
                level=number,
                targets=[
                    t.EscalationTarget(channel=x.channel, schedule=x.schedule) for x in lv.targets
                ],
                escalate_after=lv.escalate_after,
                fallback=list(lv.fallback),
            )
            for number, lv in enumerate(policy.levels, start=1)
        ]
        receivers = sorted(r for r, p in spec.receivers.items() if p == name)
        rules.append(
            t.EscalationRule(
                name=name,
                levels=levels,
                repeat=policy.repeat,
                receivers=receivers,
                is_default=spec.default_policy == name,
            )
        )
    return rules


def _health(outcomes: dict[str, float]) -> t.ChannelHealth:
    delivered = int(outcomes.get("delivered", 0))
    failed = int(outcomes.get("failed", 0))
    fallback = int(outcomes.get("delivered_by_fallback", 0))
    if failed and not (delivered or fallback):
        status = "failing"
    elif failed:
        status = "degraded"
    elif delivered or fallback:
        status = "healthy"
    else:
        status = "unknown"
    return t.ChannelHealth(status=status, delivered=delivered, failed=failed, by_fallback=fallback)


def _schedule(replica: Replica, tenant: str, name: str, at: datetime) -> t.Schedule | None:
    schedule = replica.config.schedule_for(tenant, name)
    if schedule is None:
        return None
    now = on_call(schedule, at)
    current = t.OnCall(
        user=None if now is None else now.user,
        source=None if now is None else now.source,
        until=None if now is None else now.until,
    )
    following = None
    if now is not None and now.until is not None:
        after = on_call(schedule, now.until)
        following = t.OnCall(
            user=None if after is None else after.user,
            source=None if after is None else after.source,
            until=None if after is None else after.until,
        )
    layers = [layer.name or layer.rotation.value for layer in schedule.layers]
    return t.Schedule(
        id=name, time_zone=schedule.time_zone, layers=layers, now=current, next=following
    )


@strawberry.type
class Query:
    @strawberry.field(description="A page of alerts, newest first.")
    async def alerts(
        self,
        info: Info,
        status: list[str] | None = None,
        severity: list[str] | None = None,
        filter: list[str] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> t.AlertPage:
        query = alert_query(status or [], severity or [], filter or [], limit, cursor)
        page = await (await tenant_operations(info)).list_alerts(query)
        items = [t.CriticalAlert.of(a) for a in page.items]
        return t.AlertPage(items=items, total=page.total, next_cursor=page.next_cursor)

    @strawberry.field(description="One alert by id.")
    async def alert(self, info: Info, id: strawberry.ID) -> t.CriticalAlert:
        return t.CriticalAlert.of(await (await tenant_operations(info)).get_alert(str(id)))

    @strawberry.field(description="A page of incidents, newest first.")
    async def incidents(
        self,
        info: Info,
        state: list[str] | None = None,
        severity: list[str] | None = None,
        receiver: list[str] | None = None,
        filter: list[str] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> t.IncidentPage:
        query = incident_query(
            state or [], severity or [], receiver or [], filter or [], limit, cursor
        )
        operations = await tenant_operations(info)
        page = await operations.list_incidents(query)
        summaries = [incident_summary(i) for i in page.items]
        summaries = await with_escalations(replica_of(info).redis, operations.tenant, summaries)
        items = [t.Incident.of(s) for s in summaries]
        return t.IncidentPage(items=items, total=page.total, next_cursor=page.next_cursor)

    @strawberry.field(description="One incident with its members and timeline.")
    async def incident(self, info: Info, id: strawberry.ID) -> t.Incident:
        operations = await tenant_operations(info)
        incident, timeline = await operations.get_incident(str(id))
        detail = incident_detail(incident, timeline)
        detail["escalation"] = await escalation_of(
            replica_of(info).redis, operations.tenant, str(id)
        )
        return t.Incident.of(detail)

    @strawberry.field(description="Silences, expired ones until their retention ends.")
    async def silences(self, info: Info, filter: list[str] | None = None) -> list[t.Silence_]:
        found = await (await tenant_operations(info)).list_silences(filter_param(filter or []))
        now = datetime.now(UTC)
        return [t.Silence_.of(s, now) for s in found]

    @strawberry.field(description="The escalation policies and their levels.")
    async def escalation_rules(self, info: Info) -> list[t.EscalationRule]:
        principal = await principal_of(info)
        return _policies(replica_of(info), principal.tenant)

    @strawberry.field(description="Where notices go, with their health; never a secret.")
    async def notification_channels(self, info: Info) -> list[t.NotificationChannel]:
        principal = await principal_of(info)
        replica = replica_of(info)
        outcomes = await replica.channel_outcomes(principal.tenant)
        found = []
        config = replica.config.tenant(principal.tenant)
        for name, spec in sorted((config.channels if config else {}).items()):
            kind = str(spec.get("type", "unknown"))
            found.append(
                t.NotificationChannel(
                    name=name, type=kind, kind="escalation", health=_health(outcomes.get(kind, {}))
                )
            )
        for receiver in replica.routing(principal.tenant).receivers:
            for integration in integrations_of(receiver):
                kind = integration.channel_type
                found.append(
                    t.NotificationChannel(
                        name=integration.name,
                        type=kind,
                        kind="receiver",
                        health=_health(outcomes.get(kind, {})),
                    )
                )
        return found

    @strawberry.field(description="The noise figures: what grouping and muting saved.")
    async def alert_metrics(self, info: Info) -> t.AlertMetrics:
        figures = await (await tenant_operations(info)).noise()
        suppressed = figures["suppressed_by_silence"] + figures["suppressed_by_inhibition"]
        return t.AlertMetrics(
            received=figures["received"],
            duplicates=figures["duplicates"],
            incidents=figures["incidents"],
            open_incidents=figures.get("open_incidents", 0),
            alerts_per_incident=figures.get("alerts_per_incident"),
            suppressed=suppressed,
            notifications=figures["notifications"],
            figures=t.json_value(figures),
        )

    @strawberry.field(description="The on-call schedules, with who is on call now and next.")
    async def schedules(self, info: Info, at: datetime | None = None) -> list[t.Schedule]:
        principal = await principal_of(info)
        replica = replica_of(info)
        when = at or datetime.now(UTC)
        names = sorted(replica.config.schedule_names(principal.tenant))
        found = [_schedule(replica, principal.tenant, n, when) for n in names]
        return [s for s in found if s is not None]


# -- mutations -------------------------------------------------------------------------


def _matchers(values: list[str]) -> tuple[Matcher, ...]:
    matchers = filter_param(values)
    if not matchers:
        raise bad_param("matchers", "a silence needs at least one matcher")
    return matchers


async def _act(info: Info, action: Action, incident_id: str, reason: str | None) -> t.Incident:
    operations = await tenant_operations(info)
    incident = await operations.act_on_incident(action, str(incident_id), None, reason)
    return t.Incident.of(incident_summary(incident))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Send alerts: all stored, or none (at most 1,000).")
    async def create_alerts(
        self, info: Info, alerts: list[CriticalAlertInput]
    ) -> list[t.SendResult]:
        if not 1 <= len(alerts) <= MAX_BATCH:
            raise bad_param("alerts", f"send between 1 and {MAX_BATCH} alerts")
        parsed = [validated(IncomingAlert, a.as_json()) for a in alerts]
        results = await (await tenant_operations(info)).send(parsed)
        return [
            t.SendResult(
                id=r["id"],
                fingerprint=r["fingerprint"],
                status=r["status"],
                duplicate=r["duplicate"],
            )
            for r in results
        ]

    @strawberry.mutation(description="Send one alert.")
    async def create_alert(self, info: Info, alert: CriticalAlertInput) -> t.SendResult:
        results: list[t.SendResult] = await Mutation.create_alerts(self, info, [alert])
        return results[0]

    @strawberry.mutation(description="Acknowledge an incident and its firing alerts.")
    async def acknowledge_incident(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> t.Incident:
        return await _act(info, Action.ACKNOWLEDGE, id, reason)

    @strawberry.mutation(description="Resolve an incident and its open alerts.")
    async def resolve_incident(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> t.Incident:
        return await _act(info, Action.RESOLVE, id, reason)

    @strawberry.mutation(description="Notify the incident's next escalation level now.")
    async def escalate_incident(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> int:
        return await (await tenant_operations(info)).escalate_incident(str(id), None, reason)

    @strawberry.mutation(description="Say whether an incident was actionable or noise.")
    async def give_feedback(self, info: Info, id: strawberry.ID, verdict: str) -> t.Incident:
        if verdict not in ("actionable", "noise"):
            raise bad_param("verdict", "verdict must be actionable or noise")
        incident = await (await tenant_operations(info)).give_feedback(str(id), verdict)
        return t.Incident.of(incident_summary(incident))

    @strawberry.mutation(description="Create a silence.")
    async def create_silence(self, info: Info, silence: SilenceInput) -> t.Silence_:
        principal = await principal_of(info)
        operations = operations_of(info, principal)
        draft = SilenceDraft(
            matchers=_matchers(silence.matchers),
            starts_at=(silence.starts_at or datetime.now(UTC)).astimezone(UTC),
            ends_at=silence.ends_at.astimezone(UTC),
            created_by=silence.created_by or principal.actor,
            comment=silence.comment,
        )
        silence_id = await operations.set_silence(draft)
        (created,) = [s for s in await operations.list_silences() if s.id == silence_id]
        return t.Silence_.of(created, datetime.now(UTC))

    @strawberry.mutation(description="Expire a silence now.")
    async def expire_silence(self, info: Info, id: strawberry.ID) -> t.Silence_:
        silence = await (await tenant_operations(info)).expire_silence(str(id))
        return t.Silence_.of(silence, datetime.now(UTC))


# -- the subscription ------------------------------------------------------------------


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The tenant's incident changes as they happen; pass a position to resume."
    )
    async def incident_updates(
        self, info: Info, after: str | None = None
    ) -> AsyncIterator[t.IncidentUpdate]:
        operations = await tenant_operations(info)
        replica = replica_of(info)
        key: str | None = info.context.get("key")
        checked = time.monotonic()
        watch = operations.watch(after, replica.settings.live_poll_seconds, KEY_RECHECK_SECONDS)
        async for changes in watch:
            if key is not None and time.monotonic() - checked >= KEY_RECHECK_SECONDS:
                # A long subscription outlives its key's revocation by a minute at most.
                checked = time.monotonic()
                try:
                    await replica.principal_of_key(key)
                except ApiError as refused:  # revoked: the subscription ends with a 401
                    raise (problem(refused) or refused) from None
            if not (changes.incidents or changes.removed or changes.gap):
                continue  # a quiet minute: only the key was checked
            data = changes_json(changes)
            yield t.IncidentUpdate(
                position=data["position"],
                incidents=[t.Incident.of(i) for i in data["incidents"]],
                removed=data["removed"],
                gap=data["gap"],
            )


LIMITS: list[Any] = [  # each built afresh per request, as Strawberry asks
    Refusals,
    lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
    lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
    lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
    lambda: AddValidationRules([CostLimit]),
]
schema = strawberry.Schema(
    query=Query, mutation=Mutation, subscription=Subscription, extensions=LIMITS
)


class VigilGraphQL(GraphQL):
    """Strawberry's ASGI app with Vigil's authentication on WebSockets."""

    async def on_ws_connect(self, context: Any) -> dict[str, object] | None:
        """Authenticate a WebSocket once, from ``connection_init`` or the handshake."""
        request = context["request"]
        params = context.get("connection_params") or {}
        header = None
        if isinstance(params, dict):
            header = params.get("Authorization") or params.get("authorization")
        try:
            if isinstance(header, str):
                key, claimed_tenant = header.partition(" ")[2].strip(), None
                if not header.lower().startswith("bearer ") or not key:
                    raise unauthenticated("connection_init's Authorization must be 'Bearer <key>'")
            else:
                given = credentials(request)  # the handshake's header; 401 without any
                key, claimed_tenant = given.key, given.claimed_tenant
            principal = await ingress_of(request).principal_of_key(key, claimed_tenant)
        except ApiError as refused:
            raise ConnectionRejectionError({"message": refused.message}) from None
        context["principal"] = principal
        context["key"] = key  # looked up again while a subscription runs
        return None


class LazyGraphQL:
    """An ASGI app that builds ``VigilGraphQL`` on its first request, in the process
    that serves it (so nothing of Strawberry's is pickled with the ingress app)."""

    def __init__(self) -> None:
        self._app: VigilGraphQL | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"_app": None}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = VigilGraphQL(
                schema,
                graphql_ide=None,  # GraphiQL loads from a CDN: use any client instead
                allow_queries_via_get=False,  # no reads through a link or an <img>
                connection_init_wait_timeout=timedelta(seconds=10),
                max_subscriptions_per_connection=10,
            )
        if scope["type"] == "http":
            # Authenticated before GraphQL sees it, so a bad key is an HTTP 401 (or 429,
            # 503), as on every REST route, rather than a 200 with an error inside.
            request = Request(scope, receive)
            try:
                scope.setdefault("state", {})["principal"] = await ingress_of(request).principal(
                    request
                )
            except ApiError as refused:
                await refused.response()(scope, receive, send)
                return
        await self._app(scope, receive, send)
