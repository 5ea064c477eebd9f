"""Secrets encrypted with MultiFernet: round trip, rotation, clear errors that never
show a secret, and the key file made owner-only on first use."""

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from cluster.errors import SecretError
from cluster.secrets import SecretBox, load_keys, parse_keys
from cluster.settings import Settings

SECRET = "https://hooks.slack.com/services/T000/B000/very-secret-token"


def test_a_secret_round_trips_and_its_token_does_not_show_it() -> None:
    box = SecretBox([Fernet.generate_key()])
    token = box.encrypt(SECRET)
    assert SECRET not in token and "very-secret" not in token
    assert box.decrypt(token) == SECRET
    assert repr(box) == "SecretBox(1 keys)"


def test_a_tampered_token_is_a_clear_error_without_the_secret() -> None:
    box = SecretBox([Fernet.generate_key()])
    token = box.encrypt(SECRET)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(SecretError, match="slack-url cannot be decrypted: it was tampered") as info:
        box.decrypt(tampered, "slack-url")
    assert SECRET not in str(info.value)
    with pytest.raises(SecretError):
        SecretBox([Fernet.generate_key()]).decrypt(token)  # another key


def test_rotation_keeps_old_secrets_readable_then_frees_the_old_key() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    token = SecretBox([old]).encrypt(SECRET)
    both = SecretBox([new, old])
    assert both.decrypt(token) == SECRET  # readable while both keys are configured
    rotated = both.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == SECRET  # the old key can go
    with pytest.raises(SecretError, match="cannot be re-encrypted"):
        SecretBox([Fernet.generate_key()]).rotate(token)


def test_a_key_that_is_not_a_fernet_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(SecretError, match="not a Fernet key") as info:
        SecretBox([b"hunter2-hunter2"])
    assert "hunter2" not in str(info.value)
    with pytest.raises(SecretError, match="no encryption key"):
        SecretBox([])


def test_keys_come_from_the_environment_first_then_the_key_file(tmp_path: Path) -> None:
    a, b = Fernet.generate_key(), Fernet.generate_key()
    assert load_keys(f"{a.decode()}, {b.decode()}", tmp_path) == [a, b]
    assert not (tmp_path / "encryption.keys").exists()
    with pytest.raises(SecretError, match="no encryption keys"):
        load_keys(None, tmp_path, create=False)
    made = load_keys(None, tmp_path)
    path = tmp_path / "encryption.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keys(None, tmp_path) == made  # made once, then reused
    assert parse_keys("k1\nk2,\n k3 \n") == [b"k1", b"k2", b"k3"]


def test_settings_never_show_the_keys() -> None:
    key = Fernet.generate_key().decode()
    settings = Settings.from_env({"VIGIL_ENCRYPTION_KEYS": key})
    assert key not in repr(settings) and key not in str(settings.model_dump())
    assert settings.encryption_keys is not None
    assert settings.encryption_keys.get_secret_value() == key
    assert Settings.from_env({"VIGIL_ENCRYPTION_KEYS": " "}).encryption_keys is None
