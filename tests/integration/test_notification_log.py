"""The notification log in a real Redis makes delivery idempotent: a notice delivered
once (by its channel or a fallback) is not sent again on a retry or after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from redis import asyncio as aioredis

from actors.notifiers.pipeline import Delivery, build_pipeline
from actors.notifiers.webhook import WebhookConfig, WebhookSender
from alerting.delivery import RetryPolicy
from alerting.message import Message, MessageKind
from alerting.severity import Severity
from cluster.notification_log import NotificationLog
from cluster.redis_server import EmbeddedRedis
from tests.recording_server import RecordingServer
from tests.system import other_database

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=2, first_delay=timedelta(seconds=0.01))
FIRING = Message(
    "acme", "inc-42", MessageKind.FIRING, Severity.HIGH, "api slow", datetime.now(UTC), step=1
)


@pytest.fixture
async def log(redis_server: EmbeddedRedis) -> AsyncIterator[NotificationLog]:
    client = aioredis.Redis.from_url(other_database(redis_server.url, 5))
    yield NotificationLog(client, "acme")
    await client.aclose()


async def test_a_delivered_notice_is_not_sent_again(log: NotificationLog) -> None:
    primary, fallback = RecordingServer(), RecordingServer()
    primary_url, fallback_url = await primary.start(), await fallback.start()
    primary.plan("status:500", "status:500")
    try:
        async with aiohttp.ClientSession() as session:
            config = WebhookConfig(url_secret="u")
            chain = [
                ("slack", WebhookSender(session, config, primary_url)),
                ("teams", WebhookSender(session, config, fallback_url)),
            ]
            first = await build_pipeline(chain, FAST, log=log).run(Delivery(FIRING))
            assert first.delivered_by == "teams"
            # The escalation step comes round again (a retry, or a restarted escalator).
            again = await build_pipeline(chain, FAST, log=log).run(Delivery(FIRING))
            assert again.delivered_by == "teams"
            assert again.steps == ["already delivered by teams"]
            # The first delivery's steps say why, if a channel got more than planned.
            sent = (len(primary.received), len(fallback.received))
            assert sent == (2, 1), first.steps
            # The resolved notice is another notice: it is sent.
            resolved = replace(FIRING, kind=MessageKind.RESOLVED)
            done = await build_pipeline(chain, FAST, log=log).run(Delivery(resolved))
            assert done.delivered_by == "slack"
        record = await log.delivered(FIRING.key("slack"))
        assert record is not None and record["channel"] == "teams"
        assert "falling back to teams" in record["steps"]
        assert await log.forget_incident("acme", "inc-42") == 2
        assert await log.delivered(FIRING.key("slack")) is None
    finally:
        await primary.stop()
        await fallback.stop()
