"""Small helpers every HTTP API shares: the serving replica, reading a JSON body, reading
and writing timestamps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, TypeAdapter

from serve_app.problems import ApiError, validated
from serve_app.replica import Replica

GO_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
"""What Go clients (Prometheus, Alertmanager, amtool) send for a time they leave unset."""


def ingress_of(request: Request) -> Replica:
    """The serving replica (``Ingress``), which owns the actors, keys and config.

    The compatible APIs are plain routes (not methods of the replica class), so they
    reach it through ``app.state``.
    """
    replica: Replica = request.app.state.ingress
    return replica


def go_time(value: datetime | None) -> datetime | None:
    """A timestamp from a Go client, ``None`` when unset (absent or Go's zero time)."""
    return None if value is None or value == GO_ZERO_TIME else value


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
"""The body types a web page may send to another site without asking it first (CORS
"simple" requests): a request of one of them may come from any page a user has open."""


def media_type(request: Request) -> str:
    """The request's media type, lower case, without parameters ("" if none)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def require_json(request: Request) -> None:
    """415 unless the body is declared JSON (``application/json`` or ``…+json``).

    Besides saying what the API reads, this closes cross-site forms: a page cannot
    send ``application/json`` to another origin without a CORS preflight, which Vigil
    never grants.
    """
    declared = media_type(request)
    if declared != "application/json" and not declared.endswith("+json"):
        shown = declared or "none"
        raise ApiError(
            415, "unsupported_media_type", f"send Content-Type: application/json (got {shown})"
        )


def refuse_form_posts(request: Request) -> None:
    """415 for a bodiless change sent as a form: what a cross-site page could send."""
    if media_type(request) in FORM_TYPES:
        raise ApiError(415, "unsupported_media_type", "send no body, or an application/json one")


async def read_json_body(request: Request) -> Any:
    """The request body as JSON (415 unless declared JSON; 400 if empty or not JSON)."""
    body = await request.body()
    if not body:
        refuse_form_posts(request)
        raise ApiError(400, "malformed_json", "request body is empty; expected JSON")
    require_json(request)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "malformed_json", f"request body is not valid JSON: {exc}") from None
    except RecursionError:  # [[[[… deeper than the parser recurses: no API nests so deep
        raise ApiError(400, "malformed_json", "request body is nested too deeply") from None


Model = TypeVar("Model", bound=BaseModel)


async def read_model(request: Request, model: type[Model]) -> Model:
    """The request body as ``model`` (400 if it is not JSON, 422 if it does not fit)."""
    return validated(model, await read_json_body(request))


def iso(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and ``Z``, as Alertmanager writes times."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_body(model: Any, required: bool = True) -> dict[str, Any]:
    """OpenAPI text for a body the handler parses itself (to answer 400 vs 422 precisely).

    ``model`` is a pydantic model or any type pydantic can describe (``list[Model]``).
    """
    if isinstance(model, type) and issubclass(model, BaseModel):
        schema = model.model_json_schema()
    else:
        schema = TypeAdapter(model).json_schema()
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": schema}},
        }
    }
