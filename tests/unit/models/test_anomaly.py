"""The streaming detector on made-up series: quiet on the ordinary, loud on a jump,
and one alarm per problem."""

import random

from models.anomaly import (
    DetectorSettings,
    NewLevel,
    RangeNovelty,
    RecentExtreme,
    SeasonalSurprise,
    ShapeNovelty,
    StreamingDetector,
    log_scaled,
)


def noisy(n: int, seed: int = 1, level: float = 100.0) -> list[float]:
    rng = random.Random(seed)
    return [level + rng.gauss(0, 5) for _ in range(n)]


def test_ordinary_noise_stays_below_the_alarm() -> None:
    detector = StreamingDetector()
    scores = [detector.update(v) for v in noisy(2000)]
    alarms = sum(1 for s in scores[100:] if s >= detector.settings.alarm_at)
    assert alarms <= 5  # a 1e-4 tail of Gaussian noise, thinned by the quiet time


def test_a_jump_after_a_quiet_stretch_alarms_at_once() -> None:
    detector = StreamingDetector()
    for v in noisy(1000):
        detector.update(v)
    detector.update(400.0)
    assert detector.alarmed
    assert detector.direction == 1


def test_a_stream_that_goes_quiet_alarms_as_a_fall() -> None:
    detector = StreamingDetector()
    for v in noisy(1000):
        detector.update(v)
    falls = []
    for _ in range(5):
        detector.update(0.0)
        falls.append((detector.alarmed, detector.direction))
    assert (True, -1) in falls


def test_a_slow_climb_to_a_level_never_seen_alarms_once_it_gets_there() -> None:
    # Each step is ordinary for the recent past; only the level is new.
    settings = DetectorSettings(range_learning=100)
    detector = StreamingDetector(settings)
    for v in noisy(100):
        detector.update(v)
    alarms = []
    for i in range(400):
        detector.update(100.0 + i * 0.5)
        if detector.alarmed:
            alarms.append(i)
    assert alarms, "the new level never alarmed"
    assert alarms[0] > 30  # not before the level left the learned range (about 85-115)


def test_the_range_signal_alone_is_quiet_inside_the_learned_range() -> None:
    detector = RangeNovelty(DetectorSettings(range_learning=10, range_bins=4))
    for v in [0, 10, 2, 4, 6, 8, 1, 3, 5, 7]:
        assert detector.update(float(v)) is None
    assert detector.update(9.0) is None  # a visited bin
    assert detector.update(14.0) is NewLevel.BEYOND  # one bin past the top
    assert detector.update(13.0) is None  # the same bin again
    assert detector.update(-3.0) is NewLevel.BEYOND  # below the bottom


def test_one_problem_raises_one_alarm_then_the_detector_stays_quiet() -> None:
    settings = DetectorSettings(refractory=50)
    detector = StreamingDetector(settings)
    for v in noisy(1000):
        detector.update(v)
    scores = [detector.update(v) for v in noisy(40, seed=3, level=400.0)]
    alarms = [i for i, s in enumerate(scores) if s >= settings.alarm_at]
    assert len(alarms) == 1


def test_log_scaled_maps_tail_probabilities_to_scores() -> None:
    assert log_scaled(1.0) == 0.0
    assert log_scaled(1e-5) == 0.5
    assert log_scaled(1e-12) == 1.0


def test_the_learnt_range_is_binned_once_it_is_known() -> None:
    # A series that rises through its learning period: every value of the ramp was
    # seen, so one in the middle of it is no novelty, whatever the range was then.
    novelty = RangeNovelty(DetectorSettings(range_learning=150, range_bins=8))
    for value in range(150):
        assert novelty.update(float(value)) is None
    assert novelty.update(75.0) is None
    assert novelty.update(149.0) is None
    assert novelty.update(200.0) is NewLevel.BEYOND  # above the learnt range: a new bin


def test_new_levels_are_told_apart_and_spikes_above_the_range_counted() -> None:
    novelty = RangeNovelty(DetectorSettings(range_learning=10, range_bins=10))
    for v in [0, 10, 0, 10, 0, 10, 0, 10, 0, 10]:  # bins 0 and 10 visited, 1-9 not
        novelty.update(float(v))
    assert novelty.update(5.0) is NewLevel.INSIDE
    assert novelty.update(40.0) is NewLevel.BEYOND  # a spike: the first excursion
    assert novelty.update(0.0) is None
    assert novelty.update(25.0) is NewLevel.BETWEEN_SPIKES  # the second
    assert novelty.update(25.5) is None  # the same spike held: the same excursion
    assert novelty.excursions == 2


def spiky(spikes: int, seed: int = 1) -> list[float]:
    """A quiet series with a spike to 300 every 150 values, and a quiet tail."""
    rng = random.Random(seed)
    values = [10.0 + rng.gauss(0, 1) for _ in range(200)]
    for _ in range(spikes):
        values += [300.0] + [10.0 + rng.gauss(0, 1) for _ in range(149)]
    return values


def test_a_one_value_spike_between_earlier_spikes_is_routine_in_a_spiky_series() -> None:
    settings = DetectorSettings(routine_after=3, recent_window=0, refractory=10)
    detector = StreamingDetector(settings)
    for v in spiky(6):
        detector.update(v)
    detector.update(150.0)  # a level between the range and the spikes, for one value
    assert not detector.alarmed
    detector.update(10.0)
    assert not detector.alarmed
    # The same level held for a second value does alarm.
    detector.update(180.0)
    assert not detector.alarmed
    detector.update(180.0)
    assert detector.alarmed and detector.direction == 1


def test_a_one_value_spike_between_levels_alarms_while_spikes_are_rare() -> None:
    settings = DetectorSettings(routine_after=3, recent_window=0, refractory=10)
    detector = StreamingDetector(settings)
    for v in spiky(2):
        detector.update(v)
    detector.update(150.0)
    assert detector.alarmed


def test_a_recent_extreme_forgets_what_the_window_no_longer_holds() -> None:
    extreme = RecentExtreme(DetectorSettings(recent_window=5))
    assert [extreme.update(v) for v in [1.0, 9.0, 2.0, 3.0, 4.0]] == [False] * 5
    assert extreme.update(9.0) is False  # equal to the highest of the last five
    assert extreme.update(0.5) is True  # under the lowest
    for v in [3.0, 3.0, 3.0, 3.0]:
        extreme.update(v)
    assert extreme.update(8.0) is True  # the 9 has left the window
    assert RecentExtreme(DetectorSettings(recent_window=0)).update(1e9) is False


def test_a_level_last_reached_long_ago_alarms_again() -> None:
    settings = DetectorSettings(recent_window=1000)
    detector = StreamingDetector(settings)
    values = [*noisy(300), 400.0, *noisy(1500, seed=2)]
    for v in values:
        detector.update(v)
    detector.update(390.0)  # a bin visited 1,500 values ago, above the last 1,000
    assert detector.alarmed


def daily(days: int, night: float = 10.0, day: float = 100.0, seed: int = 1) -> list[float]:
    """48 values a day (half-hours): a busy day (from 8:00 to 20:00) and a quiet night."""
    rng = random.Random(seed)
    return [
        (day if 16 <= half_hour < 40 else night) + rng.gauss(0, 3)
        for _ in range(days)
        for half_hour in range(48)
    ]


def test_the_time_of_day_signal_compares_with_the_same_time_on_earlier_days() -> None:
    seasonal = SeasonalSurprise(DetectorSettings(seasons=3, season_spread=1), period=48)
    first_two_days = daily(2)
    assert [seasonal.update(v) for v in first_two_days] == [0.0] * 96  # not yet known
    for v in daily(3)[96:]:
        seasonal.update(v)
    # The next value is 0:00 on day 4: 23:30, 0:00 and 0:30 of the three days before
    # (bar 23:30 before the first day).
    assert len(seasonal.same_time()) == 8
    for v in daily(2, seed=3):
        seasonal.update(v)
        assert len(seasonal.same_time()) == 9  # the ring keeps all three days
    assert all(v < 30 for v in seasonal.same_time())  # 0:00 on days 3 to 5: night


def test_a_busy_day_that_does_not_come_is_unusual_for_the_time_of_day() -> None:
    # The level stays inside its range (night levels are seen every day), so only the
    # time of day can tell that the day's traffic did not come.
    settings = DetectorSettings(recent_window=0, range_learning=96)
    with_days = StreamingDetector(settings, period=48)
    without = StreamingDetector(settings)
    series = daily(14) + daily(1, day=10.0, seed=2)
    scores = [(with_days.update(v), without.update(v)) for v in series]
    missing_day = scores[14 * 48 + 16 : 14 * 48 + 40]
    assert max(s for s, _ in missing_day) >= settings.alarm_at
    assert max(s for _, s in missing_day) < settings.alarm_at
    ordinary_days = scores[5 * 48 : 14 * 48]
    assert max(s for s, _ in ordinary_days) < settings.alarm_at


def test_the_shape_distances_kept_step_by_step_equal_those_computed_afresh() -> None:
    settings = DetectorSettings(shape_length=7, shape_history=50)
    shape = ShapeNovelty(settings)
    rng = random.Random(4)
    values = [float(rng.randrange(5) * 1000) for _ in range(400)]
    for t, value in enumerate(values):
        shape.update(value)
        newest = values[t - 6 : t + 1]
        # Stretches ending 7 (no overlap) to 50 values back, once they lie in the series.
        afresh = [
            sum((a - b) ** 2 for a, b in zip(newest, values[t - k - 6 : t - k + 1], strict=True))
            for k in range(7, 51)
            if t - k - 6 >= 0
        ]
        kept = shape.distances[6 : max(0, min(50, shape.seen - 7))]
        assert list(kept) == afresh, t


def spikes_every(gap: int, n: int) -> list[float]:
    return [20.0 if i % gap == 0 else 0.0 for i in range(n)]


def test_spikes_that_come_twice_as_often_are_a_new_shape() -> None:
    # Every value is one the series has shown hundreds of times, at no new extreme:
    # only the sequence is new.
    shape = ShapeNovelty(DetectorSettings())
    alarm_at = DetectorSettings().alarm_at
    ordinary = [shape.update(v) for v in spikes_every(10, 1500)]
    assert max(ordinary) < alarm_at
    denser = [shape.update(v) for v in spikes_every(5, 60)]
    assert max(denser) >= alarm_at


def test_the_detector_without_the_shape_signal_misses_what_it_sees() -> None:
    with_shape = StreamingDetector()
    without = StreamingDetector(DetectorSettings(shape_length=0))
    for v in spikes_every(10, 1500):
        with_shape.update(v)
        without.update(v)
    alarms = {"with": 0, "without": 0}
    for v in spikes_every(5, 60):
        with_shape.update(v)
        without.update(v)
        alarms["with"] += with_shape.alarmed
        alarms["without"] += without.alarmed
    assert alarms == {"with": 1, "without": 0}
