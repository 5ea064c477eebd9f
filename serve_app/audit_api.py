"""The audit API: a tenant's own audit trail, and whether it is intact.

    GET /api/v1/audit?after=SEQ&limit=N   entries after sequence number SEQ (default 0),
                                          oldest first, with the next page's ``after``
    GET /api/v1/audit/verify              every seal, the chain and the head checked

Each entry names who made a change (the API key's label, ``slack:<user>``, ``link``,
or the operator's command), what it was and what the client said of it. Entries are
sealed (``alerting/audit.py``): an edit or a deletion in Redis shows in ``verify``.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from alerting.audit import Verdict
from serve_app.query_params import bad_param, limit_param
from serve_app.wire import ingress_of

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def _head(head: tuple[int, str] | None) -> dict[str, object] | None:
    return None if head is None else {"seq": head[0], "seal": head[1]}


@router.get("")
async def audit_entries(request: Request, after: int = 0, limit: int = 100) -> JSONResponse:
    """A page of the tenant's audit entries, oldest first."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    if after < 0:
        raise bad_param("after", "after must be a sequence number, 0 or more")
    count = limit_param(limit)
    trail = ingress.audit_trail
    # Entry n (from 1) is at index n - 1: the trail is append-only.
    entries = await asyncio.to_thread(trail.entries, tenant, after, count)
    items = [e.to_record() for e in entries]
    following = items[-1]["seq"] if len(items) == count else None
    return JSONResponse({"items": items, "next_after": following})


@router.get("/verify")
async def audit_verify(request: Request) -> JSONResponse:
    """Check the tenant's trail: ``intact``, how many entries held, the first problem."""
    ingress = ingress_of(request)
    tenant = await ingress.authenticate(request)
    verdict: Verdict = await asyncio.to_thread(ingress.audit_trail.verify, tenant)
    body = {
        "intact": verdict.intact,
        "checked": verdict.checked,
        "problem": verdict.problem,
        "head": _head(verdict.head),
    }
    return JSONResponse(body, status_code=200)
