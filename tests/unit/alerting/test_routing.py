"""The routing tree: matching order, ``continue``, inheritance and config errors."""

from datetime import timedelta

import pytest

from alerting.errors import InvalidConfig
from alerting.routing import RouteSpec, build_route, receivers_for

TREE = RouteSpec.model_validate(
    {
        "receiver": "default",
        "group_by": ["alertname"],
        "group_wait": "10s",
        "routes": [
            {"matchers": ['service=~"db|cache"'], "receiver": "db", "continue": True},
            {
                "match": {"severity": "critical"},
                "receiver": "pager",
                "group_by": ["..."],
                "routes": [
                    {"match_re": {"team": "sre.*"}, "receiver": "sre-pager"},
                    {"matchers": ['env!="prod"'], "receiver": "dev-pager", "repeat_interval": "1h"},
                ],
            },
            {"matchers": ["team=ops", 'env="prod"'], "receiver": "ops"},
        ],
    }
)
ROOT = build_route(TREE)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # No child matches: the root's receiver.
        ({"alertname": "X"}, ["default"]),
        # continue: true on the first child lets the search go on to the second.
        ({"service": "db", "severity": "critical", "env": "prod"}, ["db", "pager"]),
        # A match without continue stops at the first matching child.
        ({"severity": "critical", "team": "ops", "env": "prod"}, ["pager"]),
        # Nested: the first matching grandchild wins over its parent.
        ({"severity": "critical", "team": "sre-db"}, ["sre-pager"]),
        # Regex is anchored: "xsre" does not match "sre.*"; env absent != "prod" holds.
        ({"severity": "critical", "team": "xsre"}, ["dev-pager"]),
        # Regex alternation on the first child only.
        ({"service": "cache"}, ["db"]),
        # Anchored regex: "dbx" is not "db|cache".
        ({"service": "dbx"}, ["default"]),
        # Several matchers in one route must all hold.
        ({"team": "ops", "env": "staging"}, ["default"]),
        ({"team": "ops", "env": "prod"}, ["ops"]),
    ],
)
def test_receivers_follow_alertmanager_order(labels: dict[str, str], expected: list[str]) -> None:
    assert receivers_for(ROOT, labels) == expected


def test_options_are_inherited_down_the_tree() -> None:
    pager = ROOT.routes[1]
    dev = pager.routes[1]
    # group_wait set at the root reaches the grandchild; repeat_interval is its own.
    assert dev.group_wait == timedelta(seconds=10)
    assert dev.repeat_interval == timedelta(hours=1)
    # '...' means every label; it is inherited as such.
    assert pager.group_by is None and dev.group_by is None
    assert dev.group_labels({"a": "1", "b": "2"}) == {"a": "1", "b": "2"}
    # Defaults where nobody set a value.
    assert ROOT.group_interval == timedelta(minutes=5)
    assert ROOT.routes[0].group_by == ("alertname",)
    assert ROOT.routes[0].group_labels({"alertname": "A", "x": "y"}) == {"alertname": "A"}
    assert dev.path == "1.1"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        # The root must name a receiver ...
        ({}, "root route must specify a default receiver"),
        # ... must not filter ...
        ({"receiver": "a", "match": {"x": "y"}}, "root route must not have any matchers"),
        # ... and cannot continue.
        ({"receiver": "a", "continue": True}, "cannot have continue in root route"),
        # '...' cannot be mixed with label names.
        ({"receiver": "a", "group_by": ["...", "x"]}, "wildcard group_by"),
        # Label names in group_by are checked.
        ({"receiver": "a", "group_by": ["bad-name"]}, "invalid label name"),
        # A bad regex in a child names the route.
        ({"receiver": "a", "routes": [{"matchers": ['x=~"("']}]}, "route.0: invalid regex"),
        # Zero intervals would notify in a loop.
        ({"receiver": "a", "repeat_interval": "0s"}, "repeat_interval: cannot be zero"),
    ],
)
def test_bad_trees_are_refused_with_their_place(spec: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidConfig, match=message.replace("(", r"\(").replace(".", r"\.")):
        build_route(RouteSpec.model_validate(spec))


def test_bad_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid duration"):
        RouteSpec.model_validate({"receiver": "a", "group_wait": "5 minutes"})
