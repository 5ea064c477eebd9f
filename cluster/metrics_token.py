"""The token Prometheus presents to ``GET /metrics``.

``/metrics`` names every tenant and its volumes, so it is served neither to anyone
who asks nor to a tenant's key: only to a Bearer token of its own,
``VIGIL_METRICS_TOKEN``, or else the one in ``<data dir>/metrics-token`` (0600, made
once), which Prometheus reads with ``authorization: {credentials_file: ...}``.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from cluster.secret_file import ensure_secret_file
from cluster.settings import Settings

METRICS_TOKEN_FILE = "metrics-token"


def metrics_token_path(settings: Settings) -> Path:
    """Where the generated token is kept (used when ``VIGIL_METRICS_TOKEN`` is unset)."""
    return settings.data_dir / METRICS_TOKEN_FILE


def metrics_token(settings: Settings) -> str:
    """The token: ``VIGIL_METRICS_TOKEN``, else the data dir's file (made on first use)."""
    if settings.metrics_token is not None:
        return settings.metrics_token.get_secret_value()
    return ensure_secret_file(metrics_token_path(settings), 24)


def token_matches(expected: str, authorization: str | None) -> bool:
    """Whether an ``Authorization`` header carries the token (in constant time)."""
    if authorization is None:
        return False
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())
