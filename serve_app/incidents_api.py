"""The incident API: incidents with their members and timelines, actions, noise figures.

    GET  /api/v1/incidents                      filters: state, severity, receiver,
                                                filter (label matchers), limit, cursor
    GET  /api/v1/incidents/{id}                 members (with suppression), timeline and
                                                escalation (level, next step, who was paged)
    POST /api/v1/incidents/{id}/acknowledge     acknowledges its firing alerts too
    POST /api/v1/incidents/{id}/resolve         resolves its open alerts too
    PUT  /api/v1/incidents/{id}/escalate        the next escalation level, now
    POST /api/v1/incidents/{id}/feedback        {"verdict": "actionable"|"noise"}: the
                                                incident's training label
    GET  /api/v1/noise                          the tenant's noise figures

Incidents are formed by the correlator a few milliseconds after the alerts are
stored, so a listing read right after an ingest may not show them yet.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from alerting.escalation import EscalationState
from alerting.incident import Incident, Member, member_to_record
from alerting.lifecycle import Action
from alerting.query import DEFAULT_PAGE_SIZE
from alerting.timeutil import from_epoch
from cluster.escalation_store import EscalationStore
from cluster.incident_store import timeline_dropped
from serve_app.action_body import ACTION_BODY, read_action
from serve_app.query_params import incident_query
from serve_app.wire import ingress_of, iso, json_body, read_model

PREFIX = "/api/v1"
router = APIRouter(prefix=PREFIX, tags=["incidents"])


def _time(value: Any) -> str | None:
    return None if value is None else iso(value)


MEMBER_TIMES = ("joined_at", "received_at", "starts_at", "updated_at", "held_until")


def member_json(member: Member) -> dict[str, Any]:
    """One member as the API shows it: its stored record with RFC 3339 times, a held
    (flapping) member shown firing, and whether it is suppressed."""
    record = member_to_record(member)
    for name in MEMBER_TIMES:
        record[name] = None if record[name] is None else iso(from_epoch(record[name]))
    if member.held_until is not None:
        record["status"] = "firing"
    record["suppressed"] = member.suppressed
    return record


def incident_summary(incident: Incident) -> dict[str, Any]:
    """An incident without its members' details: for listings."""
    members = incident.members.values()
    return {
        "id": incident.id,
        "state": incident.state.value,
        "severity": incident.severity.value,
        "route": incident.route,
        "receiver": incident.receiver,
        "group_key": incident.group_key,
        "group_labels": incident.group_labels,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        "acknowledged_at": _time(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": _time(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "alerts": len(incident.members),
        "firing": sum(1 for m in members if m.is_open),
        "suppressed": sum(1 for m in members if m.suppressed and m.is_open),
        # Every open alert silenced or inhibited: nothing is sent, the escalation waits.
        "muted": incident.muted_at is not None,
        "muted_since": _time(incident.muted_at),
        "muted_by": incident.muted_by() if incident.muted_at is not None else [],
        "flapping": sum(1 for m in members if m.flapping),
        "last_notified_at": _time(incident.last_notified.at if incident.last_notified else None),
        "risk": None if incident.risk is None else round(incident.risk.value, 4),
        "risk_model": None if incident.risk is None else incident.risk.model,
        "risk_scored_at": None if incident.risk is None else iso(incident.risk.at),
        # Why the risk is only provisional (models/trust.py); None: it has earned trust.
        "risk_provisional": None if incident.risk is None else incident.risk.provisional,
        "risk_paged": list(incident.risk_paged),
        "feedback": incident.feedback,
        "feedback_by": incident.feedback_by,
    }


def escalation_json(
    state: EscalationState | None, people: dict[int, list[str]] | None = None
) -> dict[str, Any] | None:
    """Where an incident's escalation stands: its policy, the highest level paged, what
    is due next and when (``None``: the incident has no escalation)."""
    if state is None:
        return None
    found: dict[str, Any] = {
        "policy": state.policy,
        "level": max(state.notified_levels, default=0),
        "levels_paged": list(state.notified_levels),
        "next_due": _time(state.next_due),
        "acknowledge_due": _time(state.acknowledge_due),
        "resolve_due": _time(state.resolve_due),
        "paused": state.paused_at is not None,
        "active": state.is_active,
    }
    if people is not None:  # who on-call targets paged, by level
        found["people"] = {str(level): users for level, users in sorted(people.items())}
    return found


async def with_escalations(
    redis: Any, tenant: str, summaries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The summaries with each incident's ``escalation`` (one Redis read for all)."""
    states = await EscalationStore(redis, tenant).get_many([s["id"] for s in summaries])
    return [{**s, "escalation": escalation_json(states.get(s["id"]))} for s in summaries]


async def escalation_of(redis: Any, tenant: str, incident_id: str) -> dict[str, Any] | None:
    """One incident's escalation, with who on-call targets paged at each level."""
    store = EscalationStore(redis, tenant)
    state, people = await asyncio.gather(store.get(incident_id), store.people(incident_id))
    return escalation_json(state, people)


def incident_detail(incident: Incident, timeline: list[dict[str, Any]]) -> dict[str, Any]:
    """An incident with every member and its timeline (times as RFC 3339)."""
    return {
        **incident_summary(incident),
        "members": [member_json(m) for m in incident.members.values()],
        "timeline": [{**e, "at": iso(from_epoch(e["at"]))} for e in timeline],
    }


@router.get("/incidents")
async def list_incidents(
    request: Request,
    state: Annotated[list[str] | None, Query()] = None,
    severity: Annotated[list[str] | None, Query()] = None,
    receiver: Annotated[list[str] | None, Query()] = None,
    filter: Annotated[list[str] | None, Query()] = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> JSONResponse:
    """A page of incidents, newest first; ``filter`` selects those with a matching member."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    query = incident_query(state or [], severity or [], receiver or [], filter or [], limit, cursor)
    page = await ingress.correlator(tenant).list_incidents(query)
    items = [incident_summary(i) for i in page.items]
    return JSONResponse(
        {
            "items": await with_escalations(ingress.redis, tenant, items),
            "total": page.total,
            "next_cursor": page.next_cursor,
        }
    )


@router.get("/incidents/{incident_id}")
async def get_incident(incident_id: str, request: Request) -> JSONResponse:
    """One incident: its members (with why each joined and what mutes it) and timeline."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    incident, timeline = await ingress.correlator(tenant).get_incident(incident_id)
    detail = incident_detail(incident, timeline)
    detail["escalation"] = await escalation_of(ingress.redis, tenant, incident_id)
    # The tier keeps the newest timeline entries; say how many older ones it dropped.
    detail["timeline_dropped"] = await timeline_dropped(ingress.redis, tenant, incident_id)
    return JSONResponse(detail)


async def _act(request: Request, incident_id: str, action: Action) -> JSONResponse:
    ingress = ingress_of(request)
    principal = await ingress.principal(request)
    body = await read_action(request)
    operations = ingress.operations(principal)
    incident = await operations.act_on_incident(action, incident_id, body.by, body.reason)
    return JSONResponse(incident_summary(incident))


@router.post("/incidents/{incident_id}/acknowledge", openapi_extra=ACTION_BODY)
async def acknowledge_incident(incident_id: str, request: Request) -> JSONResponse:
    """Acknowledge an incident and its firing alerts (idempotent; 409 if resolved)."""
    return await _act(request, incident_id, Action.ACKNOWLEDGE)


@router.post("/incidents/{incident_id}/resolve", openapi_extra=ACTION_BODY)
async def resolve_incident(incident_id: str, request: Request) -> JSONResponse:
    """Resolve an incident and its open alerts by hand (idempotent)."""
    return await _act(request, incident_id, Action.RESOLVE)


class FeedbackRequest(BaseModel):
    """``POST /api/v1/incidents/{id}/feedback``: was the incident worth someone's time?"""

    model_config = ConfigDict(extra="forbid")

    verdict: Literal["actionable", "noise"]
    by: str | None = Field(default=None, max_length=256)


@router.put("/incidents/{incident_id}/escalate", openapi_extra=ACTION_BODY)
async def escalate_incident(incident_id: str, request: Request) -> JSONResponse:
    """Notify the incident's next escalation level now (409 when there is none)."""
    ingress = ingress_of(request)
    principal = await ingress.principal(request)
    body = await read_action(request)
    operations = ingress.operations(principal)
    level = await operations.escalate_incident(incident_id, body.by, body.reason)
    return JSONResponse({"id": incident_id, "escalated_to_level": level})


@router.post("/incidents/{incident_id}/feedback", openapi_extra=json_body(FeedbackRequest))
async def incident_feedback(incident_id: str, request: Request) -> JSONResponse:
    """Say whether an incident was actionable or noise (open or resolved; the latest
    verdict counts). It becomes the incident's label for the next training."""
    ingress = ingress_of(request)
    principal = await ingress.principal(request)
    body = await read_model(request, FeedbackRequest)
    operations = ingress.operations(principal)
    incident = await operations.give_feedback(incident_id, body.verdict, body.by)
    return JSONResponse(incident_summary(incident))


@router.get("/noise")
async def noise(request: Request) -> JSONResponse:
    """The tenant's noise figures: received, duplicates, alerts per incident, suppressed,
    flapping held, notifications."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    return JSONResponse(await ingress.correlator(tenant).noise())
