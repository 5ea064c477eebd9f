"""Group keys: Alertmanager's route keys and label-set strings, character for character."""

import pytest

from alerting.grouping import go_quote, group_key, label_set_string
from alerting.routing import RouteSpec, build_route

ROOT = build_route(
    RouteSpec.model_validate(
        {
            "receiver": "default",
            "group_by": ["alertname", "cluster"],
            "routes": [
                {
                    "matchers": ['team="db"', 'env=~"prod|stage"'],
                    "receiver": "db",
                    "routes": [{"match": {"severity": "critical"}, "receiver": "db-pager"}],
                },
                {"matchers": ['service!="web"'], "receiver": "all", "group_by": ["..."]},
                {"match_re": {"team": "ops|sre"}, "receiver": "ops"},
            ],
        }
    )
)


@pytest.mark.parametrize(
    ("path", "labels", "expected"),
    [
        # The root has no matchers: "{}"; absent group_by labels are left out.
        ("", {"alertname": "A", "x": "1"}, '{}:{alertname="A"}'),
        # A child's key appends its matchers sorted by name: env before team.
        (
            "0",
            {"alertname": "A", "cluster": "eu", "team": "db", "env": "prod"},
            '{}/{env=~"prod|stage",team="db"}:{alertname="A", cluster="eu"}',
        ),
        # A grandchild carries its parents' matchers too; old `match` reads as `=`.
        (
            "0.0",
            {"alertname": "A", "severity": "critical", "team": "db", "env": "prod"},
            '{}/{env=~"prod|stage",team="db"}/{severity="critical"}:{alertname="A"}',
        ),
        # group_by '...' keys by every label.
        ("1", {"b": "2", "a": "1"}, '{}/{service!="web"}:{a="1", b="2"}'),
        # An old-style match_re shows in the key anchored, as Alertmanager stores it.
        ("2", {"alertname": "A"}, '{}/{team=~"^(?:ops|sre)$"}:{alertname="A"}'),
    ],
)
def test_group_key_matches_alertmanager_format(
    path: str, labels: dict[str, str], expected: str
) -> None:
    route = next(r for r in ROOT.walk() if r.path == path)
    assert group_key(route, labels) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", '"plain"'),  # nothing to escape
        ('say "hi"', '"say \\"hi\\""'),  # quotes are escaped
        ("a\\b", '"a\\\\b"'),  # backslashes are doubled
        ("line\nbreak\t", '"line\\nbreak\\t"'),  # control characters with short escapes
        ("\x01", '"\\x01"'),  # other control characters in hex
        ("héllo ☃", '"héllo ☃"'),  # printable unicode stays as it is
    ],
)
def test_go_quote(value: str, expected: str) -> None:
    assert go_quote(value) == expected


def test_label_set_string_sorts_the_formatted_pairs_like_go() -> None:
    # 'a="x"' sorts before 'a_b="y"' because '=' < '_', whatever the names alone say.
    assert label_set_string({"a_b": "y", "a": "x"}) == '{a="x", a_b="y"}'
