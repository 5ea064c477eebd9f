"""A random secret kept in a file only its owner can read, made once and then reused."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def ensure_secret_file(path: Path, nbytes: int) -> str:
    """The secret in ``path``, generating ``nbytes`` random bytes (as hex) on first use.

    Created with ``O_EXCL`` and mode 0600 in one call: two starts at once cannot both
    write it, and it is never readable by others, not even for an instant.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(nbytes))
    return path.read_text().strip()
