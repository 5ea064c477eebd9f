"""Selecting incidents: filters by state, severity, receiver and labels, and cursor paging.

Pages are ordered newest first (by creation time, then id) and continue from an
opaque cursor, as alert listings do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alerting.incident import Incident, IncidentState
from alerting.matchers import Matcher, matches_all
from alerting.query import DEFAULT_PAGE_SIZE, Page, SortKey, check_page, cut_page
from alerting.severity import Severity


@dataclass(frozen=True)
class IncidentQuery:
    """Which incidents to return; empty sets mean "any".

    ``matchers`` select incidents with at least one member whose labels satisfy all
    of them.
    """

    states: frozenset[IncidentState] = frozenset()
    severities: frozenset[Severity] = frozenset()
    receivers: frozenset[str] = frozenset()
    matchers: tuple[Matcher, ...] = ()
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None

    def __post_init__(self) -> None:
        check_page(self.limit, self.cursor)

    def selects(self, incident: Incident) -> bool:
        """Whether the incident passes every filter (the cursor aside)."""
        return (
            (not self.states or incident.state in self.states)
            and (not self.severities or incident.severity in self.severities)
            and (not self.receivers or incident.receiver in self.receivers)
            and (
                not self.matchers
                or any(matches_all(self.matchers, m.labels) for m in incident.members.values())
            )
        )


def incident_sort_key(incident: Incident) -> SortKey:
    """Position in the newest-first order: (created in µs, id)."""
    return (int(incident.created_at.timestamp() * 1_000_000), incident.id)


def select_incidents(incidents: Iterable[Incident], query: IncidentQuery) -> Page[Incident]:
    """Apply the query's filters, order newest first, and cut one page after its cursor."""
    items, total, next_cursor = cut_page(
        (i for i in incidents if query.selects(i)), incident_sort_key, query.limit, query.cursor
    )
    return Page(items=items, total=total, next_cursor=next_cursor)
