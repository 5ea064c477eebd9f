"""PagerDuty Events API v2 (``/v2/enqueue``) and v1 (``create_event.json``), per tenant.

A PagerDuty client pointed at Vigil works unchanged. The ``routing_key`` (v1:
``service_key``) is one of the tenant's integration keys; the ``dedup_key`` (v1:
``incident_key``) names the alert, so a later trigger refreshes it and acknowledge /
resolve find it. As PagerDuty does, acknowledge or resolve for a key with no open
alert is accepted and changes nothing, and a triggered alert stays open until it is
resolved (it has no resolve timeout).

The event becomes an alert with labels ``dedup_key``, ``source``, ``severity`` and,
when given, ``component``, ``group`` and ``class``; the summary, details, links and
images become annotations.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from alerting.alert import MAX_ANNOTATION_VALUE, MAX_LABEL_VALUE, IncomingAlert
from alerting.audit import AuditAction
from alerting.lifecycle import Action
from cluster.tenants import Principal
from serve_app.problems import ApiError
from serve_app.wire import ingress_of, json_body, read_json_body

V2_PATH = "/v2/enqueue"
V1_PATH = "/generic/2010-04-15/create_event.json"
MAX_BODY_BYTES = 512 * 1024
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255
SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")
OPEN_UNTIL_RESOLVED = datetime(9999, 12, 31, tzinfo=UTC)
"""PagerDuty alerts never time out: they stay open until an event resolves them."""

router = APIRouter(tags=["pagerduty events"])


class EventPayload(BaseModel):
    """``payload`` of a v2 trigger (documentation of the body; parsed by hand to answer
    with PagerDuty's error list)."""

    summary: str = Field(max_length=MAX_SUMMARY)
    source: str
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: str | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = Field(default=None, alias="class")
    custom_details: dict[str, Any] | None = None


class EnqueueEvent(BaseModel):
    """An Events API v2 event."""

    routing_key: str
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = Field(default=None, max_length=MAX_DEDUP_KEY)
    payload: EventPayload | None = None
    links: list[dict[str, str]] | None = None
    images: list[dict[str, str]] | None = None
    client: str | None = None
    client_url: str | None = None


class CreateEventV1(BaseModel):
    """An Events API v1 event."""

    service_key: str
    event_type: Literal["trigger", "acknowledge", "resolve"]
    incident_key: str | None = None
    description: str | None = None
    details: dict[str, Any] | None = None
    client: str | None = None
    client_url: str | None = None


class EventInvalid(Exception):
    """An event PagerDuty would refuse; ``errors`` lists every reason."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def invalid_event(errors: list[str], status: int = 400) -> JSONResponse:
    """PagerDuty's refusal body."""
    body = {"status": "invalid event", "message": "Event object is invalid", "errors": errors}
    return JSONResponse(body, status_code=status)


def _text(data: dict[str, Any], key: str, where: str, errors: list[str], limit: int) -> str | None:
    """A string field: ``None`` when absent, an error when not a string or too long."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append(f"'{where}' must be a string")
        return None
    if len(value) > limit:
        errors.append(f"'{where}' is too long (max {limit} characters)")
        return None
    return value


def _required(data: dict[str, Any], key: str, where: str, errors: list[str], limit: int) -> str:
    value = _text(data, key, where, errors, limit)
    if value is None and not any(e.startswith(f"'{where}'") for e in errors):
        errors.append(f"'{where}' is missing or blank")
    return value or ""


def _json_annotation(value: Any, where: str, errors: list[str]) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if len(text) > MAX_ANNOTATION_VALUE:
        errors.append(f"'{where}' is too large (max {MAX_ANNOTATION_VALUE} bytes once serialised)")
        return None
    return text


def _timestamp(value: Any, errors: list[str]) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors.append("'payload.timestamp' is invalid (expected ISO 8601)")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def trigger_alert(
    dedup_key: str, payload: dict[str, Any], event: dict[str, Any], errors: list[str]
) -> IncomingAlert | None:
    """The alert a v2 trigger describes (``None`` with ``errors`` filled when invalid)."""
    summary = _required(payload, "summary", "payload.summary", errors, MAX_SUMMARY)
    source = _required(payload, "source", "payload.source", errors, MAX_LABEL_VALUE)
    severity = payload.get("severity")
    if severity not in SEVERITIES:
        errors.append(f"'payload.severity' is invalid (must be one of {', '.join(SEVERITIES)})")
    labels = {"dedup_key": dedup_key, "source": source, "severity": str(severity)}
    for key in ("component", "group", "class"):
        value = _text(payload, key, f"payload.{key}", errors, MAX_LABEL_VALUE)
        if value is not None:
            labels[key] = value
    annotations = {"summary": summary}
    for key, where, value in (
        ("custom_details", "payload.custom_details", payload.get("custom_details")),
        ("links", "links", event.get("links")),
        ("images", "images", event.get("images")),
    ):
        text = _json_annotation(value, where, errors)
        if text is not None:
            annotations[key] = text
    client = _text(event, "client", "client", errors, MAX_LABEL_VALUE)
    if client:
        annotations["client"] = client
    starts_at = _timestamp(payload.get("timestamp"), errors)
    if errors:
        return None
    return IncomingAlert(
        labels=labels,
        annotations=annotations,
        severity=str(severity),  # parsed by the validator
        starts_at=starts_at,
        ends_at=OPEN_UNTIL_RESOLVED,
        generator_url=_text(event, "client_url", "client_url", errors, 2048),
        source="pagerduty",
    )


V1_NAMES = {
    "routing_key": "service_key",
    "event_action": "event_type",
    "dedup_key": "incident_key",
    "payload.summary": "description",
    "payload.custom_details": "details",
    "routing key": "service key",
}
"""Events API v1 field names for the v2 ones, to word v1 refusals in v1's terms."""


def v2_from_v1(event: dict[str, Any]) -> dict[str, Any]:
    """An Events API v1 event in v2's shape (v1 has no severity: its events page, so
    they are critical)."""
    return {
        "routing_key": event.get("service_key"),
        "event_action": event.get("event_type"),
        "dedup_key": event.get("incident_key"),
        "payload": {
            "summary": event.get("description"),
            "source": event.get("client") or "pagerduty-events-v1",
            "severity": "critical",
            "custom_details": event.get("details"),
        },
        "client": event.get("client"),
        "client_url": event.get("client_url"),
    }


async def _event_body(request: Request) -> dict[str, Any]:
    try:
        data = await read_json_body(request)
    except ApiError as exc:
        raise EventInvalid([exc.message]) from None
    if not isinstance(data, dict):
        raise EventInvalid(["event must be a JSON object"])
    return data


async def _process(request: Request, event: dict[str, Any]) -> tuple[Principal, str, str, Any]:
    """Validate a v2 event, find its tenant by routing key; return (the integration
    key's principal, action, dedup_key, alert-or-None). ``EventInvalid`` lists every
    reason to refuse it."""
    errors: list[str] = []
    routing_key = _required(event, "routing_key", "routing_key", errors, 64)
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append(f"'event_action' is invalid (must be one of {', '.join(ACTIONS)})")
    dedup_key = _text(event, "dedup_key", "dedup_key", errors, MAX_DEDUP_KEY)
    if dedup_key is None and action in ("acknowledge", "resolve"):
        errors.append("'dedup_key' is missing or blank")
    dedup_key = dedup_key or uuid.uuid4().hex
    alert = None
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or blank")
        else:
            alert = trigger_alert(dedup_key, payload, event, errors)
    if errors:
        raise EventInvalid(errors)
    ingress = ingress_of(request)
    principal = await ingress.principal_for_key(ingress.integrations, routing_key)
    if principal is None:
        raise EventInvalid(["Invalid routing key"])
    ingress.admit(principal.tenant)  # PagerDuty answers a sender over its rate with 429 too
    return principal, str(action), dedup_key, alert


async def _apply(request: Request, principal: Principal, action: str, key: str, alert: Any) -> None:
    ingress, tenant = ingress_of(request), principal.tenant
    if action == "trigger":
        await ingress.ingest(tenant, [alert])
        return
    # Recorded as the integration key that sent it (its label, or its id).
    by = f"pagerduty:{principal.actor}"
    await ingress.tenant(tenant).act_on_dedup_key(key, Action(action), by)
    await ingress.audit(tenant, by, AuditAction(action), f"dedup_key {key}")


@router.post(V2_PATH, status_code=202, openapi_extra=json_body(EnqueueEvent))
async def enqueue(request: Request) -> JSONResponse:
    """Events API v2: trigger, acknowledge or resolve the alert ``dedup_key`` names."""
    try:
        principal, action, dedup_key, alert = await _process(request, await _event_body(request))
    except EventInvalid as exc:
        return invalid_event(exc.errors)
    await _apply(request, principal, action, dedup_key, alert)
    body = {"status": "success", "message": "Event processed", "dedup_key": dedup_key}
    return JSONResponse(body, status_code=202)


@router.post(V1_PATH, status_code=200, openapi_extra=json_body(CreateEventV1))
async def create_event(request: Request) -> JSONResponse:
    """Events API v1 (old senders): ``service_key``, ``event_type``, ``incident_key``."""
    try:
        event = v2_from_v1(await _event_body(request))
        principal, action, key, alert = await _process(request, event)
    except EventInvalid as exc:
        errors = exc.errors
        for v2_name, v1_name in V1_NAMES.items():
            errors = [e.replace(v2_name, v1_name) for e in errors]
        return invalid_event(errors)
    await _apply(request, principal, action, key, alert)
    return JSONResponse({"status": "success", "message": "Event processed", "incident_key": key})
