"""Keep Ray Serve's replica-to-replica gRPC server on loopback when Ray is.

Every Serve replica starts a gRPC server for calls between deployments, and Ray 2.60
binds it to ``[::]:0`` (every interface) whatever the node's address. On a cluster
that is needed: replicas on other nodes call it. On one machine (``cluster.ray_access``
put the node on 127.0.0.1) nothing outside the machine should reach it, so this
rebinds it to 127.0.0.1. Serve offers no setting for it; this wraps the one function
the replica calls, and ``tests/integration/test_cli_lifecycle.py`` checks with the
machine's own socket table that nothing of Vigil listens beyond loopback, so a Ray
upgrade that moves the call fails that test rather than opening the port silently.
"""

from __future__ import annotations

import os
from typing import Any

from cluster.ray_access import LOOPBACK_RAY_ENV

_WILDCARDS = ("[::]", "0.0.0.0", "")


def keep_replica_grpc_on_loopback() -> None:
    """In a replica process on a loopback-only Ray: bind Serve's gRPC server to 127.0.0.1.

    Called when ``serve_app``'s deployment modules are imported, which happens in each
    replica's process before Serve starts that server. Does nothing on a cluster.
    """
    if any(os.environ.get(name) != value for name, value in LOOPBACK_RAY_ENV.items()):
        return
    from ray.serve._private import replica

    original = getattr(replica, "add_port_to_grpc_server")  # noqa: B009 (not exported)
    if getattr(original, "vigil_loopback", False):
        return

    def on_loopback(server: Any, address: str) -> Any:
        host, _, port = address.rpartition(":")
        return original(server, f"127.0.0.1:{port}" if host in _WILDCARDS else address)

    on_loopback.vigil_loopback = True  # type: ignore[attr-defined]
    setattr(replica, "add_port_to_grpc_server", on_loopback)  # noqa: B010
