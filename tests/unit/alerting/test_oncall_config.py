"""The schedules section as written: read into layers and overrides, and mistakes
refused with where they are."""

from datetime import UTC, date, datetime, time
from typing import Any

import pytest
from pydantic import ValidationError

from alerting.oncall import Rotation, on_call
from alerting.oncall_config import ScheduleSpec

PRIMARY: dict[str, Any] = {
    "time_zone": "Europe/Berlin",
    "layers": [
        {
            "name": "weekly",
            "rotation": "weekly",
            "handoff": "10:30",
            "handoff_day": "tuesday",
            "start": "2026-11-24",
            "users": ["ana", "ben"],
        },
        {"rotation": "daily", "start": "2026-12-24", "end": "2026-12-27", "users": ["hal"]},
    ],
    "overrides": [
        {"user": "dee", "start": "2026-11-26T18:00:00+01:00", "end": "2026-11-27T09:00:00Z"}
    ],
}


def test_a_schedule_reads_into_layers_and_overrides() -> None:
    schedule = ScheduleSpec.model_validate(PRIMARY).schedule("primary")
    weekly, cover = schedule.layers
    assert (weekly.rotation, weekly.handoff, weekly.handoff_weekday) == (
        Rotation.WEEKLY,
        time(10, 30),
        1,
    )
    assert (cover.name, cover.handoff, cover.end) == ("layer-2", time(9, 0), date(2026, 12, 27))
    found = on_call(schedule, datetime(2026, 11, 26, 20, 0, tzinfo=UTC))
    assert found is not None and found.user == "dee"


def with_layer(**changes: Any) -> dict[str, Any]:
    return {**PRIMARY, "layers": [{**PRIMARY["layers"][0], **changes}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**PRIMARY, "time_zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        (with_layer(handoff="9am"), "not a time of day like 09:00"),
        (with_layer(handoff_day="funday"), "handoff_day"),
        (with_layer(rotation="hourly"), "rotation"),
        (with_layer(users=[]), "at least 1 item"),
        (with_layer(users=["ana smith"]), "is not a user name"),
        (with_layer(end="2026-11-01"), "end must come after start"),
        (with_layer(colour="red"), "Extra inputs are not permitted"),
        ({**PRIMARY, "layers": []}, "at least 1 item"),
        (
            {**PRIMARY, "overrides": [{"user": "dee", "start": "2026-11-26T18:00:00", "end": "x"}]},
            "timezone",
        ),
        (
            {
                **PRIMARY,
                "overrides": [
                    {"user": "dee", "start": "2026-11-27T00:00:00Z", "end": "2026-11-26T00:00:00Z"}
                ],
            },
            "must end after it starts",
        ),
    ],
)
def test_mistakes_are_refused_with_where_they_are(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ScheduleSpec.model_validate(data)
