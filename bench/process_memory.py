"""Resident memory of the processes a benchmark measures, read from ``/proc``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


def rss_bytes(pid: int) -> int:
    """Resident memory of one process, from ``/proc``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def processes() -> Iterator[tuple[Path, str]]:
    """Every process's ``/proc`` directory and command line (arguments space-separated);
    processes that end while being read are left out."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                yield entry, (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def pids_matching(prefixes: tuple[str, ...]) -> dict[int, str]:
    """Processes whose command line starts with one of ``prefixes`` (Ray sets actor titles)."""
    found = {}
    for entry, cmdline in processes():
        for prefix in prefixes:
            if cmdline.startswith(prefix) or f"/{prefix}" in cmdline.split(" ")[0]:
                found[int(entry.name)] = prefix
    return found


def total_rss(pids: dict[int, str]) -> dict[str, int]:
    by_kind: dict[str, int] = {}
    for pid, kind in pids.items():
        with contextlib.suppress(OSError):  # the process ended meanwhile
            by_kind[kind] = by_kind.get(kind, 0) + rss_bytes(pid)
    return by_kind
