"""A Slack click's ``response_url`` is used only under Slack's own hooks host.

Before, Vigil POSTed the replacement message to whatever URL the click named, so any
holder of a tenant's signing secret (or a bug in a Slack app) made Vigil post inside
the network (a POST reached 127.0.0.1). The click itself still acts.
"""

from __future__ import annotations

import pytest

from tests.integration.test_incidents_api import one_incident, post_v2
from tests.integration.test_slack_actions import click, send, signed, slack, state
from tests.recording_server import RecordingServer
from tests.system import Vigil, unique_labels

pytestmark = pytest.mark.integration

__all__ = ["slack"]  # the fixture, shared with the Slack action tests


async def test_a_response_url_outside_slack_is_never_posted_to(
    vigil: Vigil, slack: tuple[RecordingServer, str]
) -> None:
    _, url = slack
    labels = unique_labels(severity="critical")
    post_v2(vigil, "acme", [{"labels": labels}])
    incident_id = one_incident(vigil, "acme", labels["alertname"], 1)["id"]
    # The same server by another name: not under an allowed prefix.
    port = url.rsplit(":", 1)[1]
    body = click("vigil_acknowledge", f"acme/{incident_id}", f"http://localhost:{port}/x")
    status, answer = await send(vigil, body, signed(body))
    assert status == 200 and answer["state"] == "acknowledged"  # the click acted
    assert state(vigil, incident_id)["state"] == "acknowledged"
    server, _ = slack
    assert server.received == []  # nothing was posted to the click's URL
