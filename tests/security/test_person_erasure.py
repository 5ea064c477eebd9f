"""A person can be erased: their names replaced by a pseudonym in everything Vigil
stored, on a running Vigil, and not written back from memory afterwards.

Before: a person who left stayed named in alerts, incidents, timelines and silences.
"""

from __future__ import annotations

import pytest
import requests

from cli import main as cli
from cluster.redis_client import sync_client, text
from cluster.tenant_removal import tenant_keys
from tests.security.helpers import bearer, make_key, populate, post_alert
from tests.system import Vigil, wait_for

pytestmark = pytest.mark.integration

TENANT = "erasure-probe"
PERSON, DISPLAY = "zedq", "Zed Quux"


def stored_mentions(vigil: Vigil) -> list[str]:
    """The tenant's stored records that still name the person (streams and the sealed
    audit trail aside: streams are trimmed once applied, the trail is kept)."""
    client = sync_client(vigil.redis.url)
    found = []
    try:
        for key in tenant_keys(client, TENANT):
            kind = text(client.type(key))
            if key.endswith((":audit", ":changes", ":notifications")):
                continue
            if kind == "hash":
                values = [text(v) for v in client.hvals(key)]
            elif kind == "list":
                values = [text(v) for v in client.lrange(key, 0, -1)]
            else:
                continue
            found += [f"{key}: {v[:80]}" for v in values if PERSON in v or DISPLAY in v]
    finally:
        client.close()
    return found


def test_a_person_is_erased_from_what_was_stored_and_stays_erased(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    key, _ = make_key(capsys, "create-key", TENANT, "--label", "ops-bot")
    alert_id, incident = populate(vigil, key, created_by=PERSON)
    said = {"by": PERSON, "reason": f"{DISPLAY} is looking"}
    r = requests.post(f"{incident}/acknowledge", json=said, headers=bearer(key), timeout=30)
    assert r.status_code == 200, r.text
    wait_for(
        lambda: requests.get(vigil.api(f"/{alert_id}"), headers=bearer(key), timeout=30).json()[
            "acknowledged_by"
        ]
    )
    assert stored_mentions(vigil)  # named in the incident, its timeline, the alert, the silence

    capsys.readouterr()
    assert cli.main(["person", "erase", PERSON, "--also", DISPLAY, "--tenant", TENANT]) == 0
    out = capsys.readouterr().out
    pseudonym = out.rsplit("the pseudonym is ", 1)[1].split()[0]
    assert "by the running Vigil's actors" in out and pseudonym.startswith("erased-")
    assert stored_mentions(vigil) == []
    # Run again (as after a run cut short): the same pseudonym, nothing left to replace.
    assert cli.main(["person", "erase", PERSON, "--also", DISPLAY, "--tenant", TENANT]) == 0
    assert f"0 mention(s) in all; the pseudonym is {pseudonym}" in capsys.readouterr().out
    got = requests.get(incident, headers=bearer(key), timeout=30).json()
    assert got["acknowledged_by"] == f"ops-bot (says {pseudonym})"
    alert = requests.get(vigil.api(f"/{alert_id}"), headers=bearer(key), timeout=30).json()
    assert alert["acknowledged_by"] == f"ops-bot (says {pseudonym})"
    # New work makes both actors write again: what they hold in memory is the erased
    # version, so the name does not come back.
    post_alert(vigil, key)
    requests.post(f"{incident}/resolve", headers=bearer(key), timeout=30)
    wait_for(
        lambda: (
            requests.get(incident, headers=bearer(key), timeout=30).json()["state"] == "resolved"
        ),
        60,
    )
    assert stored_mentions(vigil) == []
    audit = requests.get(f"{vigil.url}/api/v1/audit", headers=bearer(key), timeout=30).json()
    erased = [e for e in audit["items"] if e["action"] == "person.erase"]
    assert erased and erased[0]["target"] == pseudonym


def test_the_configuration_files_mentions_are_listed(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["person", "erase", "dee", "--tenant", TENANT]) == 1
    out = capsys.readouterr().out
    assert "still names them" in out and "tenants.acme.schedules" in out
