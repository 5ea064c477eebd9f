"""The stream records: every type read back as it was written, entries read as
earlier versions wrote them, and a batch's entry listing each change once, in order."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest

from alerting.alert import AlertStatus
from alerting.correlation import Notification
from alerting.flush import NotifyReason
from alerting.lifecycle import ChangeKind, acknowledge, receive
from alerting.severity import Severity
from alerting.silence import SilenceState
from cluster.records import (
    AlertChangeRecord,
    ChangeEntry,
    NotificationsEntry,
    SilenceChangeRecord,
    alert_change_entry,
    change_from_record,
    notification_from_record,
    notification_to_record,
)

from ..alerting.helpers import at, incoming


def as_stored(fields: dict[str, str]) -> dict[bytes, bytes]:
    """A stream entry's fields as Redis hands them back."""
    return {k.encode(): v.encode() for k, v in fields.items()}


def test_an_alert_change_reads_back_as_written() -> None:
    full = AlertChangeRecord(
        "c1", ChangeKind.ACKNOWLEDGED, "a1", "fp", AlertStatus.ACKNOWLEDGED,
        Severity.CRITICAL, None, "ann", "looking",
    )  # fmt: skip
    bare = AlertChangeRecord(
        "c2", ChangeKind.RESOLVED, "a1", "fp", AlertStatus.RESOLVED, Severity.INFO, "timeout"
    )
    for record in (full, bare):
        assert AlertChangeRecord.from_record(record.to_record()) == record
        assert change_from_record(record.to_record()) == record
    assert "by" not in bare.to_record()  # absent fields are left out, as always


def test_a_silence_change_reads_back_as_written() -> None:
    record = SilenceChangeRecord("c3", "s1", SilenceState.ACTIVE)
    assert record.to_record()["kind"] == "silence"
    assert change_from_record(record.to_record()) == record


def test_a_change_entry_reads_back_as_written() -> None:
    entry = ChangeEntry(
        datetime(2026, 12, 2, 3, 4, 5, 123456, UTC),
        (
            AlertChangeRecord(
                "c1", ChangeKind.CREATED, "a1", "fp", AlertStatus.FIRING, Severity.WARNING
            ),
            SilenceChangeRecord("c2", "s1", SilenceState.EXPIRED),
        ),
    )
    fields = entry.to_fields()
    assert fields["count"] == "2"
    assert ChangeEntry.from_fields(as_stored(fields)) == entry


def test_a_batch_lists_each_change_once_in_order_with_unique_ids() -> None:
    created = receive(None, incoming(), tenant="t", new_id="a1", now=at(0))
    acked = acknowledge(created[-1].alert, now=at(1), by="ann")
    unchanged = acknowledge(acked.alert, now=at(2), by="ann")  # a no-op: not a change
    ids = (f"c{n}" for n in itertools.count())
    entry = alert_change_entry([*created, acked, unchanged], at(2), lambda: next(ids))
    changes = ChangeEntry.from_fields(as_stored(entry.to_fields())).changes
    assert [c.kind for c in changes if isinstance(c, AlertChangeRecord)] == [
        "created",
        "acknowledged",
    ]
    assert [c.change_id for c in changes] == ["c0", "c1"]
    second = changes[1]
    assert isinstance(second, AlertChangeRecord)
    assert (second.by, second.alert_id, second.resolved_by) == ("ann", "a1", None)


def test_a_step_that_changed_nothing_has_no_record() -> None:
    (created,) = receive(None, incoming(), tenant="t", new_id="a1", now=at(0))
    again = acknowledge(acknowledge(created.alert, now=at(1)).alert, now=at(2))
    with pytest.raises(ValueError, match="changed nothing"):
        AlertChangeRecord.of(again, "c1")


NOTIFICATION = Notification(
    incident_id="i1",
    receiver="team-db",
    group_key='{}:{service="db"}',
    reason=NotifyReason.NEW_FIRING,
    firing=("fp1", "fp2"),
    resolved=("fp3",),
    at=datetime(2026, 12, 2, 3, 4, 5, 654321, UTC),
    severity=Severity.CRITICAL,
    labels={"service": "db"},
    summary="db is down",
    send_resolved=False,
    alert_ids={"fp1": "a1", "fp2": "a2", "fp3": "a3"},
)


def test_a_notification_reads_back_as_written() -> None:
    assert notification_from_record(notification_to_record(NOTIFICATION)) == NOTIFICATION
    entry = NotificationsEntry((NOTIFICATION, NOTIFICATION))
    assert NotificationsEntry.from_fields(as_stored(entry.to_fields())) == entry


def test_a_notification_written_before_its_later_fields_existed_takes_their_defaults() -> None:
    # What the correlator wrote before severity, labels, summary, send_resolved and
    # alert_ids were added: an upgrade mid-incident still reads its stream.
    old = {
        "incident_id": "i1",
        "receiver": "default",
        "group_key": "{}:{}",
        "reason": "first",
        "firing": ["fp1"],
        "resolved": [],
        "at": 1764644645.5,
    }
    read = notification_from_record(json.loads(json.dumps(old)))
    assert read.reason is NotifyReason.FIRST and read.severity is Severity.WARNING
    assert (read.labels, read.summary, read.send_resolved, read.alert_ids) == ({}, "", True, {})


def test_entries_carry_the_trace_that_stored_them_and_read_old_entries_without_one() -> None:
    traceparent = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    change = AlertChangeRecord(
        "c1", ChangeKind.CREATED, "a1", "fp", AlertStatus.FIRING, Severity.WARNING
    )
    traced = ChangeEntry(datetime(2026, 12, 3, tzinfo=UTC), (change,), traceparent)
    assert ChangeEntry.from_fields(as_stored(traced.to_fields())).trace == traceparent
    untraced = ChangeEntry(datetime(2026, 12, 3, tzinfo=UTC), (change,))
    assert "trace" not in untraced.to_fields()  # as every earlier version wrote it
    assert ChangeEntry.from_fields(as_stored(untraced.to_fields())).trace is None
    note = Notification("i1", "team", "{}:{}", NotifyReason.FIRST, ("fp",), (), at(0))
    sent = NotificationsEntry((note,), traceparent)
    assert NotificationsEntry.from_fields(as_stored(sent.to_fields())) == sent
    assert NotificationsEntry.from_fields(as_stored(NotificationsEntry((note,)).to_fields())) == (
        NotificationsEntry((note,))
    )
