"""Receiving an Alertmanager's notifications: its ``webhook_configs`` pointed at Vigil.

``POST /api/v1/integrations/alertmanager`` takes webhook payload version "4". Every
alert keeps its labels, so its fingerprint is the one Alertmanager computed (checked:
a payload whose fingerprint disagrees with its labels is refused); ``status:
resolved`` resolves it. Alertmanager re-sends firing alerts only every
``repeat_interval`` (4 h by default), so a firing alert from a webhook stays open for
``VIGIL_WEBHOOK_RESOLVE_TIMEOUT`` (25 h) unless a resolved notification comes first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerting.alert import IncomingAlert, ReportedStatus
from serve_app.batch_fingerprint import fingerprints
from serve_app.problems import ApiError, validated, validation_problem
from serve_app.wire import go_time, ingress_of, json_body, read_json_body

PATH = "/api/v1/integrations/alertmanager"

router = APIRouter(tags=["integrations"])


class WebhookAlert(BaseModel):
    """One alert of a webhook notification."""

    model_config = ConfigDict(extra="ignore")

    status: ReportedStatus
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str | None = None


class WebhookMessage(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    status: ReportedStatus
    receiver: str = ""
    groupKey: str = ""
    truncatedAlerts: int = 0
    alerts: list[WebhookAlert] = Field(min_length=1)


def to_incoming(
    alert: WebhookAlert, index: int, open_for: timedelta, computed: str
) -> IncomingAlert:
    """Normalise one notified alert (422 naming it if it does not validate).

    ``computed`` is the fingerprint of its labels; the sender's must equal it, and it
    travels with the alert so nothing hashes the labels again.
    """
    if alert.fingerprint and alert.fingerprint != computed:
        raise ApiError(
            422,
            "fingerprint_mismatch",
            f"alerts[{index}]: fingerprint {alert.fingerprint} does not match its labels "
            f"({computed})",
        )
    starts, ends = go_time(alert.startsAt), go_time(alert.endsAt)
    if alert.status is ReportedStatus.FIRING:
        ends = datetime.now(UTC) + open_for
    try:
        incoming = IncomingAlert.model_validate(
            {
                "labels": alert.labels,
                "annotations": alert.annotations,
                "status": alert.status,
                "starts_at": starts,
                "ends_at": ends,
                "generator_url": alert.generatorURL or None,
                "source": "alertmanager",
            }
        )
    except ValidationError as exc:
        raise validation_problem(exc) from None
    return incoming.with_fingerprint(computed)


@router.post(PATH, status_code=200, openapi_extra=json_body(WebhookMessage))
async def alertmanager_webhook(request: Request) -> JSONResponse:
    """Store what an Alertmanager notified: firing alerts open, resolved ones resolve."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    data = await read_json_body(request)
    message = validated(WebhookMessage, data, items_field="alerts")
    open_for = timedelta(seconds=ingress.settings.webhook_resolve_timeout_seconds)
    hashed = fingerprints([a.labels for a in message.alerts])
    alerts = [
        to_incoming(a, i, open_for, fp)
        for i, (a, fp) in enumerate(zip(message.alerts, hashed, strict=True))
    ]
    results = await ingress.ingest(tenant, alerts)
    return JSONResponse({"accepted": len(results), "results": results})
