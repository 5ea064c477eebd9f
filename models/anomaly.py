"""A streaming anomaly detector for one series of numbers (say, a tenant's alerts/minute).

Each value is scored once, in order, without looking ahead. Five signals, the loudest
one wins:

1. **Unlikely surprise.** How far the value, and its step from the previous value, lie
   from the recent past in robust units (distance from the median of the last
   ``window`` values or steps, over their median absolute deviation), so one spike does
   not inflate the scale that judges the next. Then whether the surprise of the last
   ``short`` values is unusual for this series, against the distribution of surprises
   over a longer history (the idea of Numenta's anomaly likelihood): a series that is
   always jumpy stops alarming; a quiet one alarms at its first real jump.
2. **A level never seen before.** The range of the first ``range_learning`` values is
   cut into ``range_bins`` equal bins (extended past both ends with the same width); a
   value landing in a bin the series has never visited is an alarm on its own. This
   catches a level the series has never reached, however slowly it got there, which
   the first signal, judging against the recent past, forgives. One case waits a value:
   once the series has left its learnt range upwards ``routine_after`` separate times
   before (it is spiky), a new level *between* the levels those spikes reached alarms
   only if the next value is above the learnt range too. A one-value spike to an
   in-between level is then routine; a new record level, or one that holds, still
   alarms at once.
3. **A recent extreme.** A value above the highest, or below the lowest, of the last
   ``recent_window`` values (once that many are known). Signal 2 remembers every level
   for good; this one forgets, so a level last reached long ago is news again.
4. **Unusual for the time of day.** With the series' ``period`` known (values per day),
   the value's distance from the values at the same time on the last ``seasons`` days
   (``season_spread`` values either side), judged as signal 1 judges its surprise: a
   quiet night where the day is busy, or a daily peak that does not come.
5. **A shape never seen before.** How far the last ``shape_length`` values, as a
   sequence, lie from the most similar stretch of as many values among the last
   ``shape_history`` (what the matrix-profile literature calls a discord), judged as
   signal 1 judges its surprise. Signals 1 to 4 judge single values; this one sees a
   pattern change whose every value is ordinary: spikes that come twice as often, a
   daily cycle that skips a beat, a plateau whose noise changes.

The score is in [0, 1]; an alarm is a score at or above ``alarm_at``. After an alarm
the detector stays quiet for ``refractory`` values: one problem is one alarm, not a
burst of them. ``direction`` tells a rise (+1) from a fall (-1), so a caller can tell
a storm from a silence.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from statistics import median

import numpy as np


@dataclass(frozen=True)
class DetectorSettings:
    """The detector's memory lengths (in values), its alarm level and quiet time.

    The correlator's rate watch runs exactly these (``models/rate_watch.py``). They
    score 72.1 on NAB's standard profile at their own alarm level, and 70.1 when tuned
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
    routine_after: int = 5  # spikes above the learnt range before in-between levels must hold
    recent_window: int = 4000  # values a recent extreme tops (or undercuts)
    seasons: int = 3  # past days a value is compared with at the same time of day
    season_spread: int = 1  # values either side of the same time that count as it
    shape_length: int = 30  # values in a shape (0: signal 5 off)
    shape_history: int = 2000  # values back the most similar earlier shape is sought
    shape_short: int = 5  # recent shape distances averaged


def log_scaled(tail: float) -> float:
    """A tail probability as a score in [0, 1]: 0.5 at 1e-5, 1 at 1e-10 and beyond.

    Likelihoods of real anomalies differ in their fifth decimal; on this scale a
    threshold can tell them apart.
    """
    return min(1.0, -math.log10(max(tail, 1e-10)) / 10.0)


def robust_z(value: float, past: Collection[float]) -> float:
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


class SurpriseHistory:
    """How unlikely the mean surprise of the last ``short`` values is, against the
    surprises of the last ``history`` values before them, in [0, 1] (0 until
    ``min_history`` are known)."""

    def __init__(self, settings: DetectorSettings, short: int | None = None) -> None:
        self.min_history = settings.min_history
        self.recent: deque[float] = deque(maxlen=short or settings.short)
        self.surprises: deque[float] = deque(maxlen=settings.history)
        self.sum = 0.0
        self.sum_sq = 0.0

    def judge(self, surprise: float) -> float:
        """Score this surprise with the recent ones, then remember it."""
        self.recent.append(surprise)
        short_mean = sum(self.recent) / len(self.recent)
        score = 0.0
        n = len(self.surprises)
        if n >= self.min_history:
            mean = self.sum / n
            variance = max(self.sum_sq / n - mean * mean, 1e-12)
            score = log_scaled(_normal_tail((short_mean - mean) / math.sqrt(variance)))
        self._remember(surprise)
        return score

    def _remember(self, s: float) -> None:
        if len(self.surprises) == self.surprises.maxlen:
            old = self.surprises[0]
            self.sum -= old
            self.sum_sq -= old * old
        self.surprises.append(s)
        self.sum += s
        self.sum_sq += s * s


class SurpriseLikelihood:
    """Signal 1: how unlikely the recent surprise is for this series, in [0, 1]."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.values: deque[float] = deque(maxlen=settings.window)
        self.steps: deque[float] = deque(maxlen=settings.window)
        self.history = SurpriseHistory(settings)

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
        return self.history.judge(s)


class NewLevel(Enum):
    """Where a never-visited bin lies."""

    BEYOND = "beyond"  # past every level the series has reached, up or down
    BETWEEN_SPIKES = "between spikes"  # above the learnt range, below a level reached
    INSIDE = "inside"  # a gap inside (or below) the learnt range


class RangeNovelty:
    """Signal 2: whether a value lands in a bin of the learned range never visited."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.settings = settings
        self.low = math.inf
        self.high = -math.inf
        self.learning = settings.range_learning
        self.visited: set[int] = set()
        self.learnt: list[float] = []  # the values learnt from, until the range is known
        self.top = 0  # the learnt range's highest bin
        self.highest = 0  # the highest and lowest bins visited
        self.lowest = 0
        self.above = False  # whether the last value lay above the learnt range
        self.excursions = 0  # separate runs of values above the learnt range so far

    def bin_of(self, value: float) -> int:
        """The bin ``value`` falls in; bins below the learned range are negative."""
        width = (self.high - self.low) / self.settings.range_bins
        if width <= 0:  # a flat start: any visible change is a new bin
            width = max(abs(self.high) * 0.01, 1e-9)
        return math.floor((value - self.low) / width)

    def update(self, value: float) -> NewLevel | None:
        """After learning, where ``value``'s bin lies if it was never visited (else None)."""
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
                self.top = self.highest = max(self.visited)
                self.lowest = min(self.visited)
                self.learnt = []
            return None
        b = self.bin_of(value)
        above = b > self.top
        self.excursions += above and not self.above
        self.above = above
        if b in self.visited:
            return None
        self.visited.add(b)
        if b > self.highest or b < self.lowest:
            self.highest = max(self.highest, b)
            self.lowest = min(self.lowest, b)
            return NewLevel.BEYOND
        return NewLevel.BETWEEN_SPIKES if above else NewLevel.INSIDE


class RecentExtreme:
    """Signal 3: whether a value tops the highest, or undercuts the lowest, of the last
    ``recent_window`` values, once that many are known (0: never). The running maximum
    and minimum are kept in monotone queues: constant time per value on average."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.window = settings.recent_window
        self.seen = 0
        self.highs: deque[tuple[int, float]] = deque()  # (index, value), values falling
        self.lows: deque[tuple[int, float]] = deque()  # (index, value), values rising

    def update(self, value: float) -> bool:
        """True when ``value`` is a recent extreme; then remember it."""
        if self.window <= 0:
            return False
        extreme = self.seen >= self.window and (value > self.highs[0][1] or value < self.lows[0][1])
        index, self.seen = self.seen, self.seen + 1
        while self.highs and self.highs[-1][1] <= value:
            self.highs.pop()
        self.highs.append((index, value))
        while self.lows and self.lows[-1][1] >= value:
            self.lows.pop()
        self.lows.append((index, value))
        for queue in (self.highs, self.lows):
            if queue[0][0] <= index - self.window:
                queue.popleft()
        return extreme


class SeasonalSurprise:
    """Signal 4: how unlikely the recent distance from the same time on earlier days is,
    in [0, 1]. ``period`` is the number of values per day; it starts once two days (and
    the spread) are known, and compares with up to ``seasons`` days.

    The days are kept in a ring of doubles (8 bytes a value: three days of one-minute
    buckets are 35 kB per watched stream)."""

    def __init__(self, settings: DetectorSettings, period: int) -> None:
        self.period = period
        self.seasons = settings.seasons
        self.spread = settings.season_spread
        self.past = array("d", [0.0]) * (self.seasons * period + self.spread + 1)
        self.seen = 0
        self.history = SurpriseHistory(settings)

    def same_time(self) -> list[float]:
        """The values at the next value's time of day on the days remembered."""
        known = min(self.seen, len(self.past))
        found = []
        for day in range(1, self.seasons + 1):
            for offset in range(-self.spread, self.spread + 1):
                back = day * self.period - offset  # values ago
                if 1 <= back <= known:
                    found.append(self.past[(self.seen - back) % len(self.past)])
        return found

    def update(self, value: float) -> float:
        """Score ``value``, then remember it."""
        score = 0.0
        if self.seen >= 2 * self.period + self.spread:
            score = self.history.judge(robust_z(value, self.same_time()))
        self.past[self.seen % len(self.past)] = value
        self.seen += 1
        return score


class ShapeNovelty:
    """Signal 5: how unlikely the distance is from the newest ``shape_length`` values to
    the nearest earlier stretch of as many values, in [0, 1].

    The earlier stretches are those ending ``shape_length`` to ``shape_history`` values
    before the newest one (nearer ones overlap it, and would match it trivially). Their
    squared Euclidean distances to the newest stretch are kept, one per lag, and each
    new value updates them all at once: a stretch gains its newest difference and
    loses its oldest. Every ``shape_length`` values they are recomputed from the values
    themselves, so rounding never drifts far. Time and memory per value are linear in
    ``shape_history`` (16 kB of distances and 32 kB of values per watched stream)."""

    def __init__(self, settings: DetectorSettings) -> None:
        self.length = settings.shape_length
        self.lags = settings.shape_history
        # The newest stretch and the oldest one compared, with the value just before it
        # (which the incremental update removes).
        self.size = self.lags + self.length + 1
        # Every value is written twice, ``size`` apart, so the kept values are always
        # one contiguous slice: ring[head : head + size], oldest first.
        self.ring = np.zeros(2 * self.size)
        self.head = 0
        self.seen = 0
        self.distances = np.zeros(self.lags)  # [k - 1]: to the stretch ending k values earlier
        self.history = SurpriseHistory(settings, short=settings.shape_short)

    def update(self, value: float) -> float:
        """Remember ``value``, then score how novel the stretch it ends is."""
        self.ring[self.head] = self.ring[self.head + self.size] = value
        self.head = (self.head + 1) % self.size
        self.seen += 1
        kept = self.ring[self.head : self.head + self.size]
        m, lags = self.length, self.lags
        if self.seen % m == 0:
            stretches = np.lib.stride_tricks.sliding_window_view(kept, m)
            # stretches[-1] ends with the newest value; stretches[-1 - k], k values earlier.
            earlier = stretches[-2 : -2 - lags : -1]
            self.distances = ((earlier - stretches[-1]) ** 2).sum(axis=1)
        else:
            newest, leaving = kept[-1], kept[-1 - m]
            self.distances += (newest - kept[-2 : -2 - lags : -1]) ** 2
            self.distances -= (leaving - kept[-2 - m : -2 - m - lags : -1]) ** 2
        # Lags from m on do not overlap the newest stretch; up to seen - m are real values
        # (the rest still hold the ring's initial zeros).
        usable = self.distances[m - 1 : max(0, min(lags, self.seen - m))]
        if usable.size == 0:
            return 0.0
        nearest = math.sqrt(max(float(usable.min()), 0.0))
        return self.history.judge(nearest)


class StreamingDetector:
    """Scores one value at a time with the five signals; keeps only bounded history (the
    visited bins are bounded by how far the series ever strays). ``period`` is the
    number of values per day; without it, signal 4 is off."""

    def __init__(self, settings: DetectorSettings | None = None, period: int | None = None) -> None:
        self.settings = settings or DetectorSettings()
        self.likelihood = SurpriseLikelihood(self.settings)
        self.novelty = RangeNovelty(self.settings)
        self.recent = RecentExtreme(self.settings)
        self.seasonal = SeasonalSurprise(self.settings, period) if period else None
        self.shape = ShapeNovelty(self.settings) if self.settings.shape_length else None
        self.held = False  # a one-value spike between levels seen waits for the next value
        self.quiet_for = 0
        self.alarmed = False  # whether the last value raised an alarm
        self.direction = 0  # +1: the last value was above the recent typical, -1 below
        self.seen = 0  # values scored so far

    @property
    def learning(self) -> bool:
        """Whether the range of signal 2 is still being learnt."""
        return self.novelty.learning > 0

    def update(self, value: float) -> float:
        """Score ``value`` (0: ordinary, near 1: anomalous), then remember it."""
        self.seen += 1
        typical = self.likelihood.typical()
        self.direction = 0 if typical is None else (value > typical) - (value < typical)
        learning = self.learning
        if learning and len(self.likelihood.values) >= self.settings.min_history:
            jump = robust_z(value, self.likelihood.values) >= self.settings.early_jump_z
        else:
            jump = False
        score = self.likelihood.update(value)
        new_level = self.novelty.update(value)
        # A held spike counts once the next value is above the learnt range too.
        confirmed, self.held = self.held and self.novelty.above, False
        if (
            new_level is NewLevel.BETWEEN_SPIKES
            and self.novelty.excursions > self.settings.routine_after
        ):
            self.held, new_level = True, None
        extreme = self.recent.update(value) and not learning
        if new_level is not None or jump or confirmed or extreme:
            score = max(score, self.settings.novel_score)
        if self.seasonal is not None:
            score = max(score, self.seasonal.update(value))
        if self.shape is not None:
            score = max(score, self.shape.update(value))
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
