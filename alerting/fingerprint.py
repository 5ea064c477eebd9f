"""The identity of an alert: a hash of its labels equal to Prometheus's fingerprint."""

from __future__ import annotations

from collections.abc import Mapping

_FNV_OFFSET_64 = 0xCBF29CE484222325
_FNV_PRIME_64 = 0x100000001B3
_MASK_64 = 0xFFFFFFFFFFFFFFFF
# Prometheus writes this byte after every label name and value so that
# {a="bc"} and {ab="c"} hash differently.
_SEPARATOR = b"\xff"


def fingerprint_int(labels: Mapping[str, str]) -> int:
    """FNV-1a 64 over the label names in sorted order, each name and value followed by 0xFF.

    This is ``model.LabelSet.Fingerprint`` from prometheus/common, so the value equals
    the one Alertmanager reports for the same labels.
    """
    data = bytearray()
    for name in sorted(labels):
        data += name.encode()
        data += _SEPARATOR
        data += labels[name].encode()
        data += _SEPARATOR
    h = _FNV_OFFSET_64
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME_64) & _MASK_64
    return h


def fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint as Alertmanager prints it: 16 lower-case hex digits."""
    return f"{fingerprint_int(labels):016x}"
