"""``vigil up``, ``down`` and ``status``: start Vigil (embedded Redis unless
``REDIS_URL``, a local Ray head unless ``RAY_ADDRESS``, the Serve app), stop exactly
what ``up`` started, and say whether it is up and ready."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import shutil
import signal
import threading
import time
from typing import Any

from actors.notifiers.channels import check_channels
from cli.ml import ensure_starter_model
from cli.parser import DEMO_API_KEY
from cli.running import api_url, http, read_state, running_api_url, state_path
from cluster import runtime
from cluster.config import VigilConfig, hash_api_key, load_config
from cluster.errors import ConfigError
from cluster.haproxy_ingress import haproxy_directory, haproxy_env
from cluster.logs import LOG_DIR
from cluster.metrics_token import metrics_token, metrics_token_path
from cluster.ray_access import create_ray_token
from cluster.redis_server import EmbeddedRedis, listen_error
from cluster.settings import Settings
from models.registry import UnknownModel


def _metrics_token_where(settings: Settings) -> str:
    """Where Prometheus finds the token of ``/metrics`` (made now if it is the file's)."""
    if settings.metrics_token is not None:
        return "VIGIL_METRICS_TOKEN"
    metrics_token(settings)
    return str(metrics_token_path(settings))


def _say(message: str) -> None:
    print(message, flush=True)


def _redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The Redis to use: ``REDIS_URL``, or the embedded server (started if needed)."""
    if settings.redis_url:
        _check_durable(settings)
        return settings.redis_url, None
    embedded = EmbeddedRedis(
        settings.data_dir, settings.embedded_redis_port, settings.redis_maxmemory
    )
    return embedded.start(), embedded


def cmd_up(settings: Settings, detach: bool) -> int:
    """Start everything, print the addresses, and (unless detached) wait for Ctrl-C."""
    # Refuse a bad config before starting anything.
    config = load_config(settings.config_path, settings.max_escalation_levels)
    check_channels(config)
    demo_tenants = tenants_with_demo_key(config)
    if demo_tenants and not is_loopback(settings.http_host):
        raise ConfigError(
            f"tenant(s) {', '.join(demo_tenants)} accept the public demo API key, and"
            f" VIGIL_HTTP_HOST={settings.http_host} would let anyone who reaches it in:"
            " remove the key from the config (vigil tenant create NAME makes a real one)"
        )
    # A head we start serves HTTP on the port: refuse one that is taken now, before
    # anything starts. (Serve's proxy would retry it until `_wait_ready` gave up.)
    new_head = settings.ray_address is None and not runtime.local_ray_running()
    if new_head:
        check_port_free(settings.http_host, settings.http_port)
    haproxy_dir = None
    fallback = None  # why the Python proxy serves HTTP although HAProxy was asked for
    if settings.ingress == "haproxy" and settings.ray_address is None:
        # Read by Ray Serve when it is imported, here and in the head started below.
        haproxy_dir = haproxy_directory()
        try:
            os.environ.update(haproxy_env(haproxy_dir))
        except FileNotFoundError as exc:  # no HAProxy here: Serve's own proxy serves
            shutil.rmtree(haproxy_dir, ignore_errors=True)
            haproxy_dir, fallback = None, str(exc)
    configured = settings
    embedded: EmbeddedRedis | None = None
    ray_head: str | None = None
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.ray_address is None:
            create_ray_token()  # only now: a start refused above leaves nothing behind
        _say(f"data dir      {settings.data_dir}")
        url, embedded = _redis_url(settings)
        settings = settings.model_copy(update={"redis_url": url})
        _say(f"redis         {'embedded, ' if embedded else ''}{_safe_url(url)}")
        if haproxy_dir is not None:
            _say(f"ingress       HAProxy (its files in {haproxy_dir})")
        elif fallback is not None:
            _say(f"ingress       Ray Serve's Python proxy ({fallback})")
        # `vigil` closed the local Ray before importing it (cluster/ray_access.py).
        token_file = os.environ.get("RAY_AUTH_TOKEN_PATH") if settings.ray_address is None else None
        if new_head:
            _say("ray           starting a local head ...")
            ray_head = runtime.start_local_head(ray_metrics=settings.ray_metrics)
    except BaseException:
        # Nothing records these yet (the state file comes next), so `vigil down` would
        # not find them: undo them here. The embedded Redis only with a head of our
        # own: beside a running head, it is that Vigil's.
        if haproxy_dir is not None:
            shutil.rmtree(haproxy_dir, ignore_errors=True)
        if new_head and embedded is not None:
            embedded.stop()
        raise
    # Written before Serve starts: a start that fails from here on is stopped whole,
    # below, or by `vigil down` (the head, Redis, HAProxy's files).
    state = {
        "ray_head": ray_head,  # the mark of the head we started: down stops only that
        "embedded_redis": embedded is not None,
        "api_url": api_url(settings),
        "haproxy_dir": None if haproxy_dir is None else str(haproxy_dir),
    }
    state_path(settings).write_text(json.dumps(state))
    try:
        context, ready = _serve_vigil(settings, config)
    except BaseException:  # Ctrl-C too
        if new_head:
            # Nothing of this start serves anyone yet: stop it whole rather than leave
            # a head, Redis and HAProxy's files behind for `vigil down` to find.
            _say("vigil up      failed: stopping what it started")
            try:
                cmd_down(configured)
            except Exception as exc:  # the failure that brought us here matters more
                _say(f"vigil up      stopping failed ({exc!r}): vigil down stops it")
        else:
            _say("vigil up      failed: the Ray it joined is left running (vigil down stops it)")
        raise
    api = api_url(settings)
    _say(f"console       {api}/console   (sign in with a tenant's API key)")
    _say(f"api           {api}   (OpenAPI docs: {api}/docs)")
    _say(f"graphql       {api}/graphql   (subscriptions over WebSocket; Bearer key)")
    _say(f"alertmanager  {api}/api/v2   (Prometheus, amtool: basic auth tenant:key or Bearer)")
    _say(f"pagerduty     {api}/v2/enqueue   (routing_key = an integration key)")
    _say(f"am webhook    {api}/api/v1/integrations/alertmanager")
    _say(f"incidents     {api}/api/v1/incidents   (noise figures: {api}/api/v1/noise)")
    _say(f"metrics       {api}/metrics   (Bearer token: {_metrics_token_where(settings)})")
    _say(f"logs          {settings.data_dir / LOG_DIR}   (vigil logs [--incident ID] [-f])")
    if settings.otel_endpoint:
        _say(f"traces        OTLP to {settings.otel_endpoint}")
    if context.dashboard_url:
        login = f"   (token: {token_file})" if token_file else ""
        _say(f"ray dashboard http://{context.dashboard_url}{login}")
        if settings.ray_metrics and ray_head is not None:
            _say("ray metrics   on: scrape /tmp/ray/prom_metrics_service_discovery.json")
    _say("python        await vigil.connect(TENANT)   (examples/python_client.py)")
    _say(f"config        {settings.config_path}")
    if demo_tenants:
        _say(f"try it        vigil send   (demo API key: {DEMO_API_KEY})")
        _say(
            f"WARNING       tenant(s) {', '.join(demo_tenants)} accept the public demo key:"
            " anyone on this machine can use them. Remove it before real use."
        )
    else:
        _say("try it        vigil send --api-key KEY")
    if detach:
        if not ready:
            # Left running: a slow machine may still bring it up (vigil status shows
            # what it waits for). A script that goes on now would find it not serving.
            _say("NOT READY     left running; vigil status shows it, vigil down stops it")
            return 1
        _say("running in the background; stop with: vigil down")
        return 0
    _say("press Ctrl-C to stop")
    stop = threading.Event()
    # Handle both explicitly: a shell that starts us in the background ignores SIGINT.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    return cmd_down(configured)


def check_port_free(host: str, port: int) -> None:
    """Raise ``ConfigError`` unless this machine can listen on ``host:port`` now."""
    error = listen_error(host, port)
    if error is not None:
        raise ConfigError(
            f"VIGIL_HTTP_HOST={host} VIGIL_HTTP_PORT={port}: cannot listen there"
            f" ({error.strerror}): stop what holds the port, or choose another"
        )


def tenants_with_demo_key(config: VigilConfig) -> list[str]:
    """The tenants whose keys include the public demo key (it is printed in the README)."""
    demo = hash_api_key(DEMO_API_KEY)
    return [t.id for t in config.tenants if any(k.sha256 == demo for k in t.api_keys)]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an IP or ``localhost``) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name that may resolve anywhere


def _audit_config(settings: Settings, config: VigilConfig) -> None:
    """Write ``config.apply`` to the trail of each tenant whose section changed."""
    from cli.operator import operator
    from cluster.audit_store import AuditTrail, audit_key
    from cluster.config_audit import record_applied
    from cluster.redis_client import sync_client

    client = sync_client(settings.redis_url or "")
    try:
        trail = AuditTrail(client, audit_key(settings))
        changed = record_applied(client, trail, config, str(settings.config_path), operator())
    finally:
        client.close()
    if changed:
        _say(f"config        new for {', '.join(changed)} (in their audit trails)")


def _warm_tenants(settings: Settings, timeout: float = 120.0) -> None:
    """Start the actor of every configured tenant now, so the first alert is stored
    as fast as the next (starting an actor's process takes seconds)."""
    from actors.tenant_client import TenantClient, tenant_call

    tenants = [t.id for t in load_config(settings.config_path).tenants]
    if not tenants:
        return
    _say(f"tenants       starting {len(tenants)} tenant actor(s) ...")
    started = time.monotonic()
    clients = [TenantClient(t, tenant_call(t, settings, timeout)) for t in tenants]

    async def warm_all() -> None:
        await asyncio.gather(*(client.warm() for client in clients))

    asyncio.run(warm_all())
    _say(f"tenants       {', '.join(tenants)} up in {time.monotonic() - started:.1f}s")


def _serve_vigil(settings: Settings, config: VigilConfig) -> tuple[Any, bool]:
    """On the Ray this process has joined: the model, Serve, the app, ready, the
    configured tenants warm. Returns Ray's context (where its dashboard is) and whether
    ``/readyz`` said ready in time."""
    # Imported only now: the config is known to be good, and HAProxy's environment
    # (read by Serve when it is imported) is set.
    from ray import serve

    from serve_app.app import APP_NAME, build

    context = runtime.connect(settings.ray_address)
    if not settings.ml_enabled:
        _say("model         ML off (CRITICAL_ALERT_ML_ENABLED=false): no risk scores")
    else:
        try:
            version = ensure_starter_model(settings)
        except UnknownModel as exc:
            raise ConfigError(f"CRITICAL_ALERT_PREDICTION_MODEL: {exc}") from None
        _say(f"model         {version} serves risk scores   (vigil models)")
    _start_serve(settings)
    _say("serve         deploying the ingress and the predictor ...")
    serve.run(build(settings), name=APP_NAME, route_prefix="/", blocking=False)
    ready = _wait_ready(api_url(settings), settings.up_ready_timeout)
    _audit_config(settings, config)
    _warm_tenants(settings)
    return context, ready


def _start_serve(settings: Settings) -> None:
    """Start Serve's controller and its HTTP proxy on the configured address.

    ``serve.start`` gives the proxy a fixed 60 s (Ray's ``HTTP_PROXY_TIMEOUT``, not a
    setting) and then raises, although the controller goes on starting it: on a busy
    2-core machine the proxy's worker process alone took longer (beside six CPU-bound
    processes). So a slow proxy is not a failed start: ``serve.run`` then reaches the same
    controller, and ``_wait_ready`` waits for the API itself, with its own deadline.
    """
    from ray import exceptions, serve

    try:
        serve.start(
            http_options={"host": settings.http_host, "port": settings.http_port},
            logging_config={"enable_access_log": False, "log_level": "WARNING"},
        )
    except (TimeoutError, exceptions.ActorDiedError) as exc:
        # ActorDiedError: the controller killed a proxy that missed its readiness
        # checks, and starts a new one with a longer deadline.
        _say(f"serve         the HTTP proxy is slow to start ({type(exc).__name__}); still waiting")


def _wait_ready(api: str, timeout: float = 180.0) -> bool:
    """Wait until ``/readyz`` says every loop runs, saying what it waits for; whether
    it did within ``timeout``."""
    _say("ready?        waiting for Redis, the actors and every loop's first heartbeat ...")
    deadline = time.monotonic() + timeout
    waiting_for = ""
    while time.monotonic() < deadline:
        try:
            code, body = http("GET", f"{api}/readyz")
        except OSError:
            code, body = 0, None
        if code == 200:
            _say("ready         every loop beats   (vigil status shows them)")
            return True
        checks = body.get("checks", {}) if isinstance(body, dict) else {}
        now_waiting = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
        if now_waiting and now_waiting != waiting_for:
            _say(f"              {now_waiting[:200]}")
            waiting_for = now_waiting
        time.sleep(0.5)
    _say(f"ready         NOT READY after {timeout:.0f}s: see 'vigil status'")
    return False


def _check_durable(settings: Settings) -> None:
    """Refuse an external Redis that would lose confirmed writes (or warn, if allowed)."""
    import redis

    from cluster.redis_durability import persistence_problem

    client = redis.Redis.from_url(settings.redis_url or "", socket_timeout=5)
    try:
        problem = persistence_problem(client)
    except redis.RedisError as exc:
        raise ConfigError(f"REDIS_URL: {_safe_url(settings.redis_url or '')}: {exc}") from None
    finally:
        client.close()
    if problem is None:
        return
    if not settings.redis_allow_volatile:
        raise ConfigError(
            f"REDIS_URL: this Redis {problem}. Turn on appendonly (appendfsync always or"
            " everysec), or set VIGIL_REDIS_ALLOW_VOLATILE=true for a throwaway server"
        )
    _say(f"WARNING       Redis {problem} (VIGIL_REDIS_ALLOW_VOLATILE=true)")


def _safe_url(url: str) -> str:
    """A Redis URL without its password, for printing."""
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def cmd_down(settings: Settings) -> int:
    """Stop the Serve app, the local Ray head and the embedded Redis that ``up`` started."""
    import ray
    from ray import serve

    state = read_state(settings)
    no_ray = settings.ray_address is None and not runtime.local_ray_running()
    if no_ray:
        # Connecting to a Ray that is gone would wait for it forever.
        _say("serve         not running (no local Ray answers)")
    else:
        try:
            runtime.connect(settings.ray_address)
            serve.shutdown()
            _say("serve         stopped")
        except (ConnectionError, RuntimeError) as exc:
            _say(f"serve         not reachable ({exc})")
        finally:
            if ray.is_initialized():
                ray.shutdown()
    mark = state.get("ray_head")
    if mark:
        stopped = runtime.stop_local_head(mark)
        _say(f"ray           stopped ({stopped} processes of the head 'vigil up' started)")
    elif no_ray:
        _say("ray           not running")
    elif settings.ray_address is None:
        _say("ray           left running: this 'vigil up' did not start it")
    if state.get("embedded_redis", settings.redis_url is None):
        EmbeddedRedis(settings.data_dir, settings.embedded_redis_port).stop()
        _say("redis         stopped (data kept in the append-only file)")
    haproxy_dir = state.get("haproxy_dir")
    if haproxy_dir:
        shutil.rmtree(haproxy_dir, ignore_errors=True)
    state_path(settings).unlink(missing_ok=True)
    return 0


def cmd_status(settings: Settings) -> int:
    """Print whether the API answers and is ready, and where things are."""
    url = running_api_url(settings)
    _say(f"data dir      {settings.data_dir}")
    try:
        code, body = http("GET", f"{url}/readyz")
    except OSError as exc:
        _say(f"api           {url} not reachable ({exc})")
        return 1
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    loops = body.get("loops", []) if isinstance(body, dict) else []
    verdict = body.get("status") if isinstance(body, dict) else body
    _say(f"api           {url}   /readyz -> {code} {verdict}")
    for name, verdict in checks.items():
        if name != "loops":
            _say(f"{name:<13} {verdict}")
    if loops:
        _say("")
        _say(loops_table(loops))
    return 0 if code == 200 else 1


def loops_table(loops: list[dict[str, Any]]) -> str:
    """The loops of ``/readyz`` as a table: each loop's status, heartbeat age and lag."""
    header = ("LOOP", "STATUS", "HEARTBEAT", "LAG", "SHARD", "PID", "REASON")
    rows = [header]
    for loop in loops:
        age = loop.get("heartbeat_age_seconds")
        lag = loop.get("lag_seconds")
        rows.append(
            (
                str(loop.get("loop", "?")),
                str(loop.get("status", "?")),
                "never" if age is None else f"{age:.1f}s ago",
                "-" if lag is None else f"{lag:.1f}s",
                "-" if loop.get("shard") is None else str(loop["shard"]),
                "-" if loop.get("pid") is None else str(loop["pid"]),
                "" if loop.get("status") == "ok" else str(loop.get("reason", "")),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    )
