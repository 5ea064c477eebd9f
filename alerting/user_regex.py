"""Regular expressions written by tenants, run in linear time.

Silences, inhibition rules, routes and ``filter=`` parameters carry regexes that a
tenant wrote. Python's ``re`` backtracks: ``(a+)+b`` against 26 ``a`` takes seconds,
and a correlator shared by many tenants would stall for all of them. So every user
regex is compiled by RE2 (``google-re2``), whose matching time grows linearly with the
input whatever the pattern, and whose syntax is Go's (Prometheus and Alertmanager
use Go's ``regexp``, itself RE2): ``\\d`` is ASCII only, ``.`` does not match a newline,
and backreferences and lookaround are refused, as they are by Alertmanager.

A pattern is bounded in length (``MAX_REGEX_LENGTH``) and in compiled size (RE2's
memory budget), so compiling it is bounded too. Matching keeps a small memo of recent
short values, because label values repeat (``severity="critical"`` on most alerts)
and a memo hit costs a dict lookup instead of RE2's call overhead.
"""

from __future__ import annotations

from typing import Any

import re2

from alerting.errors import InvalidMatcher

MAX_REGEX_LENGTH = 1024  # characters; Alertmanager has no limit, real matchers are short
MAX_PROGRAM_BYTES = 1 << 20  # RE2's compile budget: refuses e.g. "(a{999}){999}"
_MEMO_ENTRIES = 64  # recent values remembered per regex
_MEMO_VALUE_LENGTH = 64  # only short values are remembered, so a memo stays ~4 KiB

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a tenant's bad pattern is a 400, not a line on stderr
_OPTIONS.max_mem = MAX_PROGRAM_BYTES
_OPTIONS.never_capture = True  # only "does it match" is asked


class UserRegex:
    """A fully anchored regex (Prometheus semantics) that matches in linear time."""

    __slots__ = ("_compiled", "_memo", "pattern")

    def __init__(self, pattern: str, label: str | None = None) -> None:
        """Compile ``pattern``; ``label`` only names it in the error a bad one raises."""
        where = f" for label {label!r}" if label else ""
        if len(pattern) > MAX_REGEX_LENGTH:
            raise InvalidMatcher(
                f"regex{where} is {len(pattern)} characters long;"
                f" at most {MAX_REGEX_LENGTH} are allowed"
            )
        try:
            self._compiled = re2.compile(f"(?:{pattern})", _OPTIONS)
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            raise InvalidMatcher(f"invalid regex {pattern!r}{where}: {reason}") from None
        self.pattern = pattern
        self._memo: dict[str, bool] = {}

    def fullmatch(self, value: str) -> bool:
        """Whether the regex matches all of ``value``."""
        known = self._memo.get(value)
        if known is not None:
            return known
        found = self._compiled.fullmatch(value) is not None
        if len(value) <= _MEMO_VALUE_LENGTH:
            if len(self._memo) >= _MEMO_ENTRIES:
                self._memo.clear()  # cheap and bounded; the hot values come straight back
            self._memo[value] = found
        return found

    def __reduce__(self) -> tuple[Any, ...]:
        # RE2's compiled program does not pickle; matchers cross process boundaries
        # (queries to actors), so a copy recompiles from the pattern.
        return (UserRegex, (self.pattern,))

    def __repr__(self) -> str:
        return f"UserRegex({self.pattern!r})"
