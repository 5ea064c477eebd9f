"""What each HTTP request did, counted: an ASGI middleware and the request's tally.

The middleware times every request and, once it is answered, counts it by route
template (``/api/v1/incidents/{incident_id}``, never the path itself: ids would make
a series each), method and status. A refused request (4xx, 5xx) is also counted by
its tenant and the error code of its answer, read from the JSON body every refusal
carries (``serve_app/problems.py``), so every refusal is counted wherever it was
made, the body-size middleware's included.

The handlers fill the request's ``RequestTally`` (who the key was, how many alerts
went to the tenant's actor); it lives in a context variable, which the handlers see
because a plain ASGI middleware runs them in the same task.
"""

from __future__ import annotations

import json
import logging
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cluster import tracing
from cluster.logs import log_event
from cluster.metrics import ALERTS_RECEIVED, HTTP_DURATION, HTTP_REQUESTS, REQUESTS_REJECTED

log = logging.getLogger("vigil.ingress")

UNMATCHED = "unmatched"  # no route: one label for every unknown path
# A 503 from a probe is its answer ("not ready yet"), not a refused request.
PROBES = frozenset({"/healthz", "/readyz"})
ERROR_CODE = re.compile(r"[a-z][a-z_]{0,39}")
PEEK_BYTES = 512  # of a refusal's body, enough for its error code


@dataclass
class RequestTally:
    """What one request's handlers tell the middleware."""

    tenant: str = ""  # once the key is known
    received: int = 0  # alerts handed to the tenant's actor


_current: ContextVar[RequestTally | None] = ContextVar("vigil_request_tally", default=None)


def current_tally() -> RequestTally:
    """The tally of the request being handled (a throwaway one outside a request)."""
    return _current.get() or RequestTally()


def refusal_reason(status: int, body: bytes) -> str:
    """The error code of a refusal's body (``{"error": "<code>", ...}``), else
    ``http_<status>``: a small, fixed set of values, never the message."""
    try:
        code = json.loads(body).get("error")
    except (ValueError, AttributeError):
        code = None
    if isinstance(code, str) and ERROR_CODE.fullmatch(code):
        return code
    return f"http_{status}"


def endpoint_of(scope: Scope) -> str:
    """The route template the router matched (``scope["route"]``, once routed), or
    ``unmatched``."""
    return getattr(scope.get("route"), "path", None) or UNMATCHED


def log_refusal(tenant: str, method: str, endpoint: str, status: int, reason: str) -> None:
    """A refused request's line: a warning for Vigil's own failures (5xx), info for a
    known tenant's mistake, debug for what anyone can send in floods (bad keys, rate
    limits, anything refused before the key was known) that would bury both."""
    if status >= 500:
        level = logging.WARNING
    elif status in (401, 429) or not tenant:
        level = logging.DEBUG
    else:
        level = logging.INFO
    message = f"{method} {endpoint} refused {status} {reason}"
    log_event(log, "http.refused", message, level, tenant=tenant or None)


class RequestMetricsMiddleware:
    """Counts and times every HTTP request (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what an exception that escapes the app becomes
        refusal = b""
        tally = RequestTally()
        token = _current.set(tally)

        async def watched(message: Message) -> None:
            nonlocal status, refusal
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif (
                message["type"] == "http.response.body"
                and status >= 400
                and len(refusal) < PEEK_BYTES
            ):
                refusal += bytes(message.get("body", b""))[:PEEK_BYTES]
            await send(message)

        method = scope.get("method", "")
        try:
            if tracing.enabled():
                headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
                with tracing.server_span(method, headers) as span:
                    await self.app(scope, receive, watched)
                    if span is not None:
                        route = endpoint_of(scope)
                        span.update_name(f"{method} {route}")
                        span.set_attribute("http.route", route)
                        span.set_attribute("http.response.status_code", status)
                        span.set_attribute("vigil.tenant", tally.tenant)
            else:
                await self.app(scope, receive, watched)
        finally:
            _current.reset(token)
            endpoint = endpoint_of(scope)
            HTTP_DURATION.labels(endpoint).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(endpoint, method, str(status)).inc()
            if tally.received:
                ALERTS_RECEIVED.labels(tally.tenant, endpoint).inc(tally.received)
            if status >= 400 and endpoint not in PROBES:
                reason = refusal_reason(status, refusal)
                REQUESTS_REJECTED.labels(tally.tenant, endpoint, reason).inc()
                log_refusal(tally.tenant, method, endpoint, status, reason)
