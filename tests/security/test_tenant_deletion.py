"""A tenant can be deleted: every key it had, verified gone, on a running Vigil, and
nothing of it comes back.

Before: there was no way to delete a tenant, nor to revoke its keys.
"""

from __future__ import annotations

import asyncio

import pytest
import requests

from actors.actor_call import ActorCallError
from actors.tenant_client import tenant_client
from cli import main as cli
from cluster import keys
from cluster.redis_client import sync_client
from cluster.tenant_removal import leftovers, tenant_keys
from tests.security.helpers import bearer, make_key, populate, post_alert
from tests.system import Vigil

pytestmark = pytest.mark.integration

TENANT = "doomed"


def test_a_tenant_made_at_run_time_is_deleted_whole(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    key, _ = make_key(capsys, "create-key", TENANT, "--label", "owner")
    alert_id, _ = populate(vigil, key)
    requests.post(vigil.api(f"/{alert_id}/acknowledge"), headers=bearer(key), timeout=30)
    store = sync_client(vigil.redis.url)
    try:
        assert len(tenant_keys(store, TENANT)) > 5  # alerts, changes, incidents, audit...
        assert cli.main(["tenant", "delete", TENANT]) == 2  # asks for --yes first
        assert "--yes" in capsys.readouterr().out
        assert tenant_keys(store, TENANT)

        assert cli.main(["tenant", "delete", TENANT, "--yes"]) == 0
        out = capsys.readouterr().out
        assert "its actor stopped" in out and "its correlation stopped" in out
        assert "verified: nothing of it is left" in out
        assert leftovers(store, TENANT) == []
        assert requests.get(vigil.api(), headers=bearer(key), timeout=30).status_code == 401
        # Its actor cannot start again, so nothing can write for it, whatever asks.
        with pytest.raises(ActorCallError):
            asyncio.run(tenant_client(TENANT, vigil.settings).ping())
        assert leftovers(store, TENANT) == []
        assert store.hget(keys.loop_beats(), f"correlator/{TENANT}") is None
    finally:
        store.close()
    # The deletion is in the system's audit trail, which verifies.
    capsys.readouterr()
    assert cli.main(["audit", "show", keys.SYSTEM_PREFIX]) == 0
    assert f"tenant.delete    {TENANT}" in capsys.readouterr().out
    assert cli.main(["audit", "verify", "--tenant", keys.SYSTEM_PREFIX]) == 0
    # Without --tenant every trail is checked, the system's among them (the exit code
    # speaks for every tenant of the shared test system, so this trail's line is read).
    capsys.readouterr()
    cli.main(["audit", "verify"])
    lines = capsys.readouterr().out.splitlines()
    system = [line.split() for line in lines if line.startswith(f"{keys.SYSTEM_PREFIX} ")]
    assert system and system[0][1] == "intact", lines


def test_a_tenant_of_the_configuration_file_is_not_deleted(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tenant", "delete", "acme", "--yes"]) == 2
    assert "remove it there" in capsys.readouterr().out
    assert vigil.session("acme").get(vigil.api(), timeout=30).status_code == 200


def test_a_deleted_tenant_can_be_made_again_on_purpose(
    vigil: Vigil, command_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tenant", "delete", "reborn", "--yes"]) == 0
    key, _ = make_key(capsys, "create-key", "reborn", "--label", "again")
    assert post_alert(vigil, key)
