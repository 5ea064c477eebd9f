"""Vigil's Python client: one tenant's alerts and incidents, for code running inside the
Ray cluster (jobs, notebooks, other Serve apps), over Vigil's actor handles.

    import vigil

    client = await vigil.connect("acme")          # joins the local Ray, namespace vigil
    await client.send({"labels": {"alertname": "DiskFull"}, "severity": "critical"})
    async for change in client.watch():           # incident changes as they happen
        ...

Trust model: whoever can connect to Vigil's Ray cluster can do anything in it,
including act as any tenant; the client's tenant scope is a convenience, not a
boundary. Vigil's own Ray requires a token (``<data dir>/ray-auth-token``), and code
without it cannot connect. Tenants that must not trust each other use the HTTP APIs,
where an API key decides the tenant.

This module imports nothing of Ray until ``connect`` is called, so that ``connect`` can
set Ray's token authentication first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vigil.client import VigilClient

__all__ = ["connect"]


async def connect(
    tenant: str, address: str | None = None, token_file: str | Path | None = None
) -> VigilClient:
    """A client for ``tenant``, joining the Ray cluster at ``address`` (default: the one
    this process already joined, else ``RAY_ADDRESS``, else the local head).

    ``token_file`` is the Ray token of a Vigil started by ``vigil up`` (default:
    ``ray-auth-token`` in ``VIGIL_DATA_DIR``, ``.vigil``, if it exists). It is read
    before Ray is imported, as Ray requires; so is Vigil's setting that a local Ray
    listens on loopback only. Inside a Ray job or task both are already in force.
    """
    if "ray" not in sys.modules:
        from cluster.ray_access import LOOPBACK_RAY_ENV, RAY_TOKEN_FILE

        if address is None and not os.environ.get("RAY_ADDRESS"):
            os.environ.update(LOOPBACK_RAY_ENV)  # the local head Vigil started
        data_dir = Path(os.environ.get("VIGIL_DATA_DIR", ".vigil"))
        path = Path(token_file) if token_file is not None else data_dir / RAY_TOKEN_FILE
        given = os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
        if path.exists() and not given:
            os.environ["RAY_AUTH_MODE"] = "token"
            os.environ["RAY_AUTH_TOKEN_PATH"] = str(path.resolve())
    from vigil.client import VigilClient

    return await VigilClient.connect(tenant, address)
