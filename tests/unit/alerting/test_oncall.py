"""Who is on call: daily and weekly hand-offs in local time (through a DST change),
stacked layers, overrides, and when the answer next changes."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from alerting.oncall import Layer, OnCall, Override, Rotation, Schedule, on_call

BERLIN = ZoneInfo("Europe/Berlin")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)  # type: ignore[misc]


DAILY = Layer("daily", ("ana", "ben", "cai"), Rotation.DAILY, date(2026, 11, 23), time(9, 0))
WEEKLY = Layer(
    "weekly", ("wes", "xia"), Rotation.WEEKLY, date(2026, 11, 25), time(9, 0), handoff_weekday=0
)


def who(schedule: Schedule, at: datetime) -> str | None:
    found = on_call(schedule, at)
    return None if found is None else found.user


@pytest.mark.parametrize(
    ("at", "user"),
    [
        (local(2026, 11, 23, 8, 59), None),  # before the first hand-off: nobody
        (local(2026, 11, 23, 9, 0), "ana"),  # the first shift
        (local(2026, 11, 24, 8, 59), "ana"),  # a shift runs until the next hand-off
        (local(2026, 11, 24, 9, 0), "ben"),
        (local(2026, 11, 25, 23, 0), "cai"),
        (local(2026, 11, 26, 12, 0), "ana"),  # the rotation wraps around
    ],
)
def test_a_daily_rotation_hands_over_at_the_local_time(at: datetime, user: str | None) -> None:
    assert who(Schedule("s", "Europe/Berlin", (DAILY,)), at) == user


@pytest.mark.parametrize(
    ("at", "user"),
    [
        (local(2026, 11, 30, 8, 0), None),  # starts on the first Monday on or after its date
        (local(2026, 11, 30, 9, 0), "wes"),
        (local(2026, 12, 6, 23, 0), "wes"),
        (local(2026, 12, 7, 9, 0), "xia"),
        (local(2026, 12, 14, 9, 0), "wes"),
    ],
)
def test_a_weekly_rotation_hands_over_on_its_weekday(at: datetime, user: str | None) -> None:
    assert who(Schedule("s", "Europe/Berlin", (WEEKLY,)), at) == user


def test_a_hand_off_stays_at_local_nine_through_the_end_of_summer_time() -> None:
    # Berlin leaves summer time on 2026-10-25 at 03:00 (UTC+2 -> UTC+1).
    layer = Layer("daily", ("ana", "ben"), Rotation.DAILY, date(2026, 10, 20), time(9, 0))
    schedule = Schedule("s", "Europe/Berlin", (layer,))
    before = on_call(schedule, local(2026, 10, 25, 8, 0))
    assert before == OnCall("ana", "daily", datetime(2026, 10, 25, 8, 0, tzinfo=UTC))
    assert who(schedule, datetime(2026, 10, 25, 7, 59, tzinfo=UTC)) == "ana"
    assert who(schedule, datetime(2026, 10, 25, 8, 0, tzinfo=UTC)) == "ben"  # 09:00 CET


def test_a_later_layer_wins_while_it_has_someone_and_the_earlier_fills_the_gaps() -> None:
    cover = Layer(
        "holiday", ("hal",), Rotation.DAILY, date(2026, 12, 24), time(9, 0), end=date(2026, 12, 27)
    )
    schedule = Schedule("s", "Europe/Berlin", (WEEKLY, cover))
    assert who(schedule, local(2026, 12, 23, 12, 0)) == "xia"
    assert on_call(schedule, local(2026, 12, 25, 12, 0)) == OnCall(
        "hal", "holiday", local(2026, 12, 26, 9, 0)
    )
    assert on_call(schedule, local(2026, 12, 26, 12, 0)) == OnCall(
        "hal",
        "holiday",
        local(2026, 12, 27, 9, 0),  # the cover layer stops then
    )
    assert who(schedule, local(2026, 12, 27, 9, 0)) == "xia"


def test_an_override_beats_every_layer_for_its_time() -> None:
    swap = Override("dee", local(2026, 11, 26, 18, 0), local(2026, 11, 27, 9, 30))
    schedule = Schedule("s", "Europe/Berlin", (DAILY,), (swap,))
    assert on_call(schedule, local(2026, 11, 26, 17, 0)) == OnCall(
        "ana",
        "daily",
        local(2026, 11, 26, 18, 0),  # cut short by the override
    )
    assert on_call(schedule, local(2026, 11, 26, 20, 0)) == OnCall(
        "dee", "override", local(2026, 11, 27, 9, 30)
    )
    assert who(schedule, local(2026, 11, 27, 9, 30)) == "ben"


def test_the_latest_written_override_wins_where_two_overlap() -> None:
    first = Override("dee", local(2026, 11, 26, 0, 0), local(2026, 11, 27, 0, 0))
    second = Override("eve", local(2026, 11, 26, 12, 0), local(2026, 11, 26, 14, 0))
    schedule = Schedule("s", "Europe/Berlin", (DAILY,), (first, second))
    assert who(schedule, local(2026, 11, 26, 13, 0)) == "eve"
    assert who(schedule, local(2026, 11, 26, 15, 0)) == "dee"


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        on_call(Schedule("s", "Europe/Berlin", (DAILY,)), datetime(2026, 11, 26, 12, 0))
