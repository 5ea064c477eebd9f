"""A GraphQL query's cost: each field counts once, what a paged list selects counts
once per item it may return, and a fragment is counted where it is spread."""

from __future__ import annotations

import pytest
from graphql import parse

from serve_app.graphql_cost import MAX_COST, NESTED_LIST, selection_cost


def cost(query: str) -> int:
    document = parse(query)
    fragments = {d.name.value: d for d in document.definitions if hasattr(d, "type_condition")}
    operation = next(d for d in document.definitions if not hasattr(d, "type_condition"))
    return selection_cost(operation.selection_set, fragments, frozenset())  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("{ alertMetrics { received } }", 2),
        ("{ incidents(limit: 10) { total items { id state } } }", 1 + 10 * (1 + 3)),
        ("{ incidents { items { id } } }", 1 + 100 * (1 + 1)),  # the default page
        ("query Q($n: Int!) { incidents(limit: $n) { items { id } } }", 1 + 1000 * 2),
        (
            '{ incident(id: "x") { id members { labels } } }',
            1 + (1 + 1 + NESTED_LIST * 1),
        ),
        (
            "{ incidents(limit: 2) { ...F } } fragment F on IncidentPage { items { id } }",
            1 + 2 * 2,
        ),
    ],
)
def test_the_cost_of_a_query(query: str, expected: int) -> None:
    assert cost(query) == expected


def test_a_page_of_everything_costs_more_than_allowed() -> None:
    query = "{ incidents(limit: 1000) { items { id members { labels } timeline { event } } } }"
    assert cost(query) > MAX_COST
