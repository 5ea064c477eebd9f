"""The ``vigil`` command: start, stop and inspect Vigil, send a test alert, make tenants.

vigil up [--detach]      start Redis (embedded unless REDIS_URL), Ray (local unless
                         RAY_ADDRESS) and the Serve app; print where everything is
vigil down               stop what ``up`` started
vigil status             is it up, and ready?
vigil send               send a test alert to the running API
vigil tenant create ID   register a tenant and print its new API key once
vigil tenant integration-key ID
                         make a PagerDuty-style integration key (routing_key) for it
vigil config check|routes show|routes test --config alertmanager.yml [label=value ...]
                         validate routing; print the receivers an alert would go to
vigil simulate|train|models
                         simulated traffic with ground truth; train and register the
                         risk model; list models (see ``ml_cli``)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from actors.notifiers.channels import check_channels
from cluster import runtime
from cluster.bench_cli import add_bench_command, run_bench_command
from cluster.config import ConfigError, load_config
from cluster.ml_cli import add_ml_commands, command_client, ensure_starter_model, run_ml_command
from cluster.redis_server import EmbeddedRedis, EmbeddedRedisError
from cluster.routes_cli import add_config_commands, run_config_command
from cluster.secrets_cli import add_secret_commands, run_secret_command
from cluster.settings import Settings, SettingsError
from cluster.tenants import create_integration_key, create_tenant
from models.registry import UnknownModel

DEMO_API_KEY = "demo-key-change-me"
STATE_FILE = "state.json"


def _say(message: str) -> None:
    print(message, flush=True)


def _state_path(settings: Settings) -> Path:
    return settings.data_dir / STATE_FILE


def _read_state(settings: Settings) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(_state_path(settings).read_text())
        return data
    except (OSError, ValueError):
        return {}


def _api_url(settings: Settings) -> str:
    return f"http://{settings.http_host}:{settings.http_port}"


def running_api_url(settings: Settings) -> str:
    """Where the API of the running Vigil is: as ``up`` recorded it, else from settings."""
    url: str = _read_state(settings).get("api_url", _api_url(settings))
    return url


def _redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The Redis to use: ``REDIS_URL``, or the embedded server (started if needed)."""
    if settings.redis_url:
        return settings.redis_url, None
    embedded = EmbeddedRedis(settings.data_dir, settings.embedded_redis_port)
    return embedded.start(), embedded


def cmd_up(settings: Settings, detach: bool) -> int:
    """Start everything, print the addresses, and (unless detached) wait for Ctrl-C."""
    from ray import serve

    from serve_app.app import APP_NAME, build

    # Refuse a bad config before starting anything.
    check_channels(load_config(settings.config_path, settings.max_escalation_levels))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _say(f"data dir      {settings.data_dir}")
    url, embedded = _redis_url(settings)
    configured = settings
    settings = settings.model_copy(update={"redis_url": url})
    _say(f"redis         {'embedded, ' if embedded else ''}{_safe_url(url)}")
    ray_head: str | None = None
    if settings.ray_address is None and not runtime.local_ray_running():
        _say("ray           starting a local head ...")
        ray_head = runtime.start_local_head()
    context = runtime.connect(settings.ray_address)
    if not settings.ml_enabled:
        _say("model         ML off (CRITICAL_ALERT_ML_ENABLED=false): no risk scores")
    else:
        try:
            version = ensure_starter_model(settings)
        except UnknownModel as exc:
            raise ConfigError(f"CRITICAL_ALERT_PREDICTION_MODEL: {exc}") from None
        _say(f"model         {version} serves risk scores   (vigil models)")
    serve.start(
        http_options={"host": settings.http_host, "port": settings.http_port},
        logging_config={"enable_access_log": False, "log_level": "WARNING"},
    )
    _say("serve         deploying the ingress and the predictor ...")
    serve.run(build(settings), name=APP_NAME, route_prefix="/", blocking=False)
    state = {
        "ray_head": ray_head,  # the mark of the head we started: down stops only that
        "embedded_redis": embedded is not None,
        "api_url": _api_url(settings),
    }
    _state_path(settings).write_text(json.dumps(state))
    api = _api_url(settings)
    _wait_ready(api)
    _warm_tenants(settings)
    _say(f"api           {api}   (OpenAPI docs: {api}/docs)")
    _say(f"alertmanager  {api}/api/v2   (Prometheus, amtool: basic auth tenant:key or Bearer)")
    _say(f"pagerduty     {api}/v2/enqueue   (routing_key = an integration key)")
    _say(f"am webhook    {api}/api/v1/integrations/alertmanager")
    _say(f"incidents     {api}/api/v1/incidents   (noise figures: {api}/api/v1/noise)")
    if context.dashboard_url:
        _say(f"ray dashboard http://{context.dashboard_url}")
    _say(f"config        {settings.config_path}")
    _say(f"try it        vigil send   (demo API key: {DEMO_API_KEY})")
    if detach:
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


def _warm_tenants(settings: Settings, timeout: float = 120.0) -> None:
    """Start the actor of every configured tenant now, so the first alert is stored
    as fast as the next (starting an actor's process takes seconds)."""
    import ray

    from actors.tenant import get_or_create_tenant_actor

    tenants = [t.id for t in load_config(settings.config_path).tenants]
    if not tenants:
        return
    _say(f"tenants       starting {len(tenants)} tenant actor(s) ...")
    started = time.monotonic()
    actors = [get_or_create_tenant_actor(t, settings) for t in tenants]
    ray.get([a.warm.remote() for a in actors], timeout=timeout)
    _say(f"tenants       {', '.join(tenants)} up in {time.monotonic() - started:.1f}s")


def _wait_ready(api: str, timeout: float = 180.0) -> None:
    """Wait until ``/readyz`` says every loop runs, saying what it waits for."""
    _say("ready?        waiting for Redis, the actors and every loop's first heartbeat ...")
    deadline = time.monotonic() + timeout
    waiting_for = ""
    while time.monotonic() < deadline:
        try:
            code, body = _http("GET", f"{api}/readyz")
        except OSError:
            code, body = 0, None
        if code == 200:
            _say("ready         every loop beats   (vigil status shows them)")
            return
        checks = body.get("checks", {}) if isinstance(body, dict) else {}
        now_waiting = "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
        if now_waiting and now_waiting != waiting_for:
            _say(f"              {now_waiting[:200]}")
            waiting_for = now_waiting
        time.sleep(0.5)
    _say(f"ready         NOT READY after {timeout:.0f}s: see 'vigil status'")


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

    state = _read_state(settings)
    if settings.ray_address is None and not runtime.local_ray_running():
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
    elif settings.ray_address is None:
        _say("ray           left running: this 'vigil up' did not start it")
    if state.get("embedded_redis", settings.redis_url is None):
        EmbeddedRedis(settings.data_dir, settings.embedded_redis_port).stop()
        _say("redis         stopped (data kept in the append-only file)")
    _state_path(settings).unlink(missing_ok=True)
    return 0


def _http(method: str, url: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
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


def cmd_status(settings: Settings) -> int:
    """Print whether the API answers and is ready, and where things are."""
    url = running_api_url(settings)
    _say(f"data dir      {settings.data_dir}")
    try:
        code, body = _http("GET", f"{url}/readyz")
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


def cmd_send(settings: Settings, args: argparse.Namespace) -> int:
    """Send one test alert and print Vigil's answer."""
    labels = {"alertname": args.alertname, "service": args.service}
    for pair in args.label or []:
        name, sep, value = pair.partition("=")
        if not sep:
            _say(f"--label wants name=value, got {pair!r}")
            return 2
        labels[name] = value
    alert = {"labels": labels, "severity": args.severity, "annotations": {"summary": args.summary}}
    url = running_api_url(settings)
    try:
        code, body = _http("POST", f"{url}/api/v1/critical-alerts", alert, args.api_key)
    except OSError as exc:
        _say(f"cannot reach {url}: {exc}; is Vigil up?")
        return 1
    _say(f"{code} {json.dumps(body)}")
    return 0 if code == 202 else 1


def cmd_tenant_key(settings: Settings, tenant: str, integration: bool) -> int:
    """Make a key for a tenant (registering it if new) and print it, only this once."""
    with command_client(settings) as client:
        try:
            key = (
                create_integration_key(client, tenant)
                if integration
                else create_tenant(client, tenant)
            )
        except ValueError as exc:
            _say(str(exc))
            return 2
    if integration:
        _say(f"tenant {tenant}: new integration key (PagerDuty routing_key; shown only now):")
    else:
        _say(f"tenant {tenant} created; its API key (shown only now, stored as a hash):")
    _say(key)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vigil", description="Vigil critical-alert manager")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start Vigil (local Ray, embedded Redis, demo config)")
    up.add_argument("--detach", action="store_true", help="return once everything runs")
    sub.add_parser("down", help="stop what 'vigil up' started")
    sub.add_parser("status", help="is Vigil up and ready?")
    send = sub.add_parser("send", help="send a test alert")
    send.add_argument("--api-key", default=DEMO_API_KEY)
    send.add_argument("--alertname", default="VigilTestAlert")
    send.add_argument("--service", default="demo")
    send.add_argument("--severity", default="warning")
    send.add_argument("--summary", default="A test alert sent by 'vigil send'")
    send.add_argument("--label", action="append", metavar="NAME=VALUE")
    tenant = sub.add_parser("tenant", help="manage tenants")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    create = tenant_sub.add_parser("create", help="register a tenant and print its API key")
    create.add_argument("name")
    integration = tenant_sub.add_parser(
        "integration-key", help="make an integration key (PagerDuty routing_key) for a tenant"
    )
    integration.add_argument("name")
    add_config_commands(sub)
    add_secret_commands(sub)
    add_ml_commands(sub)
    add_bench_command(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env().resolved()
        if args.command == "up":
            return cmd_up(settings, args.detach)
        if args.command == "down":
            return cmd_down(settings)
        if args.command == "status":
            return cmd_status(settings)
        if args.command == "send":
            return cmd_send(settings, args)
        if args.command == "config":
            if args.config is None:  # the whole vigil.yaml, not one alertmanager.yml
                check_channels(load_config(settings.config_path, settings.max_escalation_levels))
            return run_config_command(args, settings.config_path, settings.max_escalation_levels)
        if args.command in ("simulate", "train", "models"):
            return run_ml_command(args, settings)
        if args.command in ("keys", "secret"):
            return run_secret_command(args, settings)
        if args.command == "bench":
            return run_bench_command(args)
        return cmd_tenant_key(settings, args.name, args.tenant_command == "integration-key")
    except (SettingsError, ConfigError, EmbeddedRedisError) as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
