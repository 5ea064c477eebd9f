"""``vigil export-incidents FILE``: a tenant's incidents, members and outcomes as JSON
Lines, the history ``vigil train --from-alerts`` reads back (``models/alert_history.py``).

It asks the running Vigil's incident API with the tenant's key, as any client would:
one listing page after another, then each incident whole (its members). Only what
the API shows is exported; incidents Vigil has purged are gone from it, which is why
a team that wants a long history exports now and then and keeps the files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from urllib.parse import quote

from cli.progress import ProgressBar
from cli.running import http, running_api_url
from cluster.settings import Settings

PAGE = 500


def cmd_export_incidents(settings: Settings, args: argparse.Namespace) -> int:
    """Write every incident the key's tenant can see to ``args.file``."""
    url = args.url or running_api_url(settings)
    bar = ProgressBar()
    ids: list[str] = []
    cursor: str | None = None
    try:
        while True:
            query = f"limit={PAGE}" + "".join(f"&filter={quote(m)}" for m in args.filter or [])
            query += f"&cursor={quote(cursor)}" if cursor else ""
            code, page = http("GET", f"{url}/api/v1/incidents?{query}", None, args.api_key)
            if code != 200:
                print(f"listing incidents: {code} {json.dumps(page)}", flush=True)
                return 1
            ids.extend(item["id"] for item in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        lines = []
        for n, incident_id in enumerate(ids, 1):
            code, incident = http(
                "GET", f"{url}/api/v1/incidents/{quote(incident_id)}", None, args.api_key
            )
            if code == 404:  # purged since the listing
                continue
            if code != 200:
                print(f"reading {incident_id}: {code} {json.dumps(incident)}", flush=True)
                return 1
            incident.pop("timeline", None)  # what happened, not what it was: not needed
            lines.append(json.dumps(incident))
            bar("exporting", n, len(ids))
    except OSError as exc:
        print(f"cannot reach {url}: {exc}; is Vigil up?", flush=True)
        return 1
    path: Path = args.file
    path.write_text("".join(line + "\n" for line in reversed(lines)))  # oldest first
    print(f"exported      {len(lines)} incidents to {path}", flush=True)
    return 0
