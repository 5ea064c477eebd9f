"""``vigil``'s entry point: parse the arguments, then import and run the one command
chosen.

Each command's module is imported here, inside ``main``, only once it is chosen:
``vigil --help`` and ``vigil config routes test`` must not wait seconds for Ray, the
actors and the notifiers to import (``python -X importtime -m cli --help``).
"""

from __future__ import annotations

import argparse
import sys

from cli.parser import parser
from cluster.errors import ConfigError, EmbeddedRedisError, SettingsError


def main(argv: list[str] | None = None) -> int:
    """Run ``vigil`` with ``argv`` (default: the process's); return the exit code."""
    args = parser().parse_args(argv)
    try:
        return run(args)
    except (SettingsError, ConfigError, EmbeddedRedisError) as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    """Dispatch one parsed command."""
    if args.command == "config" and args.config is not None:
        from cli import routes

        return routes.run_config_command(args)  # a bare alertmanager.yml: no settings
    if args.command == "bench":
        from cli import bench

        return bench.run_bench_command(args)
    if args.command == "simulate" and not args.send:
        from cli import ml

        return ml.cmd_simulate(args)

    from cluster.settings import Settings

    settings = Settings.from_env().resolved()
    if args.command in ("up", "down", "status"):
        if settings.ray_address is None and args.command != "status":
            from cluster.ray_access import close_local_ray

            # Before the lifecycle module imports Ray, which reads these settings then.
            # The token file is written by `vigil up` once its checks pass.
            close_local_ray(settings.data_dir, create=False)
        from cli import lifecycle

        if args.command == "up":
            if args.ray_metrics:
                settings = settings.model_copy(update={"ray_metrics": True})
            return lifecycle.cmd_up(settings, args.detach)
        if args.command == "down":
            return lifecycle.cmd_down(settings)
        return lifecycle.cmd_status(settings)
    if args.command == "config":  # a tenant of the Vigil configuration, channels checked
        from actors.notifiers.channels import check_channels
        from cli import routes
        from cluster.config import load_config

        check_channels(load_config(settings.config_path, settings.max_escalation_levels))
        return routes.run_config_command(args, settings.config_path, settings.max_escalation_levels)
    if args.command == "logs":
        from cli import logs

        return logs.cmd_logs(args, settings.data_dir)
    if args.command == "send":
        from cli import send

        return send.cmd_send(settings, args)
    if args.command == "export-incidents":
        from cli import incident_export

        return incident_export.cmd_export_incidents(settings, args)
    if args.command in ("simulate", "train", "models"):
        from cli import ml

        return ml.run_ml_command(args, settings)
    if args.command in ("keys", "secret"):
        from cli import secrets

        return secrets.run_secret_command(args, settings)
    from cli import tenants

    if args.command == "audit":
        return tenants.run_audit_command(args, settings)
    if args.command == "person" or args.tenant_command == "delete":
        if "ray" not in sys.modules and settings.ray_address is None:
            from cluster.ray_access import close_local_ray

            close_local_ray(settings.data_dir)  # to reach a local Vigil's actors, if up
        if args.command == "person":
            from cli import person_erase

            return person_erase.cmd_person_erase(args, settings)
        from cli import tenant_delete

        return tenant_delete.cmd_tenant_delete(args, settings)
    return tenants.run_tenant_command(args, settings)
