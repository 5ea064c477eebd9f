"""The live incident stream: server-sent events of a tenant's incident changes.

    GET /api/v1/incidents/updates?after=<position>

Each change of the tenant's incidents arrives as one event:

    event: incidents
    id: <feed position>
    data: {"position": ..., "incidents": [<summary>, ...], "removed": [...], "gap": false}

The first event (``ready``) carries the position the stream starts from. A client that
reconnects passes the last position it saw as ``after`` (or ``Last-Event-ID``) and
misses nothing the feed still holds; ``gap: true`` says it fell too far behind and
should reload its list. A comment line every ``KEEPALIVE_SECONDS`` keeps proxies from
closing a quiet stream.

A stream ends after ``STREAM_SECONDS``: the client reconnects with its position, and
its key is checked again, so a revoked key stops seeing changes within minutes. The
console reads it with ``fetch`` (an ``EventSource`` cannot send the key in a header,
and the key never goes in a URL).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from cluster.incident_feed import IncidentChanges, check_position
from serve_app.incidents_api import incident_summary
from serve_app.wire import ingress_of

router = APIRouter(prefix="/api/v1", tags=["incidents"])

KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0


def changes_json(changes: IncidentChanges) -> dict[str, Any]:
    """One batch of incident changes as the stream (and GraphQL) show it."""
    return {
        "position": changes.position,
        "incidents": [incident_summary(i) for i in changes.incidents],
        "removed": list(changes.removed),
        "gap": changes.gap,
    }


def sse(event: str, data: dict[str, Any], event_id: str | None = None) -> str:
    """One server-sent event (the data is one JSON line)."""
    head = f"event: {event}\n" + (f"id: {event_id}\n" if event_id else "")
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get("/incidents/updates")
async def incident_updates(request: Request, after: str | None = None) -> StreamingResponse:
    """The tenant's incident changes as server-sent events, from ``after`` (or the
    ``Last-Event-ID`` header; neither: from now on)."""
    ingress = ingress_of(request)
    principal = await ingress.principal(request)
    operations = ingress.operations(principal)
    start = after or request.headers.get("last-event-id") or None
    if start is not None:
        position = check_position(start)  # refused here, as a 4xx, not inside the stream
    else:
        position = (await operations.incident_updates(None)).position
    poll = ingress.settings.live_poll_seconds

    async def events() -> AsyncIterator[str]:
        yield sse("ready", {"position": position}, position)
        ends = time.monotonic() + STREAM_SECONDS
        watch = operations.watch(position, poll, idle_seconds=KEEPALIVE_SECONDS)
        async for changes in watch:
            if await request.is_disconnected() or time.monotonic() > ends:
                break
            if changes.incidents or changes.removed or changes.gap:
                yield sse("incidents", changes_json(changes), changes.position)
            else:
                yield ": keep-alive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
