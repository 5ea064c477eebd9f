"""Prometheus label matchers: parsing and matching."""

import pytest

from alerting.errors import InvalidMatcher
from alerting.matchers import Matcher, MatchOp, matches_all, parse_matchers

# (text, [(name, op, value)], what the case proves)
PARSE_CASES = [
    ('{a="b", c=~"d.*"}', [("a", "=", "b"), ("c", "=~", "d.*")]),  # the canonical form
    ('a="b"', [("a", "=", "b")]),  # braces are optional
    ("alertname=Foo", [("alertname", "=", "Foo")]),  # amtool's bare value
    ('{a!="b",c!~"x|y"}', [("a", "!=", "b"), ("c", "!~", "x|y")]),  # negations, no spaces
    ('{a="with \\"quote\\" and, comma"}', [("a", "=", 'with "quote" and, comma')]),  # escapes
    ("{a='single'}", [("a", "=", "single")]),  # single quotes as Prometheus allows
    ("{}", []),  # empty selector
    ('{a="b",}', [("a", "=", "b")]),  # trailing comma as in PromQL
    ('a = "spaced"', [("a", "=", "spaced")]),  # whitespace around the operator
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse(text: str, expected: list[tuple[str, str, str]]) -> None:
    got = [(m.name, m.op.value, m.value) for m in parse_matchers(text)]
    assert got == expected


@pytest.mark.parametrize(
    "text",
    [
        '{a="b"',  # missing closing brace
        '{1a="b"}',  # label names cannot start with a digit
        '{a~"b"}',  # unknown operator
        '{a="unterminated}',  # open quote
        '{a=~"("}',  # regex that does not compile
        '{a="b" c="d"}',  # missing comma between matchers
    ],
)
def test_parse_errors(text: str) -> None:
    with pytest.raises(InvalidMatcher):
        parse_matchers(text)


# (matcher, labels, expected, what the case proves)
MATCH_CASES = [
    (("env", "=", "prod"), {"env": "prod"}, True),  # equality
    (("env", "=", "prod"), {"env": "production"}, False),  # equality is exact
    (("env", "!=", "prod"), {}, True),  # absent label is "", which is not "prod"
    (("env", "=", ""), {}, True),  # absent label equals the empty string
    (("env", "=~", "prod"), {"env": "production"}, False),  # regexes are anchored at both ends
    (("env", "=~", "prod.*"), {"env": "production"}, True),  # explicit wildcard matches
    (("env", "=~", "a|b"), {"env": "b"}, True),  # alternation is grouped before anchoring
    (("env", "=~", "a|b"), {"env": "ab"}, False),  # ...so "a|b" does not match "ab"
    (("env", "!~", "prod|stage"), {"env": "dev"}, True),  # negative regex
    (("env", "!~", ".+"), {}, True),  # absent label: "" does not match ".+"
]


@pytest.mark.parametrize(("spec", "labels", "expected"), MATCH_CASES)
def test_matches(spec: tuple[str, str, str], labels: dict[str, str], expected: bool) -> None:
    assert Matcher.create(*spec).matches(labels) is expected


def test_matches_all_requires_every_matcher() -> None:
    ms = parse_matchers('{service="db", severity=~"critical|high"}')
    assert matches_all(ms, {"service": "db", "severity": "high"})
    assert not matches_all(ms, {"service": "db", "severity": "info"})
    assert matches_all([], {"anything": "goes"})  # no matchers select everything


def test_str_round_trips() -> None:
    # Printing a matcher gives text that parses back to the same matcher.
    for m in [
        Matcher.create("a", MatchOp.EQUAL, 'x"y\\z'),
        Matcher.create("b", MatchOp.REGEX, "web-[0-9]+"),
    ]:
        assert parse_matchers(str(m)) == [m]
