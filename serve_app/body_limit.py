"""ASGI middleware that refuses request bodies over a size limit before anything parses them.

A declared ``Content-Length`` over the limit is refused at once; a body sent without
one (chunked) is counted as it streams in and refused as soon as it crosses the limit.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve_app.problems import ApiError


class BodyTooLarge(ApiError):
    """The request body is larger than the endpoint accepts (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, "body_too_large", f"request body exceeds the limit of {limit} bytes")


class BodyLimitMiddleware:
    """Enforce ``limit_for(path)`` bytes on every HTTP request body."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _send(ApiError(400, "bad_request", "invalid Content-Length"), scope, send)
                return
            if int(declared) > limit:
                await _send(BodyTooLarge(limit), scope, send)
                return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)


async def _send(problem: ApiError, scope: Scope, send: Send) -> None:
    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    await problem.response()(scope, nothing, send)
