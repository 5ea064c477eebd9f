"""Reading a request's credentials: ``Authorization: Bearer <key>`` or HTTP basic auth.

Basic auth carries the tenant id as the user name and the API key as the password,
which is what Prometheus's ``alertmanagers`` config, Alertmanager's ``http_config``
and amtool's ``--http.config.file`` can all send. Either way the key decides the
tenant; with basic auth the user name must also name that tenant.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from fastapi import Request

from serve_app.problems import ApiError

CHALLENGE = 'Bearer realm="vigil"'
"""What a 401 advertises: Bearer only. Basic auth is still accepted (Prometheus, amtool
and Alertmanager send it without being asked), but never offered: a browser that was
never challenged for Basic never prompts for it and never caches it, so no other web
page can ride a cached login to post a silence or resolve an incident."""


@dataclass(frozen=True)
class Credentials:
    """An API key, and the tenant the client claims (basic auth only)."""

    key: str
    claimed_tenant: str | None = None


def unauthenticated(message: str) -> ApiError:
    """A 401 that tells the client which schemes are accepted."""
    return ApiError(401, "unauthenticated", message, headers={"WWW-Authenticate": CHALLENGE})


def credentials(request: Request) -> Credentials:
    """The credentials a request carries (401 if none, or if they do not parse)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value:
        return Credentials(value)
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise unauthenticated("malformed basic credentials") from None
        user, sep, password = decoded.partition(":")
        if not sep or not password:
            raise unauthenticated("basic auth needs user = tenant id and password = API key")
        return Credentials(password, user)
    raise unauthenticated(
        "missing credentials: send 'Authorization: Bearer <key>' or basic auth "
        "(user = tenant id, password = key)"
    )
