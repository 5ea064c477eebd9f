"""Reaching the actors of a running Vigil from a command (``tenant delete``,
``person erase``), or learning that none runs."""

from __future__ import annotations

from cluster.settings import Settings


def running_vigil(settings: Settings) -> bool:
    """Whether a Vigil runs on the Ray this command can reach (``RAY_ADDRESS``, or the
    local head); if so, this process is connected to it in Vigil's namespace."""
    import ray

    from cluster import runtime

    if not ray.is_initialized():
        if settings.ray_address is None and not runtime.local_ray_running():
            return False
        runtime.connect(settings.ray_address)
    try:
        ray.get_actor(runtime.correlator_name(0), namespace=runtime.NAMESPACE)
    except ValueError:
        return False  # a Ray without Vigil deployed on it
    return True
