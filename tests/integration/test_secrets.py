"""Secrets in a real Redis: stored encrypted, read back, rotated for every tenant by
`vigil keys rotate`, and set from standard input by `vigil secret set`."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import pytest
import redis
from cryptography.fernet import Fernet

from actors.notifiers.channels import build_sender
from actors.notifiers.webhook import WebhookConfig
from alerting.delivery import AttemptKind
from alerting.signature import HEADER
from cli import main as cli
from cluster.errors import SecretError
from cluster.redis_server import EmbeddedRedis
from cluster.secrets import SecretBox, SecretStore, load_keys, rotate_all
from tests.recording_server import RecordingServer
from tests.system import other_database
from tests.unit.actors.test_webhook_delivery import MESSAGE

pytestmark = pytest.mark.integration

DB = 4  # a database of the session's Redis no other test uses


@pytest.fixture
def client(redis_server: EmbeddedRedis) -> redis.Redis:
    return redis.Redis.from_url(other_database(redis_server.url, DB))


def test_secrets_are_stored_encrypted_and_read_back(client: redis.Redis) -> None:
    box = SecretBox([Fernet.generate_key()])
    store = SecretStore(client, "acme", box)
    store.set("slack-url", "https://hooks.example/secret-1")
    raw = client.hget("acme:secrets", "slack-url")
    assert raw is not None and b"secret-1" not in raw
    assert store.get("slack-url") == "https://hooks.example/secret-1"
    assert store.names() == ["slack-url"]
    with pytest.raises(SecretError, match="has no secret 'nope'"):
        store.get("nope")
    with pytest.raises(SecretError, match="is empty"):
        store.set("blank", "")
    assert store.delete("slack-url") and store.names() == []


def test_a_tampered_stored_secret_names_itself_not_its_value(client: redis.Redis) -> None:
    store = SecretStore(client, "acme", SecretBox([Fernet.generate_key()]))
    store.set("token", "xoxb-secret-value")
    client.hset("acme:secrets", "token", b"gAAAAA-not-a-token")
    with pytest.raises(SecretError, match="secret 'token' of tenant 'acme' cannot be decrypted"):
        store.get("token")


def test_rotation_re_encrypts_every_tenants_secrets(client: redis.Redis) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    for tenant in ("acme", "globex"):
        SecretStore(client, tenant, SecretBox([old])).set("hmac", f"{tenant}-hmac")
    assert rotate_all(client, SecretBox([new, old])) == 2
    for tenant in ("acme", "globex"):
        assert SecretStore(client, tenant, SecretBox([new])).get("hmac") == f"{tenant}-hmac"


def test_the_commands_set_list_and_rotate(
    redis_server: EmbeddedRedis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = other_database(redis_server.url, DB)
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("VIGIL_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("routing-key-123\n"))
    assert cli.main(["secret", "set", "acme", "pagerduty"]) == 0
    assert cli.main(["secret", "list", "acme"]) == 0
    out = capsys.readouterr().out
    assert "pagerduty" in out and "routing-key-123" not in out
    first = load_keys(None, tmp_path, create=False)
    assert cli.main(["keys", "rotate"]) == 0
    keys = load_keys(None, tmp_path, create=False)
    assert len(keys) == 2 and keys[1:] == first
    client = redis.Redis.from_url(url)
    assert SecretStore(client, "acme", SecretBox(keys[:1])).get("pagerduty") == "routing-key-123"
    assert "routing-key-123" not in capsys.readouterr().out
    assert cli.main(["secret", "set", "Not A Tenant", "x"]) == 2


async def test_a_sender_is_built_with_its_secrets_decrypted(client: redis.Redis) -> None:
    server = RecordingServer()
    url = await server.start()
    try:
        store = SecretStore(client, "acme", SecretBox([Fernet.generate_key()]))
        store.set("ops-url", f"{url}/hook")
        config = WebhookConfig(url_secret="ops-url", hmac_secret="ops-hmac")
        async with aiohttp.ClientSession() as session:
            with pytest.raises(SecretError, match="has no secret 'ops-hmac'"):
                build_sender(session, config, store)
            store.set("ops-hmac", "shh")
            sender = build_sender(session, config, store)
            assert (await sender(MESSAGE)).kind is AttemptKind.DELIVERED
        (got,) = server.received
        assert got.path == "/hook" and HEADER in got.headers
    finally:
        await server.stop()
