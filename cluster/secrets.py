"""Channel secrets (webhook URLs, bot tokens, routing keys, HMAC secrets), encrypted at
rest with ``cryptography``'s ``MultiFernet``.

Keys come from ``VIGIL_ENCRYPTION_KEYS`` (comma-separated Fernet keys, the first is
the primary one that encrypts; the others only decrypt) or, for the embedded default,
from ``<data dir>/encryption.keys``, created on first use with owner-only permissions.

Each tenant's secrets are one Redis hash, ``<tenant>:secrets``, name → Fernet token.
``rotate`` re-encrypts every stored secret under the primary key, so after ``vigil keys
rotate`` the older keys can be dropped. Values never appear in reprs, logs or error
messages: a failure says which secret and why, not what it holds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import redis
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from cluster import keys
from cluster.errors import SecretError
from cluster.settings import Settings

KEY_FILE = "encryption.keys"


class SecretBox:
    """Encrypts with the primary key, decrypts with any of the keys."""

    def __init__(self, keys_: Sequence[bytes]) -> None:
        if not keys_:
            raise SecretError("no encryption key")
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys_])
        except (ValueError, TypeError):
            raise SecretError(
                "an encryption key is not a Fernet key (32 url-safe base64-encoded bytes; "
                "make one with: vigil keys generate)"
            ) from None
        self.key_count = len(keys_)

    def __repr__(self) -> str:
        return f"SecretBox({self.key_count} keys)"

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str, name: str = "a secret") -> str:
        """The plain value; ``SecretError`` names the secret when it cannot be read."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            raise SecretError(
                f"{name} cannot be decrypted: it was tampered with, or none of the "
                "configured encryption keys made it"
            ) from None

    def rotate(self, token: str, name: str = "a secret") -> str:
        """The same secret encrypted under the primary key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except (InvalidToken, ValueError):
            raise SecretError(
                f"{name} cannot be re-encrypted: no configured key reads it"
            ) from None


def parse_keys(text: str) -> list[bytes]:
    """Keys from ``VIGIL_ENCRYPTION_KEYS`` or the key file: comma- or line-separated."""
    return [k.strip().encode() for k in text.replace("\n", ",").split(",") if k.strip()]


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def load_keys(env_keys: str | None, data_dir: Path, create: bool = True) -> list[bytes]:
    """The keys to use: the environment's if set, else the data dir's key file (made
    with one new key when missing and ``create``)."""
    if env_keys:
        return parse_keys(env_keys)
    path = key_file(data_dir)
    if not path.exists():
        if not create:
            raise SecretError(f"no encryption keys: set VIGIL_ENCRYPTION_KEYS or create {path}")
        write_key_file(path, [Fernet.generate_key()])
    return parse_keys(path.read_text())


def write_key_file(path: Path, keys_: Sequence[bytes]) -> None:
    """Write the keys (primary first), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(k.decode() for k in keys_) + "\n")
    os.replace(temporary, path)  # a crash leaves the old file or the new one, whole


def box_for(settings: Settings, create: bool = True) -> SecretBox:
    """The secret box for these settings (their keys, or the data dir's key file)."""
    env = settings.encryption_keys.get_secret_value() if settings.encryption_keys else None
    return SecretBox(load_keys(env, settings.data_dir, create))


class SecretReader(Protocol):
    """What reads a tenant's secrets by name: the store, or a snapshot of it."""

    def get(self, name: str) -> str: ...

    def names(self) -> list[str]: ...


class SecretStore:
    """One tenant's encrypted secrets in Redis."""

    def __init__(self, client: redis.Redis, tenant: str, box: SecretBox) -> None:
        self.client = client
        self.tenant = tenant
        self.box = box
        self.key = keys.secrets(tenant)

    def set(self, name: str, value: str) -> None:
        if not value:
            raise SecretError(f"secret {name!r} is empty")
        self.client.hset(self.key, name, self.box.encrypt(value))

    def get(self, name: str) -> str:
        token = self.client.hget(self.key, name)
        if token is None:
            raise SecretError(f"tenant {self.tenant!r} has no secret {name!r}")
        return self.box.decrypt(_text(token), f"secret {name!r} of tenant {self.tenant!r}")

    def names(self) -> list[str]:
        return sorted(_text(n) for n in self.client.hkeys(self.key))

    def delete(self, name: str) -> bool:
        return bool(self.client.hdel(self.key, name))


def rotate_all(client: redis.Redis, box: SecretBox) -> int:
    """Re-encrypt every tenant's secrets under the primary key, one tenant's hash per
    transaction (retried if a secret is set meanwhile, so no new value is overwritten
    by an old one); return how many secrets were rewritten. A tenant with a secret no
    key reads is left as it was, and the error names that secret."""
    count = 0
    for key in client.scan_iter(match=keys.secrets("*"), count=1000):
        tenant = _text(key).rsplit(":", 1)[0]

        def rewrite(pipe: Any, key: bytes = key, tenant: str = tenant) -> int:
            stored = pipe.hgetall(key)
            fresh = {
                _text(n): box.rotate(_text(t), f"secret {_text(n)!r} of tenant {tenant!r}")
                for n, t in stored.items()
            }
            pipe.multi()
            if fresh:
                pipe.hset(key, mapping=fresh)
            return len(fresh)

        apply: Any = rewrite  # redis-py types the callable as returning None
        rewritten: Any = client.transaction(apply, key, value_from_callable=True)
        count += int(rewritten)
    return count


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
