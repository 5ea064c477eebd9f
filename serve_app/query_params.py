"""Reading list filters from URL parameters, with a 422 that names the parameter."""

from __future__ import annotations

from alerting.errors import InvalidMatcher
from alerting.matchers import Matcher, parse_matcher_list
from alerting.query import MAX_PAGE_SIZE
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
