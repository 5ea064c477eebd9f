"""``vigil config``: check an ``alertmanager.yml`` and test where alerts would be routed.

``vigil config routes test --config FILE label=value ...`` prints the receivers an
alert with those labels goes to, comma-separated, exactly like ``amtool config
routes test``; ``--tree`` also draws the tree and the matching routes, and
``--verify.receivers`` makes the exit code say whether the expectation holds.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from alerting.amconfig import RoutingConfig
from alerting.errors import InvalidMatcher
from alerting.matchers import MatchOp, parse_matchers
from alerting.routing import Route, receivers_for
from cluster.errors import ConfigError
from cluster.routing_file import load_alertmanager_config


def _load(
    args: argparse.Namespace, vigil_config: Path | None, max_levels: int | None
) -> tuple[RoutingConfig, Callable[[str], str | None]]:
    """The routing to check, and which escalation policy each receiver has (none for
    a bare ``alertmanager.yml``)."""
    if args.config is not None:
        return load_alertmanager_config(args.config), lambda _: None
    if vigil_config is None:
        raise ConfigError("--tenant needs the Vigil configuration (VIGIL_CONFIG)")
    # Imported here: the whole Vigil schema, which a bare alertmanager.yml does not need.
    from cluster.config import load_config

    config = (
        load_config(vigil_config) if max_levels is None else load_config(vigil_config, max_levels)
    )
    if args.tenant not in {t.id for t in config.tenants}:
        # A typo must not silently test the default routing instead.
        raise ConfigError(
            f"no tenant {args.tenant!r} in {vigil_config} (tenants made at run time have "
            "the default routing: every alert to 'default')"
        )
    tenant = next(t for t in config.tenants if t.id == args.tenant)
    return config.routing_for(args.tenant), tenant.escalation.policy_name_for


def _tree(node: Route, prefix: str = "", last: bool = True, root: bool = True) -> list[str]:
    """The tree drawn as amtool draws it."""
    lines = (
        [node.describe()] if root else [f"{prefix}{'└── ' if last else '├── '}{node.describe()}"]
    )
    child_prefix = "" if root else prefix + ("    " if last else "│   ")
    for i, child in enumerate(node.routes):
        lines += _tree(child, child_prefix, i == len(node.routes) - 1, root=False)
    return lines


def _labels(pairs: list[str]) -> dict[str, str]:
    """``a=b`` arguments (quotes allowed, as amtool takes them) as a label set."""
    labels: dict[str, str] = {}
    for pair in pairs:
        for matcher in parse_matchers(pair):
            if matcher.op is not MatchOp.EQUAL:
                raise InvalidMatcher(f"labels must be given as name=value, got {pair!r}")
            labels[matcher.name] = matcher.value
    return labels


def run_config_command(
    args: argparse.Namespace,
    vigil_config: Path | None = None,
    max_levels: int | None = None,
) -> int:
    """Run one ``vigil config`` command; return the exit code. ``vigil_config`` is the
    Vigil configuration a ``--tenant`` is looked up in; ``max_levels`` the most levels an
    escalation policy may have."""
    routing, policy_for = _load(args, vigil_config, max_levels)
    if args.config_command == "check":
        from alerting.notification_plan import notification_report  # check only

        print(
            f"Checking config: found {len(routing.receivers)} receivers, "
            f"{len(routing.root.walk())} routes, {len(routing.inhibit_rules)} inhibit rules"
        )
        lines, warnings = notification_report(routing, policy_for)
        print("Notified:")
        print("\n".join(lines))
        for warning in warnings:
            print(f"WARNING: {warning}")
        print("SUCCESS")
        return 0
    if args.routes_command == "show":
        print("Routing tree:")
        print("\n".join(_tree(routing.root)))
        return 0
    try:
        labels = _labels(args.labels)
    except InvalidMatcher as exc:
        print(f"vigil: {exc.message}")
        return 2
    if args.tree:
        matched = routing.root.match(labels)
        print("Matching routes:")
        for route in matched:
            print(f"  {route.describe()}")
        print()
    found = receivers_for(routing.root, labels)
    print(",".join(found))
    if args.verify is not None and found != args.verify.split(","):
        print("WARNING: Expected receivers did not match resolved receivers.")
        return 1
    return 0
