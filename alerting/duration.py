"""Prometheus durations (``30s``, ``1h30m``, ``1d``) as used in ``alertmanager.yml``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS_MS = {
    "y": 365 * 24 * 3600 * 1000,
    "w": 7 * 24 * 3600 * 1000,
    "d": 24 * 3600 * 1000,
    "h": 3600 * 1000,
    "m": 60 * 1000,
    "s": 1000,
    "ms": 1,
}
# Units must appear largest first and at most once each, as Prometheus requires.
_DURATION = re.compile(
    r"(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?"
)
_ORDER = ("y", "w", "d", "h", "m", "s", "ms")


def parse_duration(text: str) -> timedelta:
    """Parse a Prometheus duration; ``ValueError`` names the text that is not one."""
    if text == "0":
        return timedelta(0)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(f"not a valid duration string: {text!r} (e.g. 30s, 5m, 1h30m, 1d)")
    total_ms = sum(int(n) * _UNITS_MS[u] for n, u in zip(match.groups(), _ORDER, strict=True) if n)
    return timedelta(milliseconds=total_ms)


def format_duration(value: timedelta) -> str:
    """The shortest Prometheus spelling of a duration (``timedelta(minutes=90)`` → ``1h30m``)."""
    ms = int(value.total_seconds() * 1000)
    if ms == 0:
        return "0s"
    parts = []
    for unit in _ORDER:
        count, ms = divmod(ms, _UNITS_MS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def positive_duration(value: str) -> str:
    """``value`` if it is a duration longer than 0s (a pydantic field validator)."""
    if parse_duration(value).total_seconds() <= 0:
        raise ValueError("must be longer than 0s")
    return value
