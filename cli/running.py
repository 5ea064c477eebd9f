"""Where the running Vigil is: the state ``vigil up`` records, and plain HTTP calls to
its API (the standard library only, so commands that talk to it start at once)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cluster.settings import Settings

STATE_FILE = "state.json"


def state_path(settings: Settings) -> Path:
    """The file ``vigil up`` records what it started in."""
    return settings.data_dir / STATE_FILE


def read_state(settings: Settings) -> dict[str, Any]:
    """What ``vigil up`` recorded (empty when it is not up)."""
    try:
        data: dict[str, Any] = json.loads(state_path(settings).read_text())
        return data
    except (OSError, ValueError):
        return {}


def api_url(settings: Settings) -> str:
    """The API's URL as the settings place it."""
    return f"http://{settings.http_host}:{settings.http_port}"


def running_api_url(settings: Settings) -> str:
    """Where the API of the running Vigil is: as ``up`` recorded it, else from settings."""
    url: str = read_state(settings).get("api_url", api_url(settings))
    return url


def http(method: str, url: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
    """One JSON request; the status and the decoded answer (an error status too).
    Raises ``OSError`` when nothing answers."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
