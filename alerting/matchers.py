"""Label matchers (``=``, ``!=``, ``=~``, ``!~``) and their Prometheus text syntax.

``parse_matchers('{service="db", env=~"prod|staging"}')`` returns the matchers that
string names. Regexes are fully anchored as in Prometheus: ``env=~"prod"`` does not
match ``production``; they run on RE2 in linear time (``alerting/user_regex.py``).
A label that is absent counts as the empty string, so ``team!="sre"`` matches an
alert with no ``team`` label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from alerting.errors import InvalidMatcher
from alerting.user_regex import UserRegex

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
MAX_MATCHERS = 64
"""Matchers in one silence, rule or query: bounds the work a tenant's input asks for."""


class MatchOp(StrEnum):
    """The four comparison operators of Prometheus label matchers."""

    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    """One condition on one label, e.g. ``severity=~"critical|high"``."""

    name: str
    op: MatchOp
    value: str
    _regex: UserRegex | None = field(default=None, compare=False, repr=False)

    @classmethod
    def create(cls, name: str, op: MatchOp | str, value: str) -> Matcher:
        """Build a matcher, compiling (and so checking) its regex once."""
        op = MatchOp(op)
        if not LABEL_NAME.fullmatch(name):
            raise InvalidMatcher(f"invalid label name {name!r} in matcher")
        regex = None
        if op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            regex = UserRegex(value, label=name)
        return cls(name, op, value, regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether the label set satisfies this condition (absent label = empty string)."""
        actual = labels.get(self.name, "")
        if self.op is MatchOp.EQUAL:
            return actual == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return actual != self.value
        assert self._regex is not None
        found = self._regex.fullmatch(actual)
        return found if self.op is MatchOp.REGEX else not found

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op.value}"{escaped}"'


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether every matcher holds for the labels (an empty list matches everything)."""
    return all(m.matches(labels) for m in matchers)


_OPERATORS = ("=~", "!~", "!=", "=")  # longest first so "=~" is not read as "="
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def parse_matchers(text: str) -> list[Matcher]:
    """Parse ``{a="b", c=~"d.*"}`` (braces optional, values quoted or bare as amtool allows)."""
    s = text.strip()
    if s.startswith("{"):
        if not s.endswith("}"):
            raise InvalidMatcher(f"missing closing '}}' in {text!r}")
        s = s[1:-1]
    parser = _Parser(s, text)
    return parser.matchers()


def parse_matcher_list(texts: Iterable[str]) -> list[Matcher]:
    """The matchers of several ``filter=`` strings together, at most ``MAX_MATCHERS``."""
    found = [m for text in texts for m in parse_matchers(text)]
    if len(found) > MAX_MATCHERS:
        raise InvalidMatcher(f"at most {MAX_MATCHERS} matchers are allowed, got {len(found)}")
    return found


class _Parser:
    """A one-pass reader of a comma-separated matcher list."""

    def __init__(self, s: str, original: str) -> None:
        self.s = s
        self.i = 0
        self.original = original

    def fail(self, what: str) -> InvalidMatcher:
        return InvalidMatcher(f"{what} at position {self.i} in {self.original!r}")

    def skip_space(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def matchers(self) -> list[Matcher]:
        found: list[Matcher] = []
        self.skip_space()
        while self.i < len(self.s):
            found.append(self.matcher())
            self.skip_space()
            if self.i < len(self.s):
                if self.s[self.i] != ",":
                    raise self.fail("expected ','")
                self.i += 1
                self.skip_space()
        return found

    def matcher(self) -> Matcher:
        m = LABEL_NAME.match(self.s, self.i)
        if m is None:
            raise self.fail("expected a label name")
        name = m.group()
        self.i = m.end()
        self.skip_space()
        op = next((o for o in _OPERATORS if self.s.startswith(o, self.i)), None)
        if op is None:
            raise self.fail(f"expected one of {', '.join(_OPERATORS)} after {name!r}")
        self.i += len(op)
        self.skip_space()
        return Matcher.create(name, op, self.value())

    def value(self) -> str:
        if self.i < len(self.s) and self.s[self.i] in "\"'":
            return self.quoted(self.s[self.i])
        start = self.i
        while self.i < len(self.s) and self.s[self.i] != ",":
            self.i += 1
        return self.s[start : self.i].strip()

    def quoted(self, quote: str) -> str:
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == "\\":
                if self.i + 1 >= len(self.s):
                    raise self.fail("dangling escape")
                nxt = self.s[self.i + 1]
                out.append(_ESCAPES.get(nxt, "\\" + nxt))
                self.i += 2
                continue
            if ch == quote:
                self.i += 1
                return "".join(out)
            out.append(ch)
            self.i += 1
        raise self.fail("unterminated quoted value")
