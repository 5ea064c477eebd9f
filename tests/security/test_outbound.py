"""Outbound requests go only to public addresses, never follow a redirect, and a
refusal reads "refused by policy", not whether the port answered.

Before the policy, a tenant's webhook answering 307 to an internal address made Vigil
POST there (three times, with retries), and the timeline's delivered / failed told the
tenant whether that port was open. Each test here failed then.
"""

from __future__ import annotations

import ipaddress

import pytest

from actors.notifiers.webhook import WebhookConfig, WebhookSender
from alerting.delivery import Attempt, AttemptKind
from cluster.outbound import OutboundPolicy, parse_networks
from tests.recording_server import RecordingServer
from tests.unit.actors.test_webhook_delivery import MESSAGE, receiver

__all__ = ["receiver"]  # the fixture, shared with the webhook delivery tests

LOOPBACK = OutboundPolicy(parse_networks("127.0.0.0/8"))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback: Redis, Ray's GCS, the dashboard
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",  # RFC 1918
        "169.254.169.254",  # the cloud metadata service (link-local)
        "100.64.0.1",  # carrier-grade NAT, shared
        "0.0.0.0",
        "224.0.0.251",  # multicast
        "::1",
        "fd00:ec2::254",  # a ULA: AWS's IPv6 metadata address
        "fe80::1%eth0",  # link-local with a zone
        "::ffff:127.0.0.1",  # loopback dressed as IPv6
        "192.0.2.10",  # documentation
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    assert not OutboundPolicy().permits(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_permitted(address: str) -> None:
    assert OutboundPolicy().permits(address)


def test_an_operator_allow_list_opens_only_its_networks() -> None:
    policy = OutboundPolicy(parse_networks("10.20.0.0/16, 127.0.0.1"))
    assert policy.permits("10.20.3.4") and policy.permits("127.0.0.1")
    assert not policy.permits("10.21.0.1") and not policy.permits("127.0.0.2")
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/33")
    assert parse_networks(" ") == ()
    assert parse_networks("::1") == (ipaddress.ip_network("::1/128"),)


def test_a_refusal_is_not_retried_and_reads_refused_by_policy() -> None:
    refused = Attempt(AttemptKind.REFUSED)
    assert not refused.retryable
    assert refused.describe() == "refused by policy"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])  # a literal, and a name
async def test_a_webhook_to_loopback_is_refused_before_connecting(
    receiver: tuple[RecordingServer, str], host: str
) -> None:
    server, url = receiver
    target = url.replace("127.0.0.1", host) + "/hook"
    async with OutboundPolicy().session() as session:
        attempt = await WebhookSender(session, WebhookConfig(url_secret="u"), target)(MESSAGE)
    assert attempt.kind is AttemptKind.REFUSED
    assert server.received == []  # not a single byte reached the port


async def test_a_closed_internal_port_reads_the_same_as_an_open_one(
    receiver: tuple[RecordingServer, str],
) -> None:
    _, url = receiver
    closed = "http://127.0.0.1:9/hook"  # discard: nothing listens there
    async with OutboundPolicy().session() as session:
        open_one = await WebhookSender(session, WebhookConfig(url_secret="u"), url)(MESSAGE)
        closed_one = await WebhookSender(session, WebhookConfig(url_secret="u"), closed)(MESSAGE)
    assert open_one == closed_one == Attempt(AttemptKind.REFUSED)


async def test_redirects_are_not_followed() -> None:
    first, internal = RecordingServer(), RecordingServer()
    first_url, internal_url = await first.start(), await internal.start()
    try:
        first.default = f"redirect:{internal_url}/admin"
        async with LOOPBACK.session() as session:  # both allowed: only the hop is tested
            sender = WebhookSender(session, WebhookConfig(url_secret="u"), first_url + "/hook")
            attempt = await sender(MESSAGE)
        assert attempt == Attempt(AttemptKind.HTTP_ERROR, 307)
        assert not attempt.retryable  # and so not sent again either
        assert len(first.received) == 1 and internal.received == []
    finally:
        await first.stop()
        await internal.stop()
