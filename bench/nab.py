"""Vigil's streaming anomaly detector on the Numenta Anomaly Benchmark.

Every series of ``../shared/datasets/nab`` (58 files, labelled windows) is fed to a
fresh ``models.anomaly.StreamingDetector`` one value at a time, in order; the scores
are judged with NAB's rules (``bench/nab_scoring.py``) under its three profiles, with
one threshold per profile chosen over the whole corpus as NAB's optimiser does. The
table puts our detector beside NAB's published standard-profile scores.

    python bench/nab.py [--data PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import write_json
from bench.nab_scoring import PROFILES, PUBLISHED, load_corpus, score_corpus
from models.anomaly import DetectorSettings, StreamingDetector

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    corpus = load_corpus(args.data)
    scores = {}
    start = time.perf_counter()
    for n, series in enumerate(corpus, 1):
        detector = StreamingDetector()
        scores[series.name] = [detector.update(v) for v in series.values]
        print(f"\r  scored {n:2d}/{len(corpus)} series", end="", flush=True)
    points = sum(len(s.values) for s in corpus)
    seconds = time.perf_counter() - start
    print(f"  ({points:,} points in {seconds:.1f} s, {seconds / points * 1e6:.1f} µs each)")
    results = [score_corpus(corpus, scores, profile) for profile in PROFILES]
    print("\n| detector | standard | reward_low_FP | reward_low_FN |")
    print("|---|---|---|---|")
    ours = " | ".join(f"{r.normalized:.1f}" for r in results)
    print(f"| **Vigil streaming detector** | {ours} |")
    for name, published in PUBLISHED.items():
        print(f"| {name} (published) | " + " | ".join(published) + " |")
    print("\nthresholds: " + ", ".join(f"{r.profile} {r.threshold:.3f}" for r in results))
    out = write_json(
        "nab",
        {
            "series": len(corpus),
            "points": points,
            "profiles": {
                r.profile: {
                    "normalized": round(r.normalized, 2),
                    "raw": round(r.raw, 3),
                    "threshold": r.threshold,
                }
                for r in results
            },
            "settings": asdict(DetectorSettings()),
            "seconds": round(seconds, 1),
            "published": PUBLISHED,
        },
    )
    print(f"written to {out}")


if __name__ == "__main__":
    main()
