"""A tenant's channel secrets, decrypted once per change rather than once per send.

The escalator reads the tenant's encrypted hash once per round (one HGETALL) and
decrypts only the tokens it has not seen before. A secret that is set, changed, or
re-encrypted by ``vigil keys rotate`` has a new token, so it is decrypted again with
the keys of that moment: changes apply at the next round, without a restart. The
plaintexts stay in the escalator's memory only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from redis import asyncio as aioredis

from cluster import keys
from cluster.errors import SecretError
from cluster.secrets import box_for
from cluster.settings import Settings


class SecretSnapshot:
    """The secrets as read at one moment; ``get`` / ``names`` as ``SecretStore`` has."""

    def __init__(self, tenant: str, values: Mapping[str, str], problems: Mapping[str, str]):
        self.tenant = tenant
        self._values = dict(values)
        self._problems = dict(problems)  # name → why it cannot be read (never its value)

    def get(self, name: str) -> str:
        if name in self._problems:
            raise SecretError(self._problems[name])
        if name not in self._values:
            raise SecretError(f"tenant {self.tenant!r} has no secret {name!r}")
        return self._values[name]

    def names(self) -> list[str]:
        return sorted(self._values.keys() | self._problems.keys())

    def __repr__(self) -> str:
        return f"SecretSnapshot({self.tenant!r}, names={self.names()})"  # never values


class SecretCache:
    """Snapshots of one tenant's secrets, decrypting only what changed."""

    def __init__(self, client: aioredis.Redis, tenant: str, settings: Settings) -> None:
        self.client = client
        self.tenant = tenant
        self.settings = settings
        self._plain: dict[bytes, str | SecretError] = {}  # token → plaintext, or why not

    async def snapshot(self) -> SecretSnapshot:
        stored: dict[bytes, bytes] = await self.client.hgetall(keys.secrets(self.tenant))  # type: ignore[assignment]
        # New tokens, and those that failed before (a key may have been added since).
        fresh = {n: t for n, t in stored.items() if not isinstance(self._plain.get(t), str)}
        if fresh:
            self._plain.update(await asyncio.to_thread(self._decrypt, fresh))
        # Forget tokens no longer stored (changed, deleted or rotated).
        self._plain = {t: self._plain[t] for t in stored.values()}
        values: dict[str, str] = {}
        problems: dict[str, str] = {}
        for name, token in stored.items():
            plain = self._plain[token]
            if isinstance(plain, SecretError):
                problems[name.decode()] = str(plain)
            else:
                values[name.decode()] = plain
        return SecretSnapshot(self.tenant, values, problems)

    def _decrypt(self, tokens: dict[bytes, bytes]) -> dict[bytes, str | SecretError]:
        """Decrypt new tokens with the keys of now (the key file is read here, so a
        rotation's new key is used without a restart)."""
        box = box_for(self.settings)
        found: dict[bytes, str | SecretError] = {}
        for name, token in tokens.items():
            what = f"secret {name.decode()!r} of tenant {self.tenant!r}"
            try:
                found[token] = box.decrypt(token.decode(), what)
            except SecretError as exc:
                found[token] = exc
        return found
