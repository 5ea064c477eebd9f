"""The ``vigil`` command line: every command, subcommand and option, and nothing else.

This module imports only ``argparse`` and ``pathlib``, so ``vigil --help`` and a
mistyped option answer at once; what a command needs is imported by ``cli.main``
only once that command is chosen.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TypeAlias

DEMO_API_KEY = "demo-key-change-me"
"""The demo tenant's API key in ``configs/vigil.demo.yaml`` (``vigil send``'s default)."""

SIMULATION_SCENARIOS = ("evaluation", "training")
"""The names of ``models.simulate.SCENARIOS`` (a unit test keeps them equal), listed
here so the parser need not import the simulator."""

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def parser() -> argparse.ArgumentParser:
    """The whole ``vigil`` parser."""
    p = argparse.ArgumentParser(prog="vigil", description="Vigil critical-alert manager")
    sub = p.add_subparsers(dest="command", required=True)
    add_lifecycle_commands(sub)
    add_tenant_commands(sub)
    add_config_commands(sub)
    add_secret_commands(sub)
    add_ml_commands(sub)
    add_bench_command(sub)
    return p


def add_lifecycle_commands(sub: Commands) -> None:
    """``up``, ``down``, ``status`` and ``send``."""
    up = sub.add_parser("up", help="start Vigil (local Ray, embedded Redis, demo config)")
    up.add_argument("--detach", action="store_true", help="return once everything runs")
    up.add_argument(
        "--ray-metrics",
        action="store_true",
        help="turn Ray's own metrics on (the Ray dashboard's metrics views; costs throughput,"
        " see bench/README.md); also VIGIL_RAY_METRICS=1",
    )
    sub.add_parser("down", help="stop what 'vigil up' started")
    sub.add_parser("status", help="is Vigil up and ready?")
    logs = sub.add_parser("logs", help="read every process's logs, merged by time")
    logs.add_argument("--tenant", help="only this tenant's lines")
    logs.add_argument(
        "--incident", help="one incident's story: its lines, its alerts' and its traces'"
    )
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines")
    logs.add_argument("--last", type=int, default=200, help="how many lines before following")
    logs.add_argument("--json", action="store_true", help="print the JSON lines as they are")
    send = sub.add_parser("send", help="send a test alert")
    send.add_argument("--api-key", default=DEMO_API_KEY)
    send.add_argument("--alertname", default="VigilTestAlert")
    send.add_argument("--service", default="demo")
    send.add_argument("--severity", default="warning")
    send.add_argument("--summary", default="A test alert sent by 'vigil send'")
    send.add_argument("--label", action="append", metavar="NAME=VALUE")


def add_tenant_commands(sub: Commands) -> None:
    """``tenant ...`` (tenants and their keys) and ``audit ...`` (their audit trails)."""
    tenant = sub.add_parser("tenant", help="manage tenants and their keys")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    create = tenant_sub.add_parser("create", help="register a tenant and print its API key")
    create.add_argument("name")
    create.add_argument("--label", default="", help="who holds the key (recorded as the actor)")
    integration = tenant_sub.add_parser(
        "integration-key", help="make an integration key (PagerDuty routing_key) for a tenant"
    )
    integration.add_argument("name")
    integration.add_argument("--label", default="", help="which sender holds the key")
    create_key = tenant_sub.add_parser("create-key", help="make another API key for a tenant")
    create_key.add_argument("name")
    create_key.add_argument("--label", required=True, help="who holds the key, e.g. a person")
    listing = tenant_sub.add_parser("keys", help="list a tenant's keys (ids and labels only)")
    listing.add_argument("name")
    revoke = tenant_sub.add_parser("revoke-key", help="revoke a key by its id")
    revoke.add_argument("name")
    revoke.add_argument("key_id")
    revoke.add_argument("--reason", default="")
    rotate = tenant_sub.add_parser("rotate-key", help="replace a key: a new one, the old revoked")
    rotate.add_argument("name")
    rotate.add_argument("key_id")
    delete = tenant_sub.add_parser(
        "delete", help="delete a tenant made at run time: all of its data, verified gone"
    )
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="really delete everything of it")
    person = sub.add_parser("person", help="people of on-call schedules")
    person_sub = person.add_subparsers(dest="person_command", required=True)
    erase = person_sub.add_parser(
        "erase", help="replace a person's names with a pseudonym in everything stored"
    )
    erase.add_argument("name", help="the person's id in people: (their display name too)")
    erase.add_argument("--also", action="append", default=[], help="another name of theirs")
    erase.add_argument("--tenant", help="one tenant (default: every tenant)")
    audit = sub.add_parser("audit", help="tenants' audit trails")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check every seal and the chain")
    verify.add_argument("--tenant", help="one tenant (default: every tenant)")
    show = audit_sub.add_parser("show", help="print a tenant's audit entries")
    show.add_argument("tenant")
    show.add_argument("--last", type=int, default=50, help="how many of the newest")


def add_config_commands(sub: Commands) -> None:
    """``config check`` and ``config routes [show|test]``."""
    config = sub.add_parser("config", help="check routing configuration, test routes")
    config_sub = config.add_subparsers(dest="config_command", required=True)

    def source(p: argparse.ArgumentParser) -> None:
        group = p.add_mutually_exclusive_group(required=True)
        group.add_argument("--config", type=Path, help="an alertmanager.yml file")
        group.add_argument("--tenant", help="a tenant of the Vigil configuration (VIGIL_CONFIG)")

    check = config_sub.add_parser("check", help="validate an alertmanager.yml")
    source(check)
    routes = config_sub.add_parser("routes", help="show the routing tree or test it")
    routes_sub = routes.add_subparsers(dest="routes_command", required=True)
    show = routes_sub.add_parser("show", help="print the routing tree")
    source(show)
    test = routes_sub.add_parser("test", help="print the receivers an alert would go to")
    source(test)
    test.add_argument("--tree", action="store_true", help="also print the matching routes")
    test.add_argument(
        "--verify.receivers",
        dest="verify",
        metavar="R1,R2",
        help="exit 1 unless the receivers are exactly these",
    )
    test.add_argument("labels", nargs="*", metavar="label=value")


def add_secret_commands(sub: Commands) -> None:
    """``keys generate|rotate`` and ``secret set|list|delete``."""
    keys_parser = sub.add_parser("keys", help="encryption keys of channel secrets")
    keys_sub = keys_parser.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("generate", help="print a new key")
    keys_sub.add_parser("rotate", help="re-encrypt every secret under a new primary key")
    secret = sub.add_parser("secret", help="channel secrets (stored encrypted)")
    secret_sub = secret.add_subparsers(dest="secret_command", required=True)
    put = secret_sub.add_parser("set", help="store a secret read from standard input")
    put.add_argument("tenant")
    put.add_argument("name")
    put.add_argument("--from-env", metavar="VAR", help="read the value from this variable")
    listing = secret_sub.add_parser("list", help="a tenant's secret names")
    listing.add_argument("tenant")
    delete = secret_sub.add_parser("delete", help="remove a secret")
    delete.add_argument("tenant")
    delete.add_argument("name")


def add_ml_commands(sub: Commands) -> None:
    """``simulate``, ``train`` and ``models``."""
    sim = sub.add_parser("simulate", help="simulate alert traffic with its ground truth")
    sim.add_argument("--scenario", choices=SIMULATION_SCENARIOS, default="training")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--tenants", type=int, default=3)
    sim.add_argument("--days", type=float, help="override the scenario's length")
    sim.add_argument("--out", type=Path, help="write labelled examples here (.jsonl or .parquet)")
    sim.add_argument("--alerts", type=Path, help="write the alerts with their truth here")
    sim.add_argument("--send", action="store_true", help="post the traffic to a running Vigil")
    sim.add_argument("--speed", type=float, default=600.0, help="simulated seconds per second")
    sim.add_argument("--api-key", help="the tenant's API key (default: the demo key)")
    sim.add_argument("--url", help="Vigil's URL (default: the running one)")
    tr = sub.add_parser("train", help="train the risk model and register it")
    source = tr.add_mutually_exclusive_group()
    source.add_argument("--from", dest="source", type=Path, help="an export (.jsonl, or .parquet)")
    source.add_argument("--simulated", action="store_true", help="the simulator's history")
    source.add_argument(
        "--from-alerts",
        dest="alerts_file",
        type=Path,
        help="real alert history: JSON Lines of Alertmanager alerts or webhook payloads"
        " with outcomes (models/alert_history.py), or a PagerDuty incident CSV"
        " (models/pagerduty_history.py)",
    )
    tr.add_argument(
        "--holdout",
        type=float,
        default=0.25,
        help="newest share held out to evaluate (0: none; the model is fitted on all)",
    )
    tr.add_argument("--rounds", type=int, default=200)
    tr.add_argument("--promote", choices=("auto", "always", "never"), default="auto")
    sub.add_parser("models", help="list registered models and promotion decisions")
    export = sub.add_parser(
        "export-incidents",
        help="write a tenant's incidents with their outcomes as JSON Lines"
        " (read back by train --from-alerts)",
    )
    export.add_argument("file", type=Path)
    export.add_argument("--api-key", default=DEMO_API_KEY, help="the tenant's API key")
    export.add_argument("--url", help="Vigil's URL (default: the running one)")
    export.add_argument(
        "--filter",
        action="append",
        metavar="MATCHER",
        help='only incidents with a member matching, e.g. service="api" (repeatable)',
    )


def add_bench_command(sub: Commands) -> None:
    """``bench [NAME [args]]``."""
    bench = sub.add_parser("bench", help="list the benchmarks, or run one (see bench/README.md)")
    bench.add_argument("name", nargs="?", help="a benchmark, e.g. escalation")
    bench.add_argument("args", nargs=argparse.REMAINDER, help="passed to the benchmark")
