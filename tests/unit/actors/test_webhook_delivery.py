"""The webhook channel and the delivery pipeline against real local HTTP servers that
record what they got and fail as told: signatures a receiver can verify, templates,
retries with Retry-After, no retry on 4xx, timeouts, and the fallback chain."""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from actors.notifiers.pipeline import Delivery, build_pipeline
from actors.notifiers.webhook import TemplateProblem, WebhookConfig, WebhookSender, render
from alerting.delivery import AttemptKind, RetryPolicy
from alerting.message import Message, MessageKind
from alerting.severity import Severity
from alerting.signature import HEADER, verify
from tests.recording_server import RecordingServer, refused_url

MESSAGE = Message(
    tenant="acme",
    incident_id="inc-1",
    kind=MessageKind.FIRING,
    severity=Severity.CRITICAL,
    summary="db-1 is down",
    at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
    labels={"alertname": "DBDown", "service": "db"},
)
FAST = RetryPolicy(attempts=3, first_delay=timedelta(seconds=0.05))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[RecordingServer, str]]:
    server = RecordingServer()
    url = await server.start()
    yield server, url
    await server.stop()


async def test_a_webhook_is_signed_so_the_receiver_can_verify_it(
    session: aiohttp.ClientSession, receiver: tuple[RecordingServer, str]
) -> None:
    server, url = receiver
    sender = WebhookSender(session, WebhookConfig(url_secret="u"), f"{url}/hook", "hmac-s3cret")
    attempt = await sender(MESSAGE)
    assert attempt.kind is AttemptKind.DELIVERED
    (got,) = server.received
    assert json.loads(got.body)["incident_id"] == "inc-1"
    assert verify("hmac-s3cret", got.headers[HEADER], got.body, int(time.time()))
    assert not verify("another", got.headers[HEADER], got.body, int(time.time()))
    assert "127.0.0.1" not in repr(sender) and "s3cret" not in repr(sender)


async def test_a_template_shapes_the_body() -> None:
    template = '{"text": {{ summary | tojson }}, "service": {{ labels.service | tojson }}}'
    config = WebhookConfig(url_secret="u", template=template)
    assert json.loads(render(config.template, MESSAGE)) == {
        "text": "db-1 is down",
        "service": "db",
    }


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ nope }}", "cannot render"),  # an undefined name
        ('{"a": {{ summary }}}', "does not render JSON"),  # unquoted text
        ("{{ ''.__class__.__mro__ }}", "cannot render"),  # the sandbox refuses internals
    ],
)
def test_a_broken_template_is_refused_when_loaded(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        WebhookConfig(url_secret="u", template=template)
    with pytest.raises(TemplateProblem):
        render(template, MESSAGE)


async def test_5xx_and_429_are_retried_honouring_retry_after(
    session: aiohttp.ClientSession, receiver: tuple[RecordingServer, str]
) -> None:
    server, url = receiver
    server.plan("status:503", "status:429:1", "ok")
    sender = WebhookSender(session, WebhookConfig(url_secret="u"), url)
    pipeline = build_pipeline([("ops", sender)], FAST, rng=random.Random(1))
    delivery = await pipeline.run(Delivery(MESSAGE))
    assert delivery.delivered_by == "ops"
    assert len(server.received) == 3
    waited = server.received[2].at - server.received[1].at
    assert 0.9 <= waited <= 3.0  # Retry-After: 1 was honoured (tolerance for a busy machine)
    assert delivery.steps[:2] == [
        "ops: HTTP 503 on try 1, retrying in " + delivery.steps[0].rsplit(" ", 1)[1],
        "ops: HTTP 429 on try 2, retrying in 1.0s",
    ]
    # What the metrics count of it: three tries, two retries, delivered by its own channel.
    assert delivery.attempts == [
        ("ops", "http_error"),
        ("ops", "http_error"),
        ("ops", "delivered"),
    ]
    assert (delivery.retries, delivery.fallbacks, delivery.outcome) == (2, 0, "delivered")


async def test_a_4xx_is_not_retried_and_the_fallback_delivers_once(
    session: aiohttp.ClientSession, receiver: tuple[RecordingServer, str]
) -> None:
    primary = RecordingServer()
    primary_url = await primary.start()
    try:
        primary.plan("status:404")
        fallback, fallback_url = receiver
        config = WebhookConfig(url_secret="u")
        chain = [
            ("slack", WebhookSender(session, config, primary_url)),
            ("teams", WebhookSender(session, config, fallback_url)),
            ("never", WebhookSender(session, config, refused_url())),
        ]
        delivery = await build_pipeline(chain, FAST).run(Delivery(MESSAGE))
        assert delivery.delivered_by == "teams"
        assert len(primary.received) == 1  # no retry on 404
        assert len(fallback.received) == 1  # delivered once; the third never tried
        assert delivery.steps == [
            "slack: HTTP 404 on try 1, giving up",
            "falling back to teams",
            "delivered by teams",
        ]
        assert (delivery.retries, delivery.fallbacks) == (0, 1)
        assert delivery.outcome == "delivered_by_fallback"
    finally:
        await primary.stop()


async def test_refused_connections_and_hangs_exhaust_the_chain(
    session: aiohttp.ClientSession, receiver: tuple[RecordingServer, str]
) -> None:
    server, url = receiver
    server.plan("hang:2", "hang:2", "hang:2")
    quick = WebhookConfig(url_secret="u", timeout="200ms")
    chain = [
        ("down", WebhookSender(session, quick, refused_url())),
        ("slow", WebhookSender(session, quick, url)),
    ]
    started = time.monotonic()
    delivery = await build_pipeline(chain, FAST).run(Delivery(MESSAGE))
    assert not delivery.delivered
    assert time.monotonic() - started < 3.0  # three 200 ms timeouts, not three 2 s hangs
    assert delivery.steps[0].startswith("down: connection error on try 1, retrying")
    assert "down: connection error on try 3, giving up" in delivery.steps
    assert "slow: timeout on try 3, giving up" in delivery.steps
    assert delivery.steps[-1] == "every channel failed"
    assert len(server.received) == 3
