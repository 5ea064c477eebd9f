"""``vigil send``: one test alert to the running Vigil."""

from __future__ import annotations

import argparse
import json

from cli.running import http, running_api_url
from cluster.settings import Settings


def cmd_send(settings: Settings, args: argparse.Namespace) -> int:
    """Send one test alert and print Vigil's answer."""
    labels = {"alertname": args.alertname, "service": args.service}
    for pair in args.label or []:
        name, sep, value = pair.partition("=")
        if not sep:
            print(f"--label wants name=value, got {pair!r}", flush=True)
            return 2
        labels[name] = value
    alert = {"labels": labels, "severity": args.severity, "annotations": {"summary": args.summary}}
    url = running_api_url(settings)
    try:
        code, body = http("POST", f"{url}/api/v1/critical-alerts", alert, args.api_key)
    except OSError as exc:
        print(f"cannot reach {url}: {exc}; is Vigil up?", flush=True)
        return 1
    print(f"{code} {json.dumps(body)}", flush=True)
    return 0 if code == 202 else 1
