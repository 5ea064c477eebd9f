"""Malformed input is a 4xx with a clear error, never a 500, and changes nothing.

Before: a JSON body nested 100,000 deep raised RecursionError (500), and a non-ASCII
link or Slack signature made ``hmac.compare_digest`` raise TypeError (500).
"""

from __future__ import annotations

import time

import pytest
import requests

from alerting.signature import equal_digests, verify_link
from serve_app.links_api import PREFIX
from serve_app.slack_api import PATH as SLACK_PATH
from tests.integration.test_slack_actions import click
from tests.security.helpers import silence_ids, v2
from tests.system import Vigil

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}
DEEP = ("[" * 100_000 + "]" * 100_000).encode()


def test_equal_digests_takes_any_text() -> None:
    assert equal_digests("abc", "abc") and not equal_digests("abc", "äbc")
    assert not verify_link("s", "acme", "inc", "acknowledge", 1, "signé")


@pytest.mark.parametrize(
    "path", ["/api/v1/critical-alerts", "/api/v2/alerts", "/api/v2/silences", "/v2/enqueue"]
)
def test_deeply_nested_json_is_a_400(vigil: Vigil, path: str) -> None:
    before = silence_ids(vigil, "acme")
    r = vigil.session("acme").post(vigil.url + path, data=DEEP, headers=JSON, timeout=30)
    assert r.status_code == 400, r.text
    assert "nested too deeply" in r.text
    assert silence_ids(vigil, "acme") == before


def test_a_non_ascii_link_signature_is_a_401(vigil: Vigil) -> None:
    expires = int(time.time()) + 600
    url = f"{vigil.url}{PREFIX}/acme/inc-1/acknowledge"
    r = requests.get(url, params={"expires": expires, "sig": "ünïcode"}, timeout=30)
    assert r.status_code == 401, r.text


def test_a_non_ascii_slack_signature_is_a_401(vigil: Vigil) -> None:
    body = click("vigil_acknowledge", "acme/inc-1", "https://hooks.slack.com/x")
    headers = {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=ünïcode",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    r = requests.post(vigil.url + SLACK_PATH, data=body, headers=headers, timeout=30)
    assert r.status_code == 401, r.text


def test_a_silence_body_nested_where_a_string_belongs_is_refused(vigil: Vigil) -> None:
    before = silence_ids(vigil, "acme")
    r = vigil.session("acme").post(
        v2(vigil, "/silences"), data=b'{"matchers": [[[[[[[[]]]]]]]]}', headers=JSON, timeout=30
    )
    assert 400 <= r.status_code < 500, r.text
    assert silence_ids(vigil, "acme") == before
