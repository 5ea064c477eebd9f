"""Tenants' regexes on RE2: Prometheus's anchored semantics, Go's syntax, bounded."""

from __future__ import annotations

import pickle

import pytest

from alerting.errors import InvalidMatcher
from alerting.matchers import MAX_MATCHERS, parse_matcher_list
from alerting.user_regex import MAX_REGEX_LENGTH, UserRegex


@pytest.mark.parametrize(
    "pattern, value, matches",
    [
        ("prod", "production", False),  # anchored at both ends
        ("prod.*", "production", True),
        ("a|b", "ab", False),  # alternation grouped before anchoring
        ("a.b", "a\nb", False),  # "." does not match a newline, as in Go
        ("(?s)a.b", "a\nb", True),
        (r"\d+", "١٢", False),  # \d is ASCII only, as in Go (Python's re: Unicode digits)
        (r"\d+", "12", True),
        ("(a+)+b", "a" * 40, False),  # exponential for a backtracking engine: instant here
        ("(?i)CRIT.*", "critical", True),
        ("", "", True),
    ],
)
def test_semantics(pattern: str, value: str, matches: bool) -> None:
    regex = UserRegex(pattern)
    assert regex.fullmatch(value) is matches
    assert regex.fullmatch(value) is matches  # and again, from the memo


@pytest.mark.parametrize(
    "pattern, reason",
    [
        ("x" * (MAX_REGEX_LENGTH + 1), "at most 1024"),
        ("(a{1000}){1000}", "invalid regex"),
        ("(?=a)", "invalid regex"),
        (r"(a)\1", "invalid regex"),
        ("(", "invalid regex"),
    ],
)
def test_refused(pattern: str, reason: str) -> None:
    with pytest.raises(InvalidMatcher, match=reason):
        UserRegex(pattern, label="probe")


def test_memo_stays_small_and_right() -> None:
    regex = UserRegex("v[0-9]+")
    for i in range(1000):
        assert regex.fullmatch(f"v{i}")
        assert not regex.fullmatch(f"x{i}")
    assert len(regex._memo) <= 64
    long_value = "v" + "1" * 500
    assert regex.fullmatch(long_value) and long_value not in regex._memo


def test_it_pickles_by_recompiling() -> None:
    copy = pickle.loads(pickle.dumps(UserRegex("db-.*")))
    assert copy.pattern == "db-.*" and copy.fullmatch("db-1")


def test_matcher_lists_are_bounded() -> None:
    fine = [f'l{i}="x"' for i in range(MAX_MATCHERS)]
    assert len(parse_matcher_list(fine)) == MAX_MATCHERS
    with pytest.raises(InvalidMatcher, match="at most 64"):
        parse_matcher_list([*fine, 'one="more"'])
