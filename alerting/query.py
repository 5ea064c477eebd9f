"""Selecting alerts: filters by state, severity and label matchers, and cursor paging.

Pages are ordered newest first (by ``first_seen``, then id) and continue from an
opaque cursor, so alerts arriving while a client pages through do not shift or
repeat the pages it has not read yet.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from alerting.alert import Alert, AlertStatus
from alerting.matchers import Matcher, matches_all
from alerting.severity import Severity

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class AlertQuery:
    """Which alerts to return; empty sets mean "any"."""

    statuses: frozenset[AlertStatus] = frozenset()
    severities: frozenset[Severity] = frozenset()
    matchers: tuple[Matcher, ...] = ()
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None

    def __post_init__(self) -> None:
        check_page(self.limit, self.cursor)

    def selects(self, alert: Alert) -> bool:
        """Whether the alert passes every filter (the cursor aside)."""
        return (
            (not self.statuses or alert.status in self.statuses)
            and (not self.severities or alert.severity in self.severities)
            and matches_all(self.matchers, alert.labels)
        )


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results, the number of matches in all, and the cursor to the next page."""

    items: list[T] = field(default_factory=list)
    total: int = 0
    next_cursor: str | None = None


SortKey = tuple[int, str]


def sort_key(alert: Alert) -> SortKey:
    """Position of an alert in the newest-first order: (first seen in µs, id)."""
    return (int(alert.first_seen.timestamp() * 1_000_000), alert.id)


def check_page(limit: int, cursor: str | None) -> None:
    """``ValueError`` for a page size out of bounds or a cursor not made by us: a query
    fails when it is built, not half-way through paging."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}, got {limit}")
    if cursor is not None:
        decode_cursor(cursor)


def encode_cursor(key: SortKey) -> str:
    """An opaque, URL-safe cursor pointing just after ``key``."""
    raw = f"{key[0]}:{key[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> SortKey:
    """The sort key inside a cursor; ``ValueError`` if it was not made by ``encode_cursor``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        micros, _, alert_id = base64.urlsafe_b64decode(padded).decode().partition(":")
        if not alert_id:
            raise ValueError
        return (int(micros), alert_id)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"invalid cursor {cursor!r}") from None


def cut_page(
    matching: Iterable[T], key: Callable[[T], SortKey], limit: int, cursor: str | None
) -> tuple[list[T], int, str | None]:
    """Order ``matching`` newest first by ``key`` and cut one page after ``cursor``.

    Returns the page, the number of matches in all, and the cursor of the next page.
    """
    ordered = sorted(matching, key=key, reverse=True)
    start = 0
    if cursor is not None:
        after = decode_cursor(cursor)
        start = next((i for i, item in enumerate(ordered) if key(item) < after), len(ordered))
    items = ordered[start : start + limit]
    more = start + limit < len(ordered)
    next_cursor = encode_cursor(key(items[-1])) if more and items else None
    return items, len(ordered), next_cursor


def select(alerts: Iterable[Alert], query: AlertQuery) -> Page[Alert]:
    """Apply the query's filters, order newest first, and cut one page after its cursor."""
    items, total, next_cursor = cut_page(
        (a for a in alerts if query.selects(a)), sort_key, query.limit, query.cursor
    )
    return Page(items=items, total=total, next_cursor=next_cursor)
