"""Shared test settings: every test run sees the same environment, whatever the shell has."""

import os

# Tests build their own settings; a developer's REDIS_URL or RAY_ADDRESS must not leak in.
for name in ("REDIS_URL", "RAY_ADDRESS"):
    os.environ.pop(name, None)

from cluster.ray_access import close_local_ray  # noqa: E402

# Every Ray the tests start listens on loopback and requires a token, as `vigil up`'s
# does; Ray reads that when it is imported, so this comes first.
close_local_ray()

from cluster.runtime import apply_lean_env  # noqa: E402

apply_lean_env()  # the same Ray tuning as `vigil up`, before any Ray process starts

# The running system (Redis, Ray, the Serve app) shared by integration and acceptance tests.
pytest_plugins = ["tests.system"]
