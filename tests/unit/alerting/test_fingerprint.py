"""Fingerprints must equal Prometheus's ``LabelSet.Fingerprint`` bit for bit."""

import pytest

from alerting.fingerprint import fingerprint, fingerprint_int

# (labels, expected uint64, what the case proves)
VECTORS = [
    # The empty set hashes to the FNV-1a offset basis (prometheus/common model tests).
    ({}, 14695981039346656037),
    # prometheus/common's TestMetricToFingerprint vector: sorted names, 0xFF separators.
    ({"name": "garland, briggs", "fear": "love is not enough"}, 5799056148416392346),
]


@pytest.mark.parametrize(("labels", "expected"), VECTORS)
def test_prometheus_vectors(labels: dict[str, str], expected: int) -> None:
    assert fingerprint_int(labels) == expected


def test_printed_as_16_hex_digits() -> None:
    # Alertmanager prints fingerprints zero-padded, lower-case.
    assert fingerprint({"name": "garland, briggs", "fear": "love is not enough"}) == format(
        5799056148416392346, "016x"
    )
    assert len(fingerprint({})) == 16


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # The separator byte keeps name/value boundaries apart.
        ({"a": "bc"}, {"ab": "c"}),
        # A value is not confused with an empty label.
        ({"a": ""}, {}),
        # Order of names matters only through sorting: different sets differ.
        ({"a": "1", "b": "2"}, {"a": "2", "b": "1"}),
    ],
)
def test_distinct_label_sets_differ(a: dict[str, str], b: dict[str, str]) -> None:
    assert fingerprint(a) != fingerprint(b)


def test_insertion_order_does_not_matter() -> None:
    # Names are sorted before hashing, as Prometheus does.
    assert fingerprint({"x": "1", "a": "2"}) == fingerprint({"a": "2", "x": "1"})


def test_non_ascii_is_hashed_as_utf8() -> None:
    # Go hashes the UTF-8 bytes of strings; so do we (value precomputed by hand below).
    labels = {"city": "Zürich"}
    data = b"city\xffZ\xc3\xbcrich\xff"
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    assert fingerprint_int(labels) == h
