"""The wall clock, in one place: actors take a ``Clock`` and read the time only through
it, so a test can drive their time; ``utc_now`` is the real one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""A source of "now" (UTC)."""


def utc_now() -> datetime:
    """The wall clock in UTC."""
    return datetime.now(UTC)
