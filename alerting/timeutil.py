"""UTC datetime helpers shared by the domain models (no clock reads here)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A datetime field normalised to UTC on validation."""


def from_epoch(seconds: float) -> datetime:
    """The UTC datetime of a Unix timestamp (how persisted times are stored)."""
    return datetime.fromtimestamp(seconds, UTC)
