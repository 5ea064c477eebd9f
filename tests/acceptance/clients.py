"""Running the real clients (Debian's amtool, Prometheus, Alertmanager) against Vigil.

When a client is not installed the test is skipped on a developer's machine, but
fails under ``VIGIL_REQUIRE_REAL_CLIENTS=1`` (set by ``.ci/run``, which installs them),
so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from bench.real_services import find_binary
from tests.system import TENANTS, Vigil


def need(*names: str) -> str:
    """The path of the first installed binary of ``names`` (skip or fail when none is)."""
    found = find_binary(*names)
    if found is None:
        message = f"{names[0]} is not installed (apt-get install it, or run .ci/run)"
        if os.environ.get("VIGIL_REQUIRE_REAL_CLIENTS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def http_config(directory: Path, tenant: str, scheme: str) -> Path:
    """An amtool ``--http.config.file`` authenticating as ``tenant`` (basic or bearer)."""
    if scheme == "basic":
        config = {"basic_auth": {"username": tenant, "password": TENANTS[tenant]}}
    else:
        config = {"authorization": {"type": "Bearer", "credentials": TENANTS[tenant]}}
    path = directory / f"http-{tenant}-{scheme}.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def amtool(
    vigil: Vigil, directory: Path, tenant: str, *args: str, scheme: str = "basic"
) -> subprocess.CompletedProcess[str]:
    """Run ``amtool`` against Vigil as ``tenant``; the completed process is returned."""
    binary = need("amtool")
    command = [
        binary,
        f"--alertmanager.url={vigil.url}",
        f"--http.config.file={http_config(directory, tenant, scheme)}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
