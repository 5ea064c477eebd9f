"""A streaming anomaly detector for one series of numbers (say, a tenant's alerts/minute).

Each value is scored once, in order, without looking ahead. Two signals, the louder
one wins:

1. **Unlikely surprise.** How far the value, and its step from the previous value, lie
   from the recent past in robust units (distance from the median of the last
   ``window`` values or steps, over their median absolute deviation), so one spike does
   not inflate the scale that judges the next. Then whether the surprise of the last
   ``short`` values is unusual for this series, against the distribution of surprises
   over a longer history (the idea of Numenta's anomaly likelihood): a series that is
   always jumpy stops alarming; a quiet one alarms at its first real jump.
2. **A value never seen before.** The range of the first ``range_learning`` values is
   cut into ``range_bins`` equal bins (extended past both ends with the same width); a
   value landing in a bin the series has never visited is an alarm on its own. This
   catches a level the series has never reached, however slowly it got there, which
   the first signal, judging against the recent past, forgives.

The score is in [0, 1]; an alarm is a score at or above ``alarm_at``. After an alarm
the detector stays quiet for ``refractory`` values: one problem is one alarm, not a
burst of them. ``direction`` tells a rise (+1) from a fall (-1), so a caller can tell
a storm from a silence.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from statistics import median


@dataclass(frozen=True)
class DetectorSettings:
    """The detector's memory lengths (in values), its alarm level and quiet time.

    The correlator's rate watch runs exactly these (``models/rate_watch.py``). They
    score 62.8 on NAB's standard profile at their own alarm level, and 59.4 when tuned
    on one half of the corpus and scored on the other (``python bench/nab.py``).
    """

    window: int = 300  # values the surprise is measured against
    short: int = 20  # recent surprises averaged
    history: int = 2000  # surprises the average is compared with
    min_history: int = 30  # values seen before the surprise signal can alarm
    range_learning: int = 150  # first values whose range defines the bins
    range_bins: int = 8  # bins across that range
    refractory: int = 120  # values kept quiet after an alarm
    alarm_at: float = 0.4  # score counted as an alarm (a tail probability of ~1e-4)
    novel_score: float = 0.5  # the score of a value in a never-visited bin
    early_jump_z: float = 20.0  # while learning the range: a jump this far alarms


def log_scaled(tail: float) -> float:
    """A tail probability as a score in [0, 1]: 0.5 at 1e-5, 1 at 1e-10 and beyond.

    Likelihoods of real anomalies differ in their fifth decimal; on this scale a
    threshold can tell them apart.
    """
    return min(1.0, -math.log10(max(tail, 1e-10)) / 10.0)


def robust_z(value: float, past: deque[float]) -> float:
    """``value``'s distance from the median of ``past`` in robust standard deviations
    (1.4826 median absolute deviations), capped at 50; 0 with too little past."""
    if len(past) < 3:
        return 0.0
    middle = median(past)
    spread = median(abs(v - middle) for v in past)
    if spread == 0:
        spread = max(abs(middle) * 0.01, 1e-9)
    return min(abs(value - middle) / (1.4826 * spread), 50.0)


def _normal_tail(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


class SurpriseLikelihood:
    """Signal 1: how unlikely the recent surprise is for this series, in [0, 1]."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self.values: deque[float] = deque(maxlen=settings.window)
        self.steps: deque[float] = deque(maxlen=settings.window)
        self.recent: deque[float] = deque(maxlen=settings.short)
        self.surprises: deque[float] = deque(maxlen=settings.history)
        self.sum = 0.0
        self.sum_sq = 0.0

    def surprise(self, value: float) -> float:
        """How unusual ``value`` is: the mean of how far it lies from the last ``window``
        values and how far its change from the previous value lies from their changes
        (a level that drifts is judged by its steps, a flat one by its level)."""
        level = robust_z(value, self.values)
        if not self.values:
            return level
        step = robust_z(value - self.values[-1], self.steps)
        return (level + step) / 2.0

    def typical(self) -> float | None:
        """The median of the recent values (``None`` before the first)."""
        return median(self.values) if self.values else None

    def update(self, value: float) -> float:
        """Score ``value``, then remember it."""
        s = self.surprise(value)
        if self.values:
            self.steps.append(value - self.values[-1])
        self.values.append(value)
        self.recent.append(s)
        short_mean = sum(self.recent) / len(self.recent)
        score = 0.0
        n = len(self.surprises)
        if n >= self.settings.min_history:
            mean = self.sum / n
            variance = max(self.sum_sq / n - mean * mean, 1e-12)
            score = log_scaled(_normal_tail((short_mean - mean) / math.sqrt(variance)))
        self._remember(s)
        return score

    def _remember(self, s: float) -> None:
        if len(self.surprises) == self.surprises.maxlen:
            old = self.surprises[0]
            self.sum -= old
            self.sum_sq -= old * old
        self.surprises.append(s)
        self.sum += s
        self.sum_sq += s * s


class RangeNovelty:
    """Signal 2: whether a value lands in a bin of the learned range never visited."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self.low = math.inf
        self.high = -math.inf
        self.learning = settings.range_learning
        self.visited: set[int] = set()
        self.learnt: list[float] = []  # the values learnt from, until the range is known

    def bin_of(self, value: float) -> int:
        """The bin ``value`` falls in; bins below the learned range are negative."""
        width = (self.high - self.low) / self.settings.range_bins
        if width <= 0:  # a flat start: any visible change is a new bin
            width = max(abs(self.high) * 0.01, 1e-9)
        return math.floor((value - self.low) / width)

    def update(self, value: float) -> bool:
        """True when, after learning, ``value`` opens a new bin."""
        if self.learning > 0:
            self.learning -= 1
            self.low = min(self.low, value)
            self.high = max(self.high, value)
            self.learnt.append(value)
            if self.learning == 0:
                # Binned once the whole range is known: a bin of a value seen while the
                # range was still growing would be of another width, and a later value
                # in the learnt range could then look never seen.
                self.visited = {self.bin_of(v) for v in self.learnt}
                self.learnt = []
            return False
        b = self.bin_of(value)
        if b in self.visited:
            return False
        self.visited.add(b)
        return True


class StreamingDetector:
    """Scores one value at a time with both signals; keeps only bounded history (the
    visited bins are bounded by how far the series ever strays)."""

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings or DetectorSettings()
        self.likelihood = SurpriseLikelihood(self.settings)
        self.novelty = RangeNovelty(self.settings)
        self.quiet_for = 0
        self.alarmed = False  # whether the last value raised an alarm
        self.direction = 0  # +1: the last value was above the recent typical, -1 below

    @property
    def learning(self) -> bool:
        """Whether the range of signal 2 is still being learnt."""
        return self.novelty.learning > 0

    def update(self, value: float) -> float:
        """Score ``value`` (0: ordinary, near 1: anomalous), then remember it."""
        typical = self.likelihood.typical()
        self.direction = 0 if typical is None else (value > typical) - (value < typical)
        if self.learning and len(self.likelihood.values) >= self.settings.min_history:
            jump = robust_z(value, self.likelihood.values) >= self.settings.early_jump_z
        else:
            jump = False
        score = self.likelihood.update(value)
        if self.novelty.update(value) or jump:
            score = max(score, self.settings.novel_score)
        self.alarmed = False
        if self.quiet_for > 0:
            # Why not 0: a quiet score still shows the signal to whoever plots it,
            # and it stays below any sensible threshold.
            self.quiet_for -= 1
            return min(score, 0.1)
        if score >= self.settings.alarm_at:
            self.alarmed = True
            self.quiet_for = self.settings.refractory
        return score
