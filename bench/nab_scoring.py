"""The Numenta Anomaly Benchmark's scoring, for scoring Vigil's streaming detector.

NAB rewards detecting each labelled anomaly window early and penalises false alarms:

* the first 15 % of each series (at most 750 points) is a probationary period: nothing
  there counts, and windows entirely inside it are not scored;
* a point inside a window is worth a scaled sigmoid of its position: ``+0.987`` at the
  window's left edge, ``0`` at its right edge (NAB divides by that ``0.987`` so the
  earliest detection is worth exactly the profile's TP weight); only a window's best
  (earliest) detection counts, and an undetected window costs the FN weight;
* a detection outside every window costs the FP weight times the scaled sigmoid of
  its distance past the previous window (``-1`` before any window, approaching ``-1``
  three window-widths past one);
* the score is summed over every series at one threshold, chosen to maximise it (as
  NAB's optimiser does), and normalised to 100 for the perfect detector and 0 for the
  null detector (which never detects).

This is written from NAB's description and its scoring rules (``nab/sweeper.py``),
not copied; ``tests/unit/bench/test_nab_scoring.py`` checks it on hand-made cases.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PROBATION_PERCENT = 0.15


@dataclass(frozen=True)
class Profile:
    """NAB's application profiles: the weights of a true positive, a false positive and a
    missed window."""

    name: str
    tp: float
    fp: float
    fn: float


PROFILES = (
    Profile("standard", 1.0, 0.11, 1.0),
    Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
)

PUBLISHED = {
    "numenta HTM": ("70.5-69.7", "62.6-61.7", "75.2-74.2"),
    "CAD OSE": ("69.9", "67.0", "73.2"),
    "KNN CAD": ("58.0", "43.4", "64.8"),
    "relativeEntropy": ("54.6", "47.6", "58.8"),
    "random cut forest": ("51.7", "38.4", "59.7"),
    "twitterADVec": ("47.1", "33.6", "53.5"),
    "windowedGaussian": ("39.6", "20.9", "47.4"),
    "skyline": ("35.7", "27.1", "44.5"),
    "bayesian changepoint": ("17.7", "3.2", "32.2"),
    "random": ("11.0", "1.2", "19.5"),
}
"""NAB's published scores (standard, reward_low_FP, reward_low_FN) from its README's
scoreboard (NAB v1.0), for the table beside ours. The issue quotes an earlier
scoreboard's standard scores: HTM 70.1, windowedGaussian 39.7, random 16.8."""


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: about +0.987 at -1 (a window's left edge), 0 at 0 (its right
    edge), towards -1 past it, and exactly -1 from three widths on."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


MAX_TP = scaled_sigmoid(-1.0)


def probation_length(rows: int) -> float:
    """How many leading points of a series are probationary."""
    return min(math.floor(PROBATION_PERCENT * rows), PROBATION_PERCENT * 5000)


@dataclass(frozen=True)
class Point:
    """One scorable point: its anomaly score, what a detection there is worth (unweighted
    sigmoid), and the window it lies in (``None``: outside every window)."""

    score: float
    worth: float
    window: int | None


@dataclass(frozen=True)
class Series:
    """One NAB data file: timestamps, and the labelled windows as (first, last) indexes."""

    name: str
    timestamps: list[datetime]
    values: list[float]
    windows: list[tuple[int, int]]


def scorable_points(series: Series, scores: Sequence[float]) -> tuple[list[Point], set[int]]:
    """The points after the probationary period with their worth, and the windows scored."""
    if len(scores) != len(series.timestamps):
        raise ValueError(f"{series.name}: {len(scores)} scores for {len(series.timestamps)} rows")
    probation = probation_length(len(scores))
    starts = {first: (n, last) for n, (first, last) in enumerate(series.windows)}
    points: list[Point] = []
    scored: set[int] = set()
    current: tuple[int, int, int] | None = None  # (window, first, last)
    previous: tuple[int, int] | None = None  # (last index, width) of the last window left
    for i, score in enumerate(scores):
        if i in starts:
            window, last = starts[i]
            current = (window, i, last)
        if current is not None:
            window, first, last = current
            width = last - first + 1
            worth = scaled_sigmoid(-(last - i + 1) / width)
            in_window: int | None = window
        else:
            past = 3.0 if previous is None else abs(previous[0] - i) / (previous[1] - 1)
            worth = scaled_sigmoid(past)
            in_window = None
        if i >= probation:
            points.append(Point(score, worth, in_window))
            if in_window is not None:
                scored.add(in_window)
        if current is not None and i == current[2]:
            previous = (i, current[2] - current[1] + 1)
            current = None
    return points, scored


@dataclass(frozen=True)
class ScoreCurve:
    """A series' raw score as a function of the threshold, for one profile.

    ``thresholds`` are the distinct anomaly scores, highest first; ``scores[k]`` is the
    raw score when exactly the points scoring at least ``thresholds[k]`` detect, and
    ``nothing`` the score when none does.
    """

    thresholds: list[float]
    scores: list[float]
    nothing: float

    def at(self, threshold: float) -> float:
        """The raw score with detections at ``score >= threshold``."""
        # Thresholds descend, so their negations ascend: count those >= threshold.
        k = bisect.bisect_right(self.thresholds, -threshold, key=lambda t: -t)
        return self.nothing if k == 0 else self.scores[k - 1]


def score_curve(points: list[Point], windows: set[int], profile: Profile) -> ScoreCurve:
    """Sweep the threshold down through every distinct score, as NAB's sweeper does."""
    best = {w: -profile.fn for w in windows}
    fp_total = 0.0
    nothing = sum(best.values())
    thresholds: list[float] = []
    scores: list[float] = []
    ordered = sorted(points, key=lambda p: p.score, reverse=True)
    for n, point in enumerate(ordered):
        if point.window is None:
            fp_total += point.worth * profile.fp
        else:
            best[point.window] = max(best[point.window], point.worth * profile.tp / MAX_TP)
        last_of_its_score = n + 1 == len(ordered) or ordered[n + 1].score != point.score
        if last_of_its_score:
            thresholds.append(point.score)
            scores.append(fp_total + sum(best.values()))
    return ScoreCurve(thresholds, scores, nothing)


@dataclass(frozen=True)
class CorpusScore:
    """A detector's result on the corpus for one profile."""

    profile: str
    threshold: float
    raw: float
    null: float
    perfect: float

    @property
    def normalized(self) -> float:
        """100 for the perfect detector, 0 for the null detector."""
        return 100.0 * (self.raw - self.null) / (self.perfect - self.null)


def score_corpus(
    corpus: Sequence[Series],
    scores: Mapping[str, Sequence[float]],
    profile: Profile,
    grid: int = 1000,
    threshold: float | None = None,
) -> CorpusScore:
    """The detector's best corpus score over thresholds ``k / grid`` (scores in [0, 1]),
    or its score at a given ``threshold``, with the null and perfect detectors' scores
    for normalising."""
    curves = []
    null = perfect = 0.0
    for series in corpus:
        points, windows = scorable_points(series, scores[series.name])
        curves.append(score_curve(points, windows, profile))
        null -= profile.fn * len(windows)
        perfect += perfect_score(series, profile)
    if threshold is not None:
        return CorpusScore(
            profile.name, threshold, sum(c.at(threshold) for c in curves), null, perfect
        )
    best_threshold, best_raw = 1.0, -math.inf
    for k in range(grid, -1, -1):
        at = k / grid
        raw = sum(c.at(at) for c in curves)
        if raw > best_raw:
            best_threshold, best_raw = at, raw
    return CorpusScore(profile.name, best_threshold, best_raw, null, perfect)


def perfect_score(series: Series, profile: Profile) -> float:
    """The raw score of a detector that fires exactly at each window's first point."""
    flags = [0.0] * len(series.timestamps)
    for first, _ in series.windows:
        flags[first] = 1.0
    points, windows = scorable_points(series, flags)
    return score_curve(points, windows, profile).at(1.0)


def load_corpus(root: Path) -> list[Series]:
    """The 58 NAB series and their windows (``root`` is the dataset's folder)."""
    windows = json.loads((root / "labels" / "combined_windows.json").read_text())
    corpus = []
    for name in sorted(windows):
        lines = (root / "data" / name).read_text().splitlines()[1:]
        rows = [line.split(",") for line in lines if line]
        stamps = [datetime.fromisoformat(r[0]) for r in rows]
        index = {t: i for i, t in enumerate(stamps)}
        spans = [
            (index[datetime.fromisoformat(a)], index[datetime.fromisoformat(b)])
            for a, b in windows[name]
        ]
        corpus.append(Series(name, stamps, [float(r[1]) for r in rows], spans))
    return corpus
