"""``recipients``: whom a level notifies and through which channels, for the page itself
(who is on call now) and for the notices after it (whoever was paged then)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alerting.escalation import Target, TargetKind
from alerting.incident import TimelineEvent
from alerting.oncall import Layer, Rotation, Schedule
from alerting.oncall_config import PersonSpec
from alerting.recipients import recipients

# Ann and Bob take turns daily at 09:00 UTC, Ann from 2026-01-01; Cy is in no schedule.
ROTA = Schedule("primary", "UTC", (Layer("l", ("ann", "bob"), Rotation.DAILY, date(2026, 1, 1)),))
PEOPLE = {
    "ann": PersonSpec(channels=["ann-sms", "ann-phone"]),
    "bob": PersonSpec(channels=["bob-sms"]),
}
ANN_DAY = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
BOB_DAY = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


class Level:
    """What a policy level (or its ``Notify`` step) says it notifies."""

    def __init__(self, *targets: Target, fallback: tuple[str, ...] = ()) -> None:
        self.targets = targets
        self.fallback = fallback


def schedules(name: str) -> Schedule | None:
    return ROTA if name == "primary" else None


CHANNEL = Target(TargetKind.CHANNEL, "ops-slack")
PRIMARY = Target(TargetKind.SCHEDULE, "primary")


def test_a_channel_target_is_its_channel_then_the_fallback() -> None:
    found = recipients(Level(CHANNEL, fallback=("email",)), PEOPLE, schedules, ANN_DAY)
    assert found.chains == [("ops-slack", "email")] and found.people == [] and found.notes == []


def test_a_schedule_target_pages_whoever_is_on_call_through_their_own_channels() -> None:
    level = Level(CHANNEL, PRIMARY, fallback=("email",))
    found = recipients(level, PEOPLE, schedules, ANN_DAY)
    assert found.chains == [("ops-slack", "email"), ("ann-sms", "ann-phone", "email")]
    assert found.people == ["ann"]
    assert found.notes == [(TimelineEvent.ON_CALL, "schedule primary: ann is on call")]
    assert recipients(level, PEOPLE, schedules, BOB_DAY).people == ["bob"]  # the rota moved


def test_nobody_on_call_or_no_contact_pages_nobody_and_says_why() -> None:
    before = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)  # before the first shift
    found = recipients(Level(PRIMARY), PEOPLE, schedules, before)
    assert found.chains == [] and found.notes == [
        (TimelineEvent.ON_CALL, "schedule primary: nobody is on call")
    ]
    unknown = recipients(Level(Target(TargetKind.SCHEDULE, "gone")), PEOPLE, schedules, ANN_DAY)
    assert unknown.chains == [] and "nobody is on call" in unknown.notes[0][1]
    no_contact = recipients(Level(PRIMARY), {"bob": PEOPLE["bob"]}, schedules, ANN_DAY)
    assert no_contact.chains == [] and no_contact.notes[-1] == (
        TimelineEvent.DELIVERY_FAILED,
        "ann has no contact channels (people.ann in the config)",
    )


def test_a_notice_after_the_page_reaches_whoever_was_paged_not_who_is_on_call_now() -> None:
    level = Level(CHANNEL, PRIMARY, fallback=("email",))
    found = recipients(level, PEOPLE, schedules, BOB_DAY, paged=["ann"])
    assert found.chains == [("ops-slack", "email"), ("ann-sms", "ann-phone", "email")]
    assert found.notes == []  # nobody was asked who is on call
    gone = recipients(level, {}, schedules, BOB_DAY, paged=["ann"])
    assert gone.chains == [("ops-slack", "email")] and gone.notes == []
