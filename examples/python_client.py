"""Vigil's Python client, end to end: send alerts, watch the incident form, acknowledge it.

Run it beside a running Vigil (``vigil up``), from the directory ``vigil up`` ran in
(the client reads Ray's token from ``.vigil/ray-auth-token``):

    .venv/bin/python examples/python_client.py [tenant]

It uses the demo tenant by default and stops by itself within half a minute.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

import vigil


async def main(tenant: str) -> None:
    client = await vigil.connect(tenant)
    print(f"connected to Vigil as tenant {client.tenant!r}")
    name = f"ExampleDiskFull{uuid.uuid4().hex[:6]}"
    changes = client.watch()  # from now on
    first = asyncio.ensure_future(anext(changes))  # start watching before sending
    await asyncio.sleep(1)
    results = await client.send(
        [{"labels": {"alertname": name, "host": f"db-{n}"}, "severity": "critical"} for n in (1, 2)]
    )
    print(f"sent {len(results)} alerts: {[r['id'][:8] for r in results]}")
    update = await asyncio.wait_for(first, 20)
    incident = next(i for i in update.incidents if i.group_labels.get("alertname") == name)
    print(f"incident {incident.id} is {incident.state.value} with {len(incident.members)} alerts")
    acknowledged = await client.acknowledge(incident.id, reason="looking into it")
    print(f"acknowledged by {acknowledged.acknowledged_by}: its escalation stops")
    _, timeline = await client.incident(incident.id)
    for entry in timeline:
        print(f"  {entry['event']:<20} {entry.get('detail', '')[:70]}")
    await changes.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "demo"))
