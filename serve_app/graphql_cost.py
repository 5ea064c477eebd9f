"""A GraphQL query's cost: how many objects it could make Vigil return, refused above
``MAX_COST`` before anything runs.

Depth and token limits bound a query's text; they do not bound its work: a shallow
query can still ask for a thousand incidents, each with every member. The cost counts
each selected field once, and multiplies what is selected under a list field by the
most items that list can return: its ``limit`` argument (a variable counts as the
largest allowed), ``DEFAULT_PAGE_SIZE`` without one, or ``NESTED_LIST`` for lists
that take no limit (an incident's members, a timeline).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
)

from alerting.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_COST = 100_000
PAGED_FIELDS = frozenset({"alerts", "incidents"})  # lists that take ``limit``
NESTED_LIST = 50  # the items counted for a list without a limit


def _limit(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value == "limit":
            if isinstance(argument.value, IntValueNode):
                return max(1, min(int(argument.value.value), MAX_PAGE_SIZE))
            if isinstance(argument.value, VariableNode):
                return MAX_PAGE_SIZE
    return DEFAULT_PAGE_SIZE


def selection_cost(
    selections: SelectionSetNode | None, fragments: dict[str, Any], seen: frozenset[str]
) -> int:
    """What a selection set costs (fragments expanded; a fragment cycle counts once)."""
    if selections is None:
        return 0
    total = 0
    for node in selections.selections:
        if isinstance(node, FieldNode):
            inner = selection_cost(node.selection_set, fragments, seen)
            if node.selection_set is None:
                total += 1
            elif node.name.value in PAGED_FIELDS:
                total += 1 + _limit(node) * inner
            elif node.name.value in ("items",):
                total += 1 + inner  # the page's items: counted by the paged field
            else:
                total += 1 + NESTED_LIST * inner if _is_list(node) else 1 + inner
        elif isinstance(node, InlineFragmentNode):
            total += selection_cost(node.selection_set, fragments, seen)
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                total += selection_cost(fragment.selection_set, fragments, seen | {name})
    return total


LIST_FIELDS = frozenset(
    {"members", "timeline", "matchers", "levels", "targets", "layers", "silences"}
)


def _is_list(node: FieldNode) -> bool:
    return node.name.value in LIST_FIELDS


class CostLimit(ValidationRule):
    """Refuses an operation whose cost is over ``MAX_COST``."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        definitions = self.context.document.definitions
        fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
        cost = selection_cost(node.selection_set, fragments, frozenset())
        if cost > MAX_COST:
            self.report_error(
                GraphQLError(
                    f"the query could return {cost:,} objects, more than {MAX_COST:,}: "
                    "ask for fewer fields or smaller pages",
                    node,
                    extensions={"code": "query_too_costly", "status": 400},
                )
            )
