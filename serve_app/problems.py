"""HTTP error answers: one JSON shape for every refusal, and what each failure maps to.

{"error": "<code>", "message": "<human text>", "details": [{"field": ..., ...}]}
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from actors.actor_call import ActorCallError, ActorFailed
from alerting.errors import (
    InvalidSilence,
    InvalidTransition,
    NotFound,
    QuotaExceeded,
    VigilError,
)


class ApiError(Exception):
    """A request refused with an HTTP status, a stable code and a clear message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def unavailable(message: str) -> ApiError:
    """A 503 for a dependency that is down; ``Retry-After`` tells clients when to try again."""
    return ApiError(503, "unavailable", message, headers={"Retry-After": "1"})


def refusal(exc: VigilError | ActorCallError) -> ApiError:
    """The HTTP answer for what an actor call raised: a domain refusal (404, 409, 400),
    an outage (503, nothing changed), or a bug (500)."""
    if isinstance(exc, NotFound):
        return ApiError(404, exc.code, f"{exc.what} not found")
    if isinstance(exc, InvalidTransition):
        return ApiError(409, exc.code, exc.message)
    if isinstance(exc, InvalidSilence):
        return ApiError(400, exc.code, exc.message)
    if isinstance(exc, QuotaExceeded):
        # Not a rate: waiting alone does not help, resolving or expiring something does.
        return ApiError(429, exc.code, exc.message, headers={"Retry-After": "60"})
    if isinstance(exc, ActorFailed):
        return ApiError(500, "internal_error", exc.message)
    if isinstance(exc, ActorCallError):
        return unavailable(exc.message)
    return ApiError(400, exc.code, exc.message)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("alerts", 3, "labels")`` → ``"alerts[3].labels"``; the body itself is ``"(body)"``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(body)"


def validation_problem(exc: ValidationError, items_field: str | None = None) -> ApiError:
    """A 422 naming each bad field; with ``items_field``, each bad item's index too."""
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(err["loc"])
        detail: dict[str, Any] = {"field": field_path(loc), "message": err["msg"]}
        if items_field and len(loc) >= 2 and loc[0] == items_field and isinstance(loc[1], int):
            detail["index"] = loc[1]
        details.append(detail)
    indexes = sorted({d["index"] for d in details if "index" in d})
    message = "request body does not match the schema"
    if indexes:
        message = f"{len(indexes)} invalid item(s) at index {', '.join(map(str, indexes[:20]))}"
        message += "; nothing was stored"
    return ApiError(422, "invalid_request", message, details)


Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], data: Any, items_field: str | None = None) -> Model:
    """``data`` as ``model``, or the 422 problem naming each field that is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(exc, items_field=items_field) from None
