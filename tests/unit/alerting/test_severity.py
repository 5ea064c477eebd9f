"""Severity order and the sender spellings it accepts."""

import pytest

from alerting.severity import Severity


def test_order_is_by_urgency() -> None:
    # critical > high > warning > info, whatever the alphabet says.
    assert Severity.CRITICAL > Severity.HIGH > Severity.WARNING > Severity.INFO
    assert max([Severity.INFO, Severity.CRITICAL, Severity.WARNING]) is Severity.CRITICAL
    assert sorted([Severity.WARNING, Severity.CRITICAL, Severity.INFO, Severity.HIGH]) == [
        Severity.INFO,
        Severity.WARNING,
        Severity.HIGH,
        Severity.CRITICAL,
    ]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("critical", Severity.CRITICAL),  # PagerDuty and Vigil's own name
        ("page", Severity.CRITICAL),  # a common Prometheus rule convention
        ("error", Severity.HIGH),  # PagerDuty's second level
        ("High", Severity.HIGH),  # case does not matter
        ("warning", Severity.WARNING),  # PagerDuty and Prometheus
        ("warn", Severity.WARNING),  # short form
        (" info ", Severity.INFO),  # surrounding spaces are ignored
        ("none", Severity.INFO),  # Prometheus's watchdog-style alerts
    ],
)
def test_parse_aliases(word: str, expected: Severity) -> None:
    assert Severity.parse(word) is expected


def test_parse_unknown_names_the_choices() -> None:
    # A clear error lists what would have been accepted.
    with pytest.raises(ValueError, match=r"unknown severity 'urgent'.*critical"):
        Severity.parse("urgent")


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "critical"}, Severity.CRITICAL),  # the label decides
        ({"severity": "mystery"}, Severity.WARNING),  # unknown value: default, not an error
        ({}, Severity.WARNING),  # no label: default
    ],
)
def test_from_labels(labels: dict[str, str], expected: Severity) -> None:
    assert Severity.from_labels(labels, Severity.WARNING) is expected
