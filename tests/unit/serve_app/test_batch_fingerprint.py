"""The vectorised batch fingerprint equals the reference one, bit for bit."""

import random
import string

from alerting.fingerprint import fingerprint
from serve_app.batch_fingerprint import VECTOR_FROM, fingerprints


def random_labels(rng: random.Random) -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + "_ äöü,\"'{}=~-"
    names = [
        "".join(rng.choices(string.ascii_lowercase + "_", k=rng.randint(1, 12)))
        for _ in range(rng.randint(0, 8))
    ]
    return {n: "".join(rng.choices(alphabet, k=rng.randint(0, 40))) for n in names}


def test_matches_the_reference_on_random_label_sets() -> None:
    rng = random.Random(7)
    sets = [random_labels(rng) for _ in range(2000)]
    sets += [{}, {"a": ""}, {"name": "garland, briggs", "fear": "love is not enough"}]
    assert fingerprints(sets) == [fingerprint(s) for s in sets]


def test_small_batches_and_order() -> None:
    sets = [{"i": str(i)} for i in range(VECTOR_FROM - 1)]
    assert fingerprints(sets) == [fingerprint(s) for s in sets]
    # Prometheus's own test vector, inside a vectorised batch.
    big = [{"x": str(i)} for i in range(100)] + [
        {"name": "garland, briggs", "fear": "love is not enough"}
    ]
    assert int(fingerprints(big)[-1], 16) == 5799056148416392346
