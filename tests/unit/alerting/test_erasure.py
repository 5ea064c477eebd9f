"""A person's names are replaced where Vigil wrote them, and nowhere else."""

from __future__ import annotations

import pytest

from alerting.erasure import mention, scrub

ANA = mention(["ana", "Ana Lopez"])


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("ana", "P"),
        ("ana (says ana)", "P (says P)"),
        ("slack:ana", "slack:P"),
        ("paged Ana Lopez via sms", "paged P via sms"),
        ("acme-tests (says ana@example.com)", "acme-tests (says ana@example.com)"),
        ("banana", "banana"),
        ("ana-team", "ana-team"),
        ("anabel", "anabel"),
        ("ana.", "P."),
    ],
)
def test_whole_word_mentions_only(text: str, after: str) -> None:
    assert scrub({"by": text}, ANA, "P")[0] == {"by": after}


def test_person_and_text_fields_at_any_depth_but_never_labels() -> None:
    document = {
        "id": "ana",
        "acknowledged_by": "ana",
        "labels": {"owner": "ana"},
        "annotations": {"summary": "ana's disk"},
        "timeline": [{"event": "paged", "detail": "paged ana", "by": None}],
        "people": {"1": ["ana", "bob"]},
        "status": "ana",
    }
    scrubbed, count = scrub(document, ANA, "P")
    assert count == 3
    assert scrubbed["acknowledged_by"] == "P"
    assert scrubbed["timeline"][0]["detail"] == "paged P"
    assert scrubbed["people"] == {"1": ["P", "bob"]}
    assert scrubbed["labels"] == {"owner": "ana"} and scrubbed["id"] == "ana"
    assert scrubbed["status"] == "ana"  # not a field that names people


def test_a_name_is_needed() -> None:
    with pytest.raises(ValueError):
        mention(["  "])
