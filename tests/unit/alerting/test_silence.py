"""Silences: states, muting, validation and Alertmanager's update rules."""

from datetime import datetime, timedelta

import pytest

from alerting.errors import InvalidSilence
from alerting.matchers import parse_matchers
from alerting.silence import (
    Silence,
    SilenceDraft,
    SilenceState,
    check_draft,
    expire_silence,
    purge_due,
    set_silence,
    silence_from_record,
    silence_to_record,
    silenced_by,
    sort_for_listing,
)
from tests.unit.alerting.helpers import at

DB = tuple(parse_matchers('service="db"'))


def silence(
    sid: str = "s1", start: float = 0, end: float = 3600, m: str = 'service="db"'
) -> Silence:
    return Silence(sid, tuple(parse_matchers(m)), at(start), at(end), "ana", "maintenance", at(0))


def draft(
    start: float = 0,
    end: float = 3600,
    m: str = 'service="db"',
    sid: str | None = None,
    by: str = "ana",
) -> SilenceDraft:
    return SilenceDraft(tuple(parse_matchers(m)), at(start), at(end), by, "c", sid)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (-1, SilenceState.PENDING),  # before it starts
        (0, SilenceState.ACTIVE),  # from its start, inclusive
        (3599, SilenceState.ACTIVE),
        (3600, SilenceState.EXPIRED),  # its end is exclusive
    ],
)
def test_state(now: float, state: SilenceState) -> None:
    assert silence().state(at(now)) is state


def test_only_active_matching_silences_mute() -> None:
    silences = [
        silence("a"),
        silence("b", m='service=~"d.*"'),
        silence("pending", start=100),
        silence("other", m='service="web"'),
        silence("expired", start=-100, end=-1),
    ]
    assert silenced_by(silences, {"service": "db"}, at(10)) == ["a", "b"]
    assert silenced_by(silences, {"service": "api"}, at(10)) == []


@pytest.mark.parametrize(
    ("d", "message"),
    [
        # No matchers would mute everything.
        (SilenceDraft((), at(0), at(10), "a", "c"), "at least one matcher"),
        # Matchers that all match "" (absent labels) are refused too.
        (draft(m='service=~".*"'), "must not match the empty string"),
        (draft(start=10, end=10), "start time must be before end time"),
        # Ends before now (now is t=100 below).
        (draft(start=0, end=50), "end time can't be in the past"),
        (draft(by=" "), "creator information missing"),
    ],
)
def test_bad_drafts_are_refused(d: SilenceDraft, message: str) -> None:
    with pytest.raises(InvalidSilence, match=message):
        check_draft(d, at(100))


def test_new_silence_never_starts_in_the_past() -> None:
    (created,) = set_silence(None, draft(start=-500), now=at(0), new_id="n")
    assert created.id == "n" and created.starts_at == at(0)


@pytest.mark.parametrize(
    ("current", "change", "now", "in_place"),
    [
        # Active, same matchers and start, later end: extended in place.
        (silence(), draft(end=7200), 10, True),
        # Active, the start moved: the old one is expired and a new one made.
        (silence(), draft(start=5, end=7200), 10, False),
        # Active, different matchers: replaced.
        (silence(), draft(m='service="web"'), 10, False),
        # Pending: may change freely (start still in the future).
        (silence(start=100), draft(start=200, end=7200), 10, True),
        # Expired: never changed, a new silence is created.
        (silence(end=5), draft(end=7200), 10, False),
    ],
)
def test_update_rules(current: Silence, change: SilenceDraft, now: float, in_place: bool) -> None:
    stored = set_silence(current, change, now=at(now), new_id="new")
    result = stored[-1]
    if in_place:
        assert stored == [result] and result.id == current.id
        assert result.ends_at == change.ends_at
    else:
        assert result.id == "new"
        if current.state(at(now)) is not SilenceState.EXPIRED:
            # The replaced silence ends now so it stops muting at once.
            assert stored[0].id == current.id and stored[0].ends_at == at(now)


def test_expire() -> None:
    assert expire_silence(silence(), at(10)).state(at(10)) is SilenceState.EXPIRED
    pending = expire_silence(silence(start=100), at(10))
    assert pending.starts_at == pending.ends_at == at(10)  # a pending one never starts
    done = silence(end=5)
    assert expire_silence(done, at(10)) is done  # expiring twice changes nothing


def test_purge_and_order_and_record() -> None:
    assert purge_due(silence(end=5), at(5) + timedelta(hours=120), timedelta(hours=120))
    assert not purge_due(silence(end=5), at(6), timedelta(hours=120))
    listed = sort_for_listing(
        [
            silence("exp", end=5),
            silence("act2", end=900),
            silence("pend", start=50),
            silence("act1", end=100),
        ],
        at(10),
    )
    assert [s.id for s in listed] == ["act1", "act2", "pend", "exp"]
    s = silence(m='service=~"a|b", env!="prod"')
    assert silence_from_record(silence_to_record(s)) == s
    assert isinstance(silence_from_record(silence_to_record(s)).starts_at, datetime)
