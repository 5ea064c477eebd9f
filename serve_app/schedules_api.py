"""The on-call API: a tenant's schedules and who is on call for one of them.

    GET /api/v1/schedules                       the schedules, their zones and layers
    GET /api/v1/schedules/{id}/oncall?at=...    who is on call at ``at`` (RFC 3339
                                                with a zone; default: now), from which
                                                layer or override, and until when

Schedules are the tenant's ``schedules:`` section in ``vigil.yaml``; another tenant's
schedule is not found, as if it did not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from alerting.oncall import on_call
from serve_app.problems import ApiError
from serve_app.query_params import bad_param
from serve_app.wire import ingress_of, iso

router = APIRouter(prefix="/api/v1", tags=["schedules"])
MAX_TIME_CHARS = 64


def time_param(name: str, value: str | None) -> datetime:
    """An RFC 3339 time with a zone from a URL parameter (now when absent)."""
    if value is None:
        return datetime.now(UTC)
    if len(value) > MAX_TIME_CHARS:
        raise bad_param(name, f"{name} is longer than {MAX_TIME_CHARS} characters")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise bad_param(
            name, f"{name} must be an RFC 3339 time, e.g. 2026-11-26T09:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise bad_param(name, f"{name} needs a time zone (Z or +01:00)")
    return parsed


@router.get("/schedules")
async def list_schedules(request: Request) -> JSONResponse:
    """The tenant's schedules with their time zones and layers."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    items = []
    for name in sorted(ingress.config.schedule_names(tenant)):
        schedule = ingress.config.schedule_for(tenant, name)
        assert schedule is not None
        layers = [
            {"name": layer.name, "rotation": layer.rotation.value} for layer in schedule.layers
        ]
        items.append({"id": name, "time_zone": schedule.time_zone, "layers": layers})
    return JSONResponse({"items": items})


@router.get("/schedules/{schedule_id}/oncall")
async def who_is_on_call(schedule_id: str, request: Request, at: str | None = None) -> JSONResponse:
    """Who is on call for one schedule at ``at`` (default now)."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    schedule = ingress.config.schedule_for(tenant, schedule_id)
    if schedule is None:
        raise ApiError(404, "not_found", f"schedule {schedule_id!r} not found")
    when = time_param("at", at)
    found = on_call(schedule, when)
    return JSONResponse(
        {
            "schedule": schedule_id,
            "time_zone": schedule.time_zone,
            "at": iso(when),
            "user": None if found is None else found.user,
            "source": None if found is None else found.source,
            "until": None if found is None or found.until is None else iso(found.until),
        }
    )
