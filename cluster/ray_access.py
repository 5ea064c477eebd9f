"""Who can reach the Ray that Vigil starts on one machine: this machine's user only.

Ray's defaults are open: ``ray start --head`` listens on every interface, and whoever
reaches its GCS or a raylet can run code in the cluster. For a Ray that Vigil starts
itself (``vigil up`` without ``RAY_ADDRESS``, the tests, the benchmarks), two of Ray's
own settings close it:

- ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``: Ray's switch for a cluster of one machine
  (its name says Windows and macOS because those default to it). The node's address
  is 127.0.0.1, and then the GCS, the raylet, the agents and the workers listen on
  loopback only (measured with ``ss -ltn``; without it each listens on all interfaces).
- ``RAY_AUTH_MODE=token``: every RPC and dashboard request needs the token, generated
  once into the data dir with mode 0600, so another local user cannot join either.

Ray reads both when it is imported, in this process and in every process it starts,
so ``close_local_ray`` runs before anything imports Ray. This module must not import
Ray itself. A cluster (``RAY_ADDRESS``) is the operator's: ``ray-cluster.yaml`` and
``SECURITY.md`` say how to turn the token on there.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from cluster.secret_file import ensure_secret_file

LOOPBACK_RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
RAY_TOKEN_FILE = "ray-auth-token"
"""The file in the data dir holding the token a local Ray head requires (mode 0600)."""


def close_local_ray(token_dir: Path | None = None, create: bool = True) -> Path:
    """Set loopback-only and token authentication into this process's environment,
    which Ray, its head and its workers inherit; return the token file.

    The token is generated once into ``token_dir/ray-auth-token`` (created 0600; without
    a ``token_dir``, as for the tests and benchmarks, a new temporary directory); an
    operator's own ``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH`` is kept. With
    ``create`` false the file is only named: ``vigil up`` writes it
    (``create_ray_token``) once it knows it will start, so a refused start leaves no
    data dir behind, and ``vigil down`` only reads the token of a head that runs.
    """
    if "ray" in sys.modules:
        raise RuntimeError("close_local_ray must run before Ray is imported (Ray reads it then)")
    os.environ.update(LOOPBACK_RAY_ENV)
    os.environ.setdefault("RAY_AUTH_MODE", "token")
    given = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if given:
        path = Path(given)
    else:
        path = (token_dir or Path(tempfile.mkdtemp(prefix="vigil-ray-"))) / RAY_TOKEN_FILE
    os.environ.setdefault("RAY_AUTH_TOKEN_PATH", str(path.resolve()))
    if create:
        create_ray_token()
    return path


def create_ray_token() -> None:
    """Write the token file ``close_local_ray`` named, unless it exists or the operator
    gave the token itself (``RAY_AUTH_TOKEN``)."""
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path and not os.environ.get("RAY_AUTH_TOKEN"):
        ensure_secret_file(Path(path), 32)


def require_closed_ray() -> None:
    """Refuse to start a local Ray that would listen on every interface without a token."""
    missing = [n for n, v in LOOPBACK_RAY_ENV.items() if os.environ.get(n) != v]
    if os.environ.get("RAY_AUTH_MODE") != "token":
        missing.append("RAY_AUTH_MODE")
    if missing:
        raise RuntimeError(
            f"a local Ray would be open to the network ({', '.join(missing)} unset):"
            " call cluster.ray_access.close_local_ray before importing Ray"
        )
