"""Every change is accountable: made by a named key, sealed into the tenant's audit
trail, and a leaked key can be revoked or rotated.

Before: ``acknowledged_by`` was whatever the client sent (``anyone@example.com`` was
accepted as is), a key could not be revoked, and there was no audit trail.
"""

from __future__ import annotations

import json

import pytest
import redis
import requests

from cli import main as cli
from cluster import keys
from tests.security.helpers import bearer, make_key, post_alert, silence, v2
from tests.system import Vigil, unique_labels

pytestmark = pytest.mark.integration

TENANT = "audit-probe"


def audit(vigil: Vigil, key: str) -> list[dict[str, object]]:
    r = requests.get(f"{vigil.url}/api/v1/audit", headers=bearer(key), timeout=30)
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def test_a_change_is_recorded_under_the_keys_label_and_audited(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    key, key_id = make_key(capsys, "create-key", TENANT, "--label", "ana")
    r = requests.post(
        vigil.api(), json={"labels": unique_labels()}, headers=bearer(key), timeout=60
    )
    assert r.status_code == 202, r.text
    alert_id = r.json()["id"]
    claim = {"by": "anyone@example.com", "reason": "looking"}
    r = requests.post(
        vigil.api(f"/{alert_id}/acknowledge"), json=claim, headers=bearer(key), timeout=30
    )
    assert r.status_code == 200, r.text
    assert r.json()["acknowledged_by"] == "ana (says anyone@example.com)"
    mine = [e for e in audit(vigil, key) if e["target"] == f"alert {alert_id}"]
    assert len(mine) == 1
    assert mine[0]["actor"] == "ana" and mine[0]["action"] == "acknowledge"
    assert mine[0]["detail"] == {"says_by": "anyone@example.com", "reason": "looking"}
    created = [e for e in audit(vigil, key) if e["target"] == key_id]
    assert created and created[0]["action"] == "key.create"
    assert str(created[0]["actor"]).startswith("operator:")


def test_a_silence_is_audited_as_its_key(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    key, _ = make_key(capsys, "create-key", TENANT, "--label", "bob")
    body = silence([{"name": "alertname", "value": "Probe", "isRegex": False}])
    r = requests.post(v2(vigil, "/silences"), json=body, headers=bearer(key), timeout=30)
    assert r.status_code == 200, r.text
    silence_id = r.json()["silenceID"]
    r = requests.delete(v2(vigil, f"/silence/{silence_id}"), headers=bearer(key), timeout=30)
    assert r.status_code == 200, r.text
    mine = [e for e in audit(vigil, key) if e["target"] == f"silence {silence_id}"]
    assert [(e["actor"], e["action"]) for e in mine] == [
        ("bob", "silence.create"),
        ("bob", "silence.expire"),
    ]
    assert mine[0]["detail"]["says_by"] == "probe"  # type: ignore[index]


def test_a_revoked_key_opens_nothing_and_the_others_still_work(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    leaked, leaked_id = make_key(capsys, "create-key", TENANT, "--label", "leaked")
    kept, _ = make_key(capsys, "create-key", TENANT, "--label", "kept")
    assert requests.get(vigil.api(), headers=bearer(leaked), timeout=30).status_code == 200
    assert cli.main(["tenant", "revoke-key", TENANT, leaked_id, "--reason", "leaked"]) == 0
    r = requests.get(vigil.api(), headers=bearer(leaked), timeout=30)
    assert r.status_code == 401 and "revoked" in r.text
    assert requests.get(vigil.api(), headers=bearer(kept), timeout=30).status_code == 200
    capsys.readouterr()
    assert cli.main(["tenant", "keys", TENANT]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if line.startswith(leaked_id))
    assert "leaked" in row and "-" not in row.split()[-2]  # a revocation time is shown
    assert leaked not in listing and kept not in listing  # never the keys themselves
    revoked = [e for e in audit(vigil, kept) if e["target"] == leaked_id]
    assert [e["action"] for e in revoked] == ["key.create", "key.revoke"]


def test_rotating_a_key_gives_a_new_one_with_its_label(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    old, old_id = make_key(capsys, "create-key", TENANT, "--label", "ci-bot")
    new, new_id = make_key(capsys, "rotate-key", TENANT, old_id)
    assert new != old and new_id != old_id
    assert requests.get(vigil.api(), headers=bearer(old), timeout=30).status_code == 401
    r = requests.post(
        vigil.api(), json={"labels": unique_labels()}, headers=bearer(new), timeout=60
    )
    assert r.status_code == 202, r.text
    r = requests.post(vigil.api(f"/{r.json()['id']}/resolve"), headers=bearer(new), timeout=30)
    assert r.json()["resolved_by"] == "ci-bot"
    rotated = [e for e in audit(vigil, new) if e["target"] == new_id]
    assert rotated[0]["action"] == "key.rotate"
    assert rotated[0]["detail"]["replaces"] == old_id  # type: ignore[index]


def test_revoking_a_key_the_tenant_does_not_have_changes_nothing(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str], store: redis.Redis
) -> None:
    before = store.hlen(keys.revoked_keys())
    assert cli.main(["tenant", "revoke-key", TENANT, "000000000000"]) == 1
    assert "has no key" in capsys.readouterr().out
    assert store.hlen(keys.revoked_keys()) == before


def test_an_edited_or_truncated_trail_is_detected(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str], store: redis.Redis
) -> None:
    key, _ = make_key(capsys, "create-key", TENANT, "--label", "auditor")
    for _ in range(3):
        alert_id = post_alert(vigil, key)
        requests.post(vigil.api(f"/{alert_id}/acknowledge"), headers=bearer(key), timeout=30)

    def verdict() -> dict[str, object]:
        r = requests.get(f"{vigil.url}/api/v1/audit/verify", headers=bearer(key), timeout=30)
        assert r.status_code == 200, r.text
        found: dict[str, object] = r.json()
        return found

    assert verdict()["intact"] is True
    assert cli.main(["audit", "verify", "--tenant", TENANT]) == 0
    # Someone with Redis access rewrites who acknowledged an alert.
    trail = keys.audit(TENANT)
    original = store.lindex(trail, 1)
    assert original is not None
    edited = json.loads(original)
    edited["actor"] = "mallory"
    store.lset(trail, 1, json.dumps(edited))
    found = verdict()
    assert found["intact"] is False and "entry 2 was altered" in str(found["problem"])
    capsys.readouterr()
    assert cli.main(["audit", "verify", "--tenant", TENANT]) == 1
    assert "BROKEN" in capsys.readouterr().out
    store.lset(trail, 1, original)
    assert verdict()["intact"] is True
    # ... or drops the newest entry.
    newest = store.rpop(trail)
    assert newest is not None
    assert "head names" in str(verdict()["problem"])
    store.rpush(trail, newest)
    assert verdict()["intact"] is True
