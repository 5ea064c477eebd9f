"""Filtering and cursor paging of alert lists."""

import pytest

from alerting.alert import Alert, AlertStatus
from alerting.lifecycle import acknowledge, receive
from alerting.matchers import parse_matchers
from alerting.query import AlertQuery, decode_cursor, select
from alerting.severity import Severity

from .helpers import at, incoming


def make(n: int, **overrides: object) -> Alert:
    labels = {"alertname": f"A{n}", "service": "db" if n % 2 else "web"}
    step = receive(
        None, incoming(labels=labels, **overrides), tenant="t", new_id=f"id{n:03}", now=at(n)
    )
    return step[-1].alert


ALERTS = [make(i) for i in range(10)]


def test_newest_first() -> None:
    page = select(ALERTS, AlertQuery())
    assert [a.id for a in page.items] == [f"id{i:03}" for i in reversed(range(10))]
    assert page.total == 10 and page.next_cursor is None


def test_cursor_walks_every_alert_once() -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = select(ALERTS, AlertQuery(limit=3, cursor=cursor))
        seen += [a.id for a in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [f"id{i:03}" for i in reversed(range(10))]


def test_new_alerts_do_not_shift_later_pages() -> None:
    # A page cursor stays valid while newer alerts arrive.
    page1 = select(ALERTS, AlertQuery(limit=5))
    newer = [*ALERTS, make(50)]
    page2 = select(newer, AlertQuery(limit=5, cursor=page1.next_cursor))
    assert [a.id for a in page2.items] == [f"id{i:03}" for i in reversed(range(5))]


# (query, expected ids, what it proves)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (AlertQuery(matchers=tuple(parse_matchers('service="db"'))), {1, 3, 5, 7, 9}),
        # ^ label matcher
        (AlertQuery(statuses=frozenset({AlertStatus.ACKNOWLEDGED})), {4}),  # by state
        (AlertQuery(severities=frozenset({Severity.INFO})), {8}),  # by severity
        (
            AlertQuery(
                matchers=tuple(parse_matchers('alertname=~"A[0-4]"')),
                statuses=frozenset({AlertStatus.FIRING}),
            ),
            {0, 1, 2, 3},
        ),  # filters combine with AND
    ],
)
def test_filters(query: AlertQuery, expected: set[int]) -> None:
    alerts = list(ALERTS)
    alerts[4] = acknowledge(alerts[4], now=at(20)).alert
    alerts[8] = make(8, severity=Severity.INFO)
    assert {int(a.id[2:]) for a in select(alerts, query).items} == expected


@pytest.mark.parametrize("limit", [0, 1001])
def test_limit_bounds(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        AlertQuery(limit=limit)


@pytest.mark.parametrize("cursor", ["!!!", "bm90LWEta2V5", ""])
def test_bad_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(ValueError, match="invalid cursor"):
        decode_cursor(cursor)
