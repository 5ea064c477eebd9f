"""Reading list filters from URL parameters, with a 422 that names the parameter."""

from __future__ import annotations

from alerting.alert import AlertStatus
from alerting.errors import InvalidMatcher
from alerting.incident import IncidentState
from alerting.incident_query import IncidentQuery
from alerting.matchers import Matcher, parse_matcher_list
from alerting.query import MAX_PAGE_SIZE, AlertQuery
from alerting.severity import Severity
from serve_app.problems import ApiError


def bad_param(field: str, message: str) -> ApiError:
    """A 422 naming the URL parameter that is wrong."""
    return ApiError(422, "invalid_request", message, [{"field": field, "message": message}])


def severities_param(values: list[str]) -> frozenset[Severity]:
    """``severity=...`` parameters as severities."""
    try:
        return frozenset(Severity.parse(s) for s in values)
    except ValueError as exc:
        raise bad_param("severity", str(exc)) from None


def filter_param(values: list[str]) -> tuple[Matcher, ...]:
    """``filter=...`` parameters (label matchers like ``service="db"``) as matchers."""
    try:
        return tuple(parse_matcher_list(values))
    except InvalidMatcher as exc:
        raise bad_param("filter", exc.message) from None


def limit_param(limit: int) -> int:
    """A page size within bounds."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise bad_param("limit", f"limit must be between 1 and {MAX_PAGE_SIZE}")
    return limit


def alert_query(
    statuses: list[str], severities: list[str], filters: list[str], limit: int, cursor: str | None
) -> AlertQuery:
    """The alert list query from its parameters (422 naming the parameter that is wrong)."""
    try:
        status_set = frozenset(AlertStatus(s) for s in statuses)
    except ValueError:
        message = f"status must be one of {[s.value for s in AlertStatus]}"
        raise bad_param("status", message) from None
    severity_set = severities_param(severities)
    matchers = filter_param(filters)
    try:
        return AlertQuery(status_set, severity_set, matchers, limit_param(limit), cursor)
    except ValueError as exc:
        raise bad_param("cursor", str(exc)) from None


def incident_query(
    states: list[str],
    severities: list[str],
    receivers: list[str],
    filters: list[str],
    limit: int,
    cursor: str | None,
) -> IncidentQuery:
    """The incident list query from its parameters (422 naming the one that is wrong)."""
    try:
        state_set = frozenset(IncidentState(s) for s in states)
    except ValueError:
        allowed = [s.value for s in IncidentState]
        raise bad_param("state", f"state must be one of {allowed}") from None
    try:
        return IncidentQuery(
            states=state_set,
            severities=severities_param(severities),
            receivers=frozenset(receivers),
            matchers=filter_param(filters),
            limit=limit_param(limit),
            cursor=cursor,
        )
    except ValueError as exc:
        raise bad_param("cursor", str(exc)) from None
