"""Erasing a person: their names replaced by a pseudonym wherever Vigil wrote them.

A person's names (their id in the ``people:`` section, e.g. ``ana``, and their display
name) appear in who acknowledged, resolved or gave feedback, who made a silence,
timeline entries ("paged ana"), and the people an escalation paged. ``scrub`` rewrites
one stored document: in the fields that name people (``PERSON_FIELDS``) and free text
(``TEXT_FIELDS``) each whole-word mention becomes the pseudonym, so "ana (says ana)"
and "slack:ana" are caught but "banana" and "ana-team" are not. Labels and
annotations are left alone: they identify alerts (their fingerprint is a hash of the
labels), and what a sender puts there is the sender's to erase.

Pure: the caller reads and writes the documents (``cluster/person_erasure.py``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

PERSON_FIELDS = frozenset(
    {"acknowledged_by", "resolved_by", "feedback_by", "created_by", "by", "users", "people"}
)
TEXT_FIELDS = frozenset({"detail", "reason", "comment"})


def mention(names: Sequence[str]) -> re.Pattern[str]:
    """A pattern for any of the names as a whole word (not inside another word, an
    e-mail address or a hyphenated name)."""
    chosen = sorted({n for n in names if n.strip()}, key=len, reverse=True)
    if not chosen:
        raise ValueError("no name to erase")
    alternatives = "|".join(re.escape(n) for n in chosen)
    return re.compile(rf"(?<![\w@.+-])(?:{alternatives})(?![\w@+-]|\.\w)")


def _strings(value: Any, pattern: re.Pattern[str], pseudonym: str) -> tuple[Any, int]:
    """Every string in ``value`` (a string, or lists and mappings of them) rewritten."""
    if isinstance(value, str):
        return pattern.subn(pseudonym, value)
    if isinstance(value, list):
        pairs = [_strings(v, pattern, pseudonym) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        found = {k: _strings(v, pattern, pseudonym) for k, v in value.items()}
        return {k: v for k, (v, _) in found.items()}, sum(n for _, n in found.values())
    return value, 0


def scrub(document: Any, pattern: re.Pattern[str], pseudonym: str) -> tuple[Any, int]:
    """``document`` with the names in its person and text fields replaced, at any depth;
    and how many mentions were replaced."""
    if isinstance(document, list):
        pairs = [scrub(v, pattern, pseudonym) for v in document]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if not isinstance(document, dict):
        return document, 0
    out: dict[str, Any] = {}
    count = 0
    for key, value in document.items():
        if key in PERSON_FIELDS or key in TEXT_FIELDS:
            out[key], n = _strings(value, pattern, pseudonym)
        elif key in ("labels", "annotations", "group_labels"):
            out[key], n = value, 0
        else:
            out[key], n = scrub(value, pattern, pseudonym)
        count += n
    return out, count
