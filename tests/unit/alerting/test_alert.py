"""Validation of what senders report: bad input is refused with the field that is wrong."""

import pytest
from pydantic import ValidationError

from alerting.alert import MAX_LABELS, IncomingAlert
from alerting.severity import Severity

from .helpers import incoming


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"labels": {}}, "labels"),  # an alert needs at least one label
        ({"labels": {"bad-name": "x"}}, "labels"),  # Prometheus label-name rule
        ({"labels": {f"l{i}": "x" for i in range(MAX_LABELS + 1)}}, "labels"),  # too many
        ({"labels": {"a": "x" * 2000}}, "labels"),  # oversize value
        ({"severity": "urgent"}, "severity"),  # unknown severity word
        ({"status": "exploded"}, "status"),  # unknown status
        ({"starts_at": "yesterday"}, "starts_at"),  # not a timestamp
        ({"unknown_field": 1}, "unknown_field"),  # extra keys are refused
    ],
)
def test_invalid_incoming_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        incoming(**overrides)
    assert info.value.errors()[0]["loc"][0] == field


def test_timestamps_are_normalised_to_utc() -> None:
    a = incoming(starts_at="2026-01-01T13:00:00+01:00", severity=Severity.INFO)
    assert a.starts_at is not None
    assert a.starts_at.utcoffset() is not None and a.starts_at.utcoffset().total_seconds() == 0
    assert a.starts_at.hour == 12


# (severity field, severity label, expected, what it proves)
@pytest.mark.parametrize(
    ("field", "label", "expected"),
    [
        ("page", None, Severity.CRITICAL),  # a sender's word is translated
        (None, "critical", Severity.CRITICAL),  # no field: Prometheus's severity label decides
        ("info", "critical", Severity.INFO),  # an explicit field wins over the label
        (None, "whatever", Severity.WARNING),  # unknown label value: the default
        (None, None, Severity.WARNING),  # nothing at all: the default
    ],
)
def test_severity_sources(field: str | None, label: str | None, expected: Severity) -> None:
    labels = {"alertname": "X"} | ({"severity": label} if label else {})
    data: dict[str, object] = {"labels": labels}
    if field is not None:
        data["severity"] = field
    assert IncomingAlert.model_validate(data).severity is expected


def test_pickling_keeps_the_alert_and_its_fingerprint() -> None:
    import pickle

    from tests.unit.alerting.helpers import incoming

    original = incoming(starts_at="2026-01-01T00:00:00Z")
    copy = pickle.loads(pickle.dumps(original))
    assert copy == original
    assert copy.model_dump() == original.model_dump()
    assert copy.fingerprint == original.fingerprint
    # A fingerprint computed in bulk elsewhere travels with the alert.
    forced = pickle.loads(pickle.dumps(incoming().with_fingerprint("00000000000000ff")))
    assert forced.fingerprint == "00000000000000ff"


def test_shared_fields_set_is_never_changed_by_copies() -> None:
    import os
    from datetime import UTC, datetime

    from alerting.alert import share_fields_set
    from alerting.lifecycle import receive
    from tests.unit.alerting.helpers import incoming

    now = datetime(2026, 1, 1, tzinfo=UTC)
    made = [receive(None, incoming(), tenant="t", new_id=os.urandom(4).hex(), now=now)[-1].alert]
    alert = share_fields_set(made[0])
    shared = alert.__pydantic_fields_set__
    copy = alert.model_copy(update={"count": 5})
    # The copy got its own set; the shared one still names exactly the model's fields.
    assert copy.__pydantic_fields_set__ is not shared
    assert shared == set(type(alert).model_fields)
    assert share_fields_set(copy).__pydantic_fields_set__ is shared
    assert copy.count == 5 and alert.count == 1
    assert copy.model_dump(exclude={"count"}) == alert.model_dump(exclude={"count"})
