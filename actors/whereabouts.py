"""Where an actor runs: its process and its Ray node.

Mixed into Vigil's long-lived actors so that tests, ``bench/chaos.py`` and operators
can find the process to ``kill -9`` or freeze, and the node to take away.
"""

from __future__ import annotations

import os

import ray


class Whereabouts:
    """``process_id()`` and ``node_id()`` as actor methods."""

    async def process_id(self) -> int:
        """The actor's process id."""
        return os.getpid()

    async def node_id(self) -> str:
        """The id of the Ray node the actor runs on (hex)."""
        return str(ray.get_runtime_context().get_node_id())
