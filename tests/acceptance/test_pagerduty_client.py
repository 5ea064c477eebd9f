"""PyPI's official PagerDuty client (``pagerduty``), unchanged, pointed at Vigil.

The client only takes ``https://`` URLs, so it reaches Vigil through a TLS proxy
(``tls_proxy``), as it would through a production load balancer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pagerduty
import pytest

from tests.acceptance.tls_proxy import TlsProxy
from tests.system import INTEGRATION_KEYS, Vigil

pytestmark = pytest.mark.integration


@pytest.fixture
def proxy(vigil: Vigil, tmp_path: Path) -> Iterator[TlsProxy]:
    tls = TlsProxy(vigil.url, tmp_path)
    yield tls
    tls.close()


def alerts_for(vigil: Vigil, key: str) -> list[dict[str, Any]]:
    r = vigil.session("acme").get(vigil.api(), params={"filter": f'dedup_key="{key}"'}, timeout=30)
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_trigger_acknowledge_resolve_with_the_client(vigil: Vigil, proxy: TlsProxy) -> None:
    client = pagerduty.EventsApiV2Client(
        INTEGRATION_KEYS["acme"], base_url=proxy.url, verify=proxy.client_context()
    )
    key = f"pd-client-{uuid.uuid4().hex}"
    returned = client.trigger(
        "replication lag above 30s",
        "db-replica-2",
        dedup_key=key,
        severity="error",
        custom_details={"lag_s": 42},
        links=[{"href": "https://runbooks.example/lag", "text": "runbook"}],
    )
    assert returned == key
    (alert,) = alerts_for(vigil, key)
    assert alert["severity"] == "high"  # PagerDuty's "error" is Vigil's "high"
    assert alert["labels"]["source"] == "db-replica-2"
    assert "runbooks.example" in alert["annotations"]["links"]
    client.acknowledge(key)
    assert alerts_for(vigil, key)[0]["status"] == "acknowledged"
    client.resolve(key)
    assert alerts_for(vigil, key)[0]["status"] == "resolved"
    # A trigger without a key: the client gets the key Vigil generated.
    generated = client.trigger("cpu hot", "web-1")
    assert len(alerts_for(vigil, generated)) == 1


def test_the_client_sees_refusals(proxy: TlsProxy) -> None:
    client = pagerduty.EventsApiV2Client(
        "0" * 32, base_url=proxy.url, verify=proxy.client_context()
    )
    with pytest.raises(pagerduty.Error, match="400"):
        client.trigger("x", "y")
