"""Alertmanager API v2, per tenant: what Prometheus, amtool and Grafana already speak.

Same paths, bodies and status codes as Alertmanager's ``api/v2/openapi.yaml``:
alerts (post, list, groups), silences (list, create/update, get, expire), status and
receivers. Errors are answered as Alertmanager does, a JSON string, so its clients
print them. The tenant comes from a Bearer key or from basic auth (user = tenant id,
password = key).

Two choices where Alertmanager differs from Vigil's rules: a batch with any invalid
alert stores none of them (Alertmanager stores the valid ones), and an alert with a
``dedup_key`` label is also found by that key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actors.actor_call import ActorCallError
from alerting.alert import Alert, IncomingAlert
from alerting.config_redaction import redacted
from alerting.errors import InvalidMatcher, VigilError
from alerting.inhibition import inhibiting_sources
from alerting.matchers import Matcher, MatchOp, matches_all, parse_matcher_list
from alerting.routing import receivers_for
from alerting.silence import Silence, SilenceDraft
from alerting.timeutil import as_utc
from alerting.user_regex import UserRegex
from serve_app.problems import ApiError, field_path, refusal
from serve_app.wire import go_time, ingress_of, iso, json_body, read_json_body

PREFIX = "/api/v2"
VERSION = "0.25.0-vigil"

router = APIRouter(prefix=PREFIX, tags=["alertmanager v2"])


def am_errors(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Answer refusals as Alertmanager does: the status code with a JSON string body."""

    @functools.wraps(handler)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return await handler(*args, **kwargs)
        except (ApiError, VigilError, ActorCallError) as exc:
            problem = exc if isinstance(exc, ApiError) else refusal(exc)
            return JSONResponse(
                problem.message, status_code=problem.status, headers=problem.headers
            )

    return wrapped


# -- bodies ----------------------------------------------------------------------------


class PostableAlert(BaseModel):
    """One element of ``POST /api/v2/alerts`` (unknown fields ignored, as go-swagger does)."""

    model_config = ConfigDict(extra="ignore")

    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str | None = None


class SilenceMatcherBody(BaseModel):
    """A matcher as the v2 API writes it."""

    model_config = ConfigDict(extra="ignore")

    name: str
    value: str
    isRegex: bool
    isEqual: bool = True


class PostableSilence(BaseModel):
    """``POST /api/v2/silences``: a new silence, or a change when ``id`` is given."""

    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    matchers: list[SilenceMatcherBody]
    startsAt: datetime
    endsAt: datetime
    createdBy: str
    comment: str


def _matcher(body: SilenceMatcherBody) -> Matcher:
    op = {
        (False, True): MatchOp.EQUAL,
        (False, False): MatchOp.NOT_EQUAL,
        (True, True): MatchOp.REGEX,
        (True, False): MatchOp.NOT_REGEX,
    }[(body.isRegex, body.isEqual)]
    return Matcher.create(body.name, op, body.value)


def _matcher_body(m: Matcher) -> dict[str, Any]:
    return {
        "name": m.name,
        "value": m.value,
        "isRegex": m.op in (MatchOp.REGEX, MatchOp.NOT_REGEX),
        "isEqual": m.op in (MatchOp.EQUAL, MatchOp.REGEX),
    }


def _schema_error(exc: ValidationError, prefix: str = "") -> ApiError:
    """go-swagger answers 422 when a body does not fit the schema."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = field_path((*((prefix,) if prefix else ()), *first["loc"]))
    return ApiError(422, "invalid_request", f"{where} in body: {first['msg']}")


def to_incoming(
    alert: PostableAlert, index: int, source: str, default_end: datetime | None = None
) -> IncomingAlert:
    """Check one posted alert as Alertmanager does and normalise it (400 on a bad one).

    ``default_end`` is when an alert without ``endsAt`` ends: now plus the tenant's
    ``global.resolve_timeout``; ``None`` leaves it to Vigil's resolve timeout.
    """

    def bad(message: str) -> ApiError:
        return ApiError(400, "invalid_alert", f"alert {index}: {message}")

    if not alert.labels:
        raise bad("at least one label pair required")
    starts, ends = go_time(alert.startsAt), go_time(alert.endsAt)
    if starts is not None and ends is not None and ends < starts:
        raise bad("start time must be before end time")
    if ends is None:
        ends = default_end
    try:
        return IncomingAlert.model_validate(
            {
                "labels": alert.labels,
                "annotations": alert.annotations,
                "starts_at": starts,
                "ends_at": ends,
                "generator_url": alert.generatorURL or None,
                "source": source,
            }
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        message = first["msg"].removeprefix("Value error, ")
        name = re.search(r"invalid label name '([^']*)'", message)
        if name:  # in Prometheus's words, which amtool users know
            raise bad(f'invalid label set: invalid name "{name.group(1)}"') from None
        raise bad(f"{field_path(tuple(first['loc']))}: {message}") from None


def _source(request: Request) -> str:
    """Who sent the alerts, from the User-Agent (``Prometheus/2.42.0`` → ``prometheus``)."""
    agent = request.headers.get("user-agent", "")
    product = agent.split("/", 1)[0].strip().lower()
    return product[:64] if re.fullmatch(r"[a-z][a-z0-9._-]*", product) else "alertmanager-api"


def gettable_alert(
    alert: Alert, silenced: Sequence[str], inhibited: Sequence[str], receivers: Sequence[str]
) -> dict[str, Any]:
    """One alert in Alertmanager's ``gettableAlert`` shape."""
    return {
        "annotations": alert.annotations,
        "endsAt": iso(alert.ends_at),
        "fingerprint": alert.fingerprint,
        "receivers": [{"name": r} for r in receivers],
        "startsAt": iso(alert.starts_at),
        "status": {
            "inhibitedBy": list(inhibited),
            "silencedBy": list(silenced),
            "state": "suppressed" if silenced or inhibited else "active",
        },
        "updatedAt": iso(alert.updated_at),
        "generatorURL": alert.generator_url or "",
        "labels": alert.labels,
    }


def gettable_silence(silence: Silence, now: datetime) -> dict[str, Any]:
    """One silence in Alertmanager's ``gettableSilence`` shape."""
    return {
        "id": silence.id,
        "status": {"state": silence.state(now).value},
        "updatedAt": iso(silence.updated_at),
        "comment": silence.comment,
        "createdBy": silence.created_by,
        "endsAt": iso(silence.ends_at),
        "matchers": [_matcher_body(m) for m in silence.matchers],
        "startsAt": iso(silence.starts_at),
    }


def _filters(values: list[str] | None) -> list[Matcher]:
    try:
        return parse_matcher_list(values or [])
    except InvalidMatcher as exc:
        raise ApiError(400, "invalid_matcher", f"bad matcher format: {exc.message}") from None


# -- alerts ----------------------------------------------------------------------------


@router.post("/alerts", status_code=200, openapi_extra=json_body(list[PostableAlert]))
@am_errors
async def post_alerts(request: Request) -> Response:
    """Create or refresh alerts (Prometheus's ``alerting.alertmanagers`` target)."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    data = await read_json_body(request)
    if not isinstance(data, list):
        raise ApiError(400, "malformed", "body must be a JSON array of postable alerts")
    limit = ingress.settings.max_bulk_alerts
    if len(data) > limit:
        raise ApiError(400, "too_many", f"at most {limit} alerts per request, got {len(data)}")
    posted = []
    for i, item in enumerate(data):
        try:
            posted.append(PostableAlert.model_validate(item))
        except ValidationError as exc:
            raise _schema_error(exc, f"[{i}]") from None
    source = _source(request)
    timeout = ingress.routing(tenant).resolve_timeout()
    default_end = datetime.now(UTC) + timeout if timeout is not None else None
    alerts = [to_incoming(a, i, source, default_end) for i, a in enumerate(posted)]
    if alerts:
        await ingress.ingest(tenant, alerts)
    return Response(status_code=200)


class AlertFilters:
    """The query parameters ``GET /alerts`` and ``GET /alerts/groups`` share."""

    def __init__(
        self,
        filter: Annotated[list[str] | None, Query()] = None,
        receiver: str | None = None,
        active: bool = True,
        silenced: bool = True,
        inhibited: bool = True,
    ) -> None:
        self.filter, self.receiver = filter or [], receiver
        self.active, self.silenced, self.inhibited = active, silenced, inhibited

    def parsed(self) -> tuple[list[Matcher], UserRegex | None]:
        """The matchers and the anchored receiver regex (400 if either does not parse).

        Parsed here, inside the handler, not in ``__init__``: an error raised while
        FastAPI resolves a dependency would miss the Alertmanager-style error answer.
        """
        try:
            receiver = UserRegex(self.receiver) if self.receiver else None
        except InvalidMatcher as exc:
            message = f"failed to parse receiver param: {exc}"
            raise ApiError(400, "invalid_receiver", message) from None
        return _filters(self.filter), receiver


async def _alert_views(
    request: Request, filters: AlertFilters
) -> tuple[Any, list[tuple[Alert, dict[str, Any], list[str]]]]:
    """The tenant's open alerts that pass the v2 filters, with their gettable form and
    receivers."""
    active, silenced, inhibited = filters.active, filters.silenced, filters.inhibited
    matchers, receiver_re = filters.parsed()
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    routing = ingress.routing(tenant)
    # An inhibiting alert need not pass the filter itself: with inhibition rules, every
    # open alert is a possible source, so all are fetched and the filter applied here.
    fetch = [] if routing.inhibit_rules else matchers
    found = await ingress.tenant(tenant).open_alerts(fetch)
    muted = inhibiting_sources(routing.inhibit_rules, [(a.fingerprint, a.labels) for a, _ in found])
    views = []
    for alert, silenced_by in found:
        if fetch is not matchers and not matches_all(matchers, alert.labels):
            continue
        inhibited_by = [muted[alert.fingerprint]] if alert.fingerprint in muted else []
        if (not silenced and silenced_by) or (not inhibited and inhibited_by):
            continue
        if not active and not silenced_by and not inhibited_by:
            continue
        receivers = receivers_for(routing.root, alert.labels)
        if receiver_re is not None and not any(receiver_re.fullmatch(r) for r in receivers):
            continue
        views.append(
            (alert, gettable_alert(alert, silenced_by, inhibited_by, receivers), receivers)
        )
    views.sort(key=lambda v: v[0].fingerprint)
    return routing, views


@router.get("/alerts")
@am_errors
async def get_alerts(
    request: Request,
    filters: Annotated[AlertFilters, Depends()],
    unprocessed: bool = True,
) -> JSONResponse:
    """Open alerts; ``filter`` takes matchers, the flags choose by state.

    ``unprocessed`` is accepted for compatibility: Vigil processes an alert before it
    answers the post, so no alert is ever unprocessed.
    """
    _, views = await _alert_views(request, filters)
    return JSONResponse([body for _, body, _ in views])


@router.get("/alerts/groups")
@am_errors
async def get_alert_groups(
    request: Request, filters: Annotated[AlertFilters, Depends()]
) -> JSONResponse:
    """Open alerts grouped as the routing tree groups them (route, ``group_by`` labels)."""
    routing, views = await _alert_views(request, filters)
    groups: dict[tuple[str, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    for alert, body, _ in views:
        for route in routing.root.match(alert.labels):
            labels = route.group_labels(alert.labels)
            key = (route.path, tuple(sorted(labels.items())))
            group = groups.setdefault(
                key, {"labels": labels, "receiver": {"name": route.receiver}, "alerts": []}
            )
            group["alerts"].append(body)
    return JSONResponse(list(groups.values()))


# -- silences --------------------------------------------------------------------------


@router.get("/silences")
@am_errors
async def get_silences(
    request: Request, filter: Annotated[list[str] | None, Query()] = None
) -> JSONResponse:
    """Every silence of the tenant (expired ones until their retention ends)."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    silences = await ingress.tenant(tenant).list_silences(_filters(filter))
    now = datetime.now(UTC)
    return JSONResponse([gettable_silence(s, now) for s in silences])


@router.post("/silences", openapi_extra=json_body(PostableSilence))
@am_errors
async def post_silences(request: Request) -> JSONResponse:
    """Create a silence, or change one by id; answers ``{"silenceID": ...}``."""
    ingress = ingress_of(request)
    principal = await ingress.principal(request)
    try:
        body = PostableSilence.model_validate(await read_json_body(request))
    except ValidationError as exc:
        raise _schema_error(exc) from None
    try:
        matchers = tuple(_matcher(m) for m in body.matchers)
    except InvalidMatcher as exc:
        raise ApiError(400, "invalid_silence", f"invalid silence: {exc.message}") from None
    draft = SilenceDraft(
        matchers=matchers,
        starts_at=as_utc(body.startsAt),
        ends_at=as_utc(body.endsAt),
        created_by=body.createdBy,
        comment=body.comment,
        id=body.id or None,
    )
    silence_id = await ingress.operations(principal).set_silence(draft)
    return JSONResponse({"silenceID": silence_id})


@router.get("/silence/{silence_id}")
@am_errors
async def get_silence(silence_id: str, request: Request) -> JSONResponse:
    """One silence by id."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    silence = await ingress.tenant(tenant).get_silence(silence_id)
    return JSONResponse(gettable_silence(silence, datetime.now(UTC)))


@router.delete("/silence/{silence_id}")
@am_errors
async def delete_silence(silence_id: str, request: Request) -> Response:
    """Expire a silence now (silences are expired, never deleted)."""
    ingress = ingress_of(request)
    principal = await ingress.principal(request)
    await ingress.operations(principal).expire_silence(silence_id)
    return Response(status_code=200)


# -- status ----------------------------------------------------------------------------


@router.get("/status")
@am_errors
async def get_status(request: Request) -> JSONResponse:
    """What ``amtool config show`` and Grafana read: the tenant's routing config, uptime."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    return JSONResponse(
        {
            "cluster": {"name": "vigil", "peers": [], "status": "disabled"},
            "config": {"original": _masked(ingress.routing(tenant).original)},
            "uptime": iso(datetime.fromtimestamp(ingress.started, UTC)),
            "versionInfo": {
                "branch": "main",
                "buildDate": "",
                "buildUser": "vigil",
                "goVersion": "python",
                "revision": "",
                "version": VERSION,
            },
        }
    )


def _masked(original: str) -> str:
    """The tenant's ``alertmanager.yml`` with its secrets shown as ``<secret>``."""
    try:
        document = yaml.safe_load(original)
    except yaml.YAMLError:
        return ""  # it was validated when loaded; never show an unparsed secret
    return yaml.safe_dump(redacted(document), sort_keys=False) if document else ""


@router.get("/receivers")
@am_errors
async def get_receivers(request: Request) -> JSONResponse:
    """The tenant's receivers, by name."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    return JSONResponse([{"name": n} for n in ingress.routing(tenant).receiver_names()])
