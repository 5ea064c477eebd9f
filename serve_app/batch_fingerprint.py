"""Prometheus fingerprints for a whole batch of label sets at once, with NumPy.

FNV-1a is a byte-by-byte loop, ~13 µs per label set in pure Python: the largest
single cost of ingesting a batch. Across a batch the loops are independent, so this
runs them side by side: one vectorised step per byte position instead of one Python
step per byte. The result equals ``alerting.fingerprint.fingerprint`` exactly (a
unit test checks it on random label sets); small batches use that function directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from alerting.fingerprint import fingerprint

_OFFSET = np.uint64(0xCBF29CE484222325)
_PRIME = np.uint64(0x100000001B3)
VECTOR_FROM = 32  # below this many label sets the NumPy set-up costs more than it saves


def _encoded(labels: Mapping[str, str]) -> bytes:
    return b"".join(
        name.encode() + b"\xff" + labels[name].encode() + b"\xff" for name in sorted(labels)
    )


def fingerprints(label_sets: Sequence[Mapping[str, str]]) -> list[str]:
    """The fingerprint of every label set, in order, as 16 hex digits."""
    if len(label_sets) < VECTOR_FROM:
        return [fingerprint(labels) for labels in label_sets]
    data = [_encoded(labels) for labels in label_sets]
    lengths = np.fromiter(map(len, data), dtype=np.int64, count=len(data))
    # Longest first, so at byte position j the rows still hashing are a prefix [0:k].
    order = np.argsort(-lengths, kind="stable").tolist()
    width = int(lengths.max())
    padded = b"".join(data[i].ljust(width, b"\0") for i in order)
    matrix = np.frombuffer(padded, dtype=np.uint8).reshape(len(data), width)
    # active[j]: how many rows are longer than j (have a byte at position j).
    active = np.searchsorted(-np.sort(lengths)[::-1], -np.arange(width), side="left").tolist()
    hashes = np.full(len(data), _OFFSET, dtype=np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the point
        for j, k in enumerate(active):
            hashes[:k] = (hashes[:k] ^ matrix[:k, j]) * _PRIME
    result = [""] * len(data)
    for index, value in zip(order, hashes.tolist(), strict=True):
        result[index] = f"{value:016x}"
    return result
