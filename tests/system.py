"""One Ray cluster, one real Redis server and one running Vigil app per test session.

Loaded as a pytest plugin by ``tests/conftest.py`` so integration and acceptance
tests share the same running system. Tests share three tenants and stay apart by
sending labels nobody else sends (``unique_labels``); the tenants, their API keys,
integration keys and acme's routing (an ``alertmanager.yml``) are written into a
test configuration file.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import ray
import redis
import requests
import yaml
from ray import serve

from cluster.config import hash_api_key
from cluster.incident_store import IncidentStore
from cluster.redis_client import sync_client
from cluster.redis_server import EmbeddedRedis, free_port
from cluster.runtime import init_local
from cluster.settings import Settings
from models.registry import ModelRegistry
from models.starter import register_starter
from serve_app.app import APP_NAME, build
from tests.acceptance.grouping_scenarios import SCENARIOS
from tests.acceptance.notification_scenarios import NOTIFY_SCENARIOS
from tests.acceptance.webhook_recorder import WebhookRecorder
from tests.otlp_receiver import OtlpReceiver

ROOT = Path(__file__).resolve().parents[1]


class ReservedPort:
    """A loopback port held by a bound socket from the session's start until the test
    server that owns it takes it. A port only picked, not held, is free for anything
    else meanwhile (another server, an outgoing connection's ephemeral port): once, 13
    minutes into a run, the parity test's recorder found its port taken."""

    def __init__(self) -> None:
        self._socket: socket.socket | None = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.number = int(self._socket.getsockname()[1])
        atexit.register(self.take)  # a session that never ran the test releases it too

    def take(self) -> int:
        """End the reservation, so the test's server can bind the port now; the port."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        return self.number


# Tenants known to the running app: id → API key. Tests share them and stay apart by
# sending labels nobody else sends (``unique_labels``); each tenant costs an actor process.
TENANTS = {
    name: f"{name}-key-{secrets.token_hex(8)}"
    for name in ("acme", "globex", "initech", "umbrella", "hooli", "ops", "tiny", "metered")
}
# The grouping parity scenarios run one tenant each, with the scenario's routing.
PARITY_ROUTING = {s.tenant: s.routing for s in SCENARIOS}
TENANTS.update({name: f"{name}-key-{secrets.token_hex(8)}" for name in PARITY_ROUTING})
# The notification parity scenarios too; their receivers' webhooks go to a recorder
# that listens from the start of the session. A port only picked here and bound when
# the parity test runs was free for anything else meanwhile: once, 13 minutes into a
# run, another socket took it and the parity test could not start its recorder.
NOTIFY_RECORDER_SERVER = WebhookRecorder()
NOTIFY_RECORDER = NOTIFY_RECORDER_SERVER.url
NOTIFY_ROUTING = {s.tenant: s.config(NOTIFY_RECORDER, "vigil") for s in NOTIFY_SCENARIOS}
TENANTS.update({name: f"{name}-key-{secrets.token_hex(8)}" for name in NOTIFY_ROUTING})
# PagerDuty-style integration keys (routing_key) of two tenants.
INTEGRATION_KEYS = {name: secrets.token_hex(16) for name in ("acme", "globex", "tiny")}
# tiny is on the free tier, with quotas small enough for a test to reach.
TINY_LIMITS = {
    "requests_per_second": 1,
    "burst": 5,
    "max_open_alerts": 20,
    "max_silences": 2,
    "timeline_entries": 10,
}
TINY_TIER: dict[str, Any] = {"tier": "free", "limits": TINY_LIMITS}
# acme's routing, in alertmanager.yml's own words.
ACME_ROUTING: dict[str, Any] = {
    "global": {"resolve_timeout": "10m"},
    "route": {
        "receiver": "default",
        "group_by": ["alertname"],
        "routes": [
            {"matchers": ['team="db"'], "receiver": "db-pager", "continue": True},
            {"matchers": ['severity="critical"'], "receiver": "pager"},
        ],
    },
    "receivers": [{"name": "default"}, {"name": "db-pager"}, {"name": "pager"}],
    "inhibit_rules": [
        {
            "source_matchers": ['inhibitor="yes"'],
            "target_matchers": ['inhibitable="yes"'],
            "equal": ["cluster"],
        }
    ],
}


# initech correlates beyond group labels, with timings short enough for timeline tests:
# alerts of topo-api join incidents of topo-db (and of topo-web, which calls topo-api);
# more than 3 toggles in a minute is flapping, and a flapping resolution is held 3s.
INITECH_ROUTING: dict[str, Any] = {
    "route": {
        "receiver": "default",
        "group_by": ["alertname"],
        "group_wait": "0s",
        "group_interval": "1s",
    },
    "receivers": [{"name": "default"}],
}
INITECH_CORRELATION: dict[str, Any] = {
    "window": "1m",
    "topology": {"depends_on": {"topo-web": ["topo-api"], "topo-api": ["topo-db"]}},
    "flapping": {"max_transitions": 3, "window": "1m", "hold": "3s"},
    # Every scored incident of an alert labelled risk_test="page" pages "default" at once,
    # even on the starter model's provisional scores.
    "risk_routes": [
        {
            "receiver": "default",
            "min_risk": 0.0,
            "matchers": ['risk_test="page"'],
            "provisional": True,
        }
    ],
}

# acme's on-call schedule, for the schedules API.
ACME_SCHEDULES: dict[str, Any] = {
    "primary": {
        "time_zone": "Europe/Berlin",
        "layers": [
            {
                "name": "daily",
                "rotation": "daily",
                "handoff": "09:00",
                "start": "2026-01-01",
                "users": ["ana", "ben"],
            }
        ],
        "overrides": [
            {
                "user": "dee",
                "start": "2026-11-26T18:00:00+01:00",
                "end": "2026-11-27T09:00:00+01:00",
            }
        ],
    }
}

# hooli escalates: level 1 at once to webhook l1, level 2 two seconds later to l2
# (their URLs are secrets the escalation tests set to their recording servers).
# Alerts labelled escalation_test="fallback" go to receiver "fallback": one level that
# notifies l1 and Slack, falling back to Teams and then a webhook. Those labelled
# escalation_test="oncall" page whoever is on call for schedule "primary" (always ana,
# reached through her webhook). Those labelled escalation_test="slack-bot" are posted
# by a Slack bot token to a fake Slack Web API listening on SLACK_API_PORT.
SLACK_API = ReservedPort()
SLACK_API_PORT = SLACK_API.number
SLACK_BOT_CHANNEL = "C0ONCALL"
# Alerts labelled escalation_test="mute" go to receiver "muted-team": its webhook (an
# alertmanager.yml integration, to a recorder on MUTE_HOOK_PORT) and policy "mutable"
# (level 1 at once, level 2 six seconds later). An alert labelled mute_source="yes"
# inhibits those labelled mute_target="yes" of the same cluster.
MUTE_HOOK = ReservedPort()
MUTE_HOOK_PORT = MUTE_HOOK.number
HOOLI_ESCALATION: dict[str, Any] = {
    "alertmanager": {
        "route": {
            "receiver": "default",
            "group_by": ["alertname"],
            "group_wait": "0s",
            "group_interval": "1s",  # resolved notices within a second, as on initech
            "routes": [
                {"matchers": ['escalation_test="fallback"'], "receiver": "fallback"},
                {"matchers": ['escalation_test="oncall"'], "receiver": "oncall"},
                {"matchers": ['escalation_test="slack-bot"'], "receiver": "slack-bot"},
                {"matchers": ['escalation_test="mute"'], "receiver": "muted-team"},
            ],
        },
        "receivers": [
            *({"name": n} for n in ("default", "fallback", "oncall", "slack-bot")),
            {
                "name": "muted-team",
                "webhook_configs": [{"url": f"http://127.0.0.1:{MUTE_HOOK_PORT}/muted-team"}],
            },
        ],
        "inhibit_rules": [
            {
                "source_matchers": ['mute_source="yes"'],
                "target_matchers": ['mute_target="yes"'],
                "equal": ["cluster"],
            }
        ],
    },
    "escalation": {
        "policies": {
            "fast": {
                "levels": [
                    {"targets": [{"channel": "l1"}], "escalate_after": "2s"},
                    {"targets": [{"channel": "l2"}], "escalate_after": "2s"},
                ]
            },
            "with-fallback": {
                "levels": [
                    {
                        "targets": [{"channel": "l1"}, {"channel": "slack"}],
                        "fallback": ["teams", "backup"],
                        "escalate_after": "1m",
                    }
                ]
            },
            "oncall": {"levels": [{"targets": [{"schedule": "primary"}]}]},
            "mutable": {
                "levels": [
                    {"targets": [{"channel": "l1"}], "escalate_after": "6s"},
                    {"targets": [{"channel": "l2"}], "escalate_after": "1m"},
                ]
            },
            "slack-bot": {"levels": [{"targets": [{"channel": "slack-bot"}]}]},
        },
        "receivers": {
            "fallback": "with-fallback",
            "oncall": "oncall",
            "slack-bot": "slack-bot",
            "muted-team": "mutable",
        },
        "default_policy": "fast",
    },
    "channels": {
        "l1": {"type": "webhook", "url_secret": "l1-url"},
        "l2": {"type": "webhook", "url_secret": "l2-url"},
        "slack": {"type": "slack", "webhook_url_secret": "slack-url"},
        "teams": {"type": "teams", "webhook_url_secret": "teams-url"},
        "backup": {"type": "webhook", "url_secret": "backup-url"},
        "ana-hook": {"type": "webhook", "url_secret": "ana-url"},
        "slack-bot": {
            "type": "slack",
            "bot_token_secret": "slack-bot-token",
            "channel": SLACK_BOT_CHANNEL,
            "api_url": f"http://127.0.0.1:{SLACK_API_PORT}/api",
        },
    },
    "schedules": {
        "primary": {
            "time_zone": "UTC",
            "layers": [{"rotation": "daily", "start": "2026-01-01", "users": ["ana"]}],
        }
    },
    "people": {"ana": {"channels": ["ana-hook"]}},
}

# ops owns Vigil's self-monitoring: the self-page and the dead man's switch go to its
# webhooks (their URLs are secrets the self-monitoring tests set to recording servers);
# its Watchdog alert is refreshed every 2 s. No escalation: the Watchdog pages nobody.
OPS_TENANT: dict[str, Any] = {
    "channels": {
        "self-page": {"type": "webhook", "url_secret": "self-page-url"},
        "self-page-backup": {"type": "webhook", "url_secret": "self-page-backup-url"},
        "deadman": {"type": "webhook", "url_secret": "deadman-url"},
    },
}
MONITORING: dict[str, Any] = {
    "tenant": "ops",
    "page": ["self-page", "self-page-backup"],
    "repeat_interval": "0s",
    "watchdog": {"channel": "deadman", "interval": "2s", "alert": True},
}
# metered is the metrics test's alone (tests/acceptance/test_vigil_metrics.py), so its
# counts are exact: every alert pages the "page" webhook once, at level 1.
METERED_TENANT: dict[str, Any] = {
    "alertmanager": {
        "route": {"receiver": "team", "group_by": ["alertname"], "group_wait": "0s"},
        "receivers": [{"name": "team"}],
    },
    "escalation": {
        "policies": {"once": {"levels": [{"targets": [{"channel": "page"}]}]}},
        "default_policy": "once",
    },
    "channels": {"page": {"type": "webhook", "url_secret": "page-url"}},
}
# A loop with no round for this long is stalled (the default is 30 s); generous enough
# for a loaded 2-core machine, short enough for the stall tests.
LOOP_STALL_SECONDS = 8.0
TEST_RECEIVERS = "127.0.0.0/8"  # VIGIL_OUTBOUND_ALLOW of every test that pages
TEST_RESPONSE_URLS = "http://127.0.0.1:"  # where the tests' Slack clicks point

# umbrella's alert rate is watched in quarter-second buckets, so a test sees a storm
# after seconds of quiet rather than half an hour.
UMBRELLA_CORRELATION: dict[str, Any] = {
    "anomaly": {"bucket": "250ms", "storm_min_alerts": 20, "resolve_after": "1m"},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the CLI lifecycle test first: it starts and stops a Ray head of its own, which
    must not happen while the shared session cluster is up."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("lifecycle") else 1)


def key_label(tenant: str) -> str:
    """The label of a test tenant's API key: the name its changes are recorded under."""
    return f"{tenant}-tests"


def said_by(tenant: str, name: str) -> str:
    """The ``by`` of a change a test tenant's key made while the body said ``name``."""
    return f"{key_label(tenant)} (says {name})"


@dataclass
class Vigil:
    """The running system under test, and handles to break its parts."""

    url: str
    settings: Settings
    redis: EmbeddedRedis

    def session(self, tenant: str) -> requests.Session:
        """An HTTP session authenticated as ``tenant``."""
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {TENANTS[tenant]}"
        return s

    def basic(self, tenant: str, user: str | None = None) -> requests.Session:
        """A session using basic auth: user = tenant id, password = API key."""
        s = requests.Session()
        s.auth = (user or tenant, TENANTS[tenant])
        return s

    def api(self, path: str = "") -> str:
        return f"{self.url}/api/v1/critical-alerts{path}"

    def incidents_url(self, path: str = "") -> str:
        return f"{self.url}/api/v1/incidents{path}"

    def incidents(
        self, tenant: str, alertname: str | None = None, **params: Any
    ) -> list[dict[str, Any]]:
        """The tenant's incidents (those with a member of this alertname), each in full."""
        s = self.session(tenant)
        if alertname is not None:
            params["filter"] = f'alertname="{alertname}"'
        r = s.get(self.incidents_url(), params={"limit": 1000, **params}, timeout=30)
        assert r.status_code == 200, r.text
        return [
            s.get(self.incidents_url(f"/{i['id']}"), timeout=30).json() for i in r.json()["items"]
        ]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("vigil-data"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """Where every Vigil process of the session exports its traces."""
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def settings(
    redis_server: EmbeddedRedis,
    otlp_receiver: OtlpReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    config = tmp_path_factory.mktemp("config") / "vigil.yaml"
    tenants: list[dict[str, Any]] = []
    for tenant, key in TENANTS.items():
        api_key = {"sha256": hash_api_key(key), "label": key_label(tenant)}
        entry: dict[str, Any] = {"id": tenant, "api_keys": [api_key]}
        if tenant in INTEGRATION_KEYS:
            entry["integration_keys"] = [{"sha256": hash_api_key(INTEGRATION_KEYS[tenant])}]
        if tenant == "acme":
            entry["alertmanager"] = ACME_ROUTING
            entry["schedules"] = ACME_SCHEDULES
        if tenant in PARITY_ROUTING:
            entry["alertmanager"] = PARITY_ROUTING[tenant]
        if tenant in NOTIFY_ROUTING:
            entry["alertmanager"] = NOTIFY_ROUTING[tenant]  # flapping holds stay on:
            # they shape incidents, never what receivers are sent
        if tenant == "initech":
            entry["alertmanager"] = INITECH_ROUTING
            entry["correlation"] = INITECH_CORRELATION
        if tenant == "umbrella":
            entry["correlation"] = UMBRELLA_CORRELATION
        if tenant == "hooli":
            entry.update(HOOLI_ESCALATION)
        if tenant == "ops":
            entry.update(OPS_TENANT)
        if tenant == "tiny":
            entry.update(TINY_TIER)
        if tenant == "metered":
            entry.update(METERED_TENANT)
        tenants.append(entry)
    document = {"tenants": tenants, "monitoring": MONITORING}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    return Settings(
        REDIS_URL=redis_server.url,
        VIGIL_DATA_DIR=redis_server.dir.parent,
        VIGIL_CONFIG=config,
        VIGIL_SERVE_CONFIG=ROOT / "configs" / "serve.yaml",
        VIGIL_MAX_BULK_ALERTS=10_000,
        CRITICAL_ALERT_MAX_ESCALATION_LEVELS=3,
        CRITICAL_ALERT_CACHE_TTL=0,
        VIGIL_LOOP_STALL_SECONDS=LOOP_STALL_SECONDS,
        VIGIL_METRICS_INTERVAL=1,  # the metrics test waits on counts; a second is enough
        # Two escalator processes per shard: every escalation and notification test
        # runs with a tenant's work spread over lanes (``vigil up``'s one lane is the
        # lifecycle tests'), and tests/acceptance/test_escalator_lanes.py kills one.
        VIGIL_ESCALATOR_LANES=2,
        # Traces go to the session's receiver, but only for requests that ask for one
        # (a sampled traceparent): the other tests' requests cost no exports.
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.url,
        VIGIL_TRACE_SAMPLE_RATIO=0,
        # The tests' receivers (webhooks, Slack, PagerDuty, Teams) listen on loopback,
        # which the outbound policy refuses unless allowed (tests/security prove it).
        VIGIL_OUTBOUND_ALLOW=TEST_RECEIVERS,
        VIGIL_SLACK_RESPONSE_URL_PREFIXES=f"https://hooks.slack.com/,{TEST_RESPONSE_URLS}",
    )


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    init_local(num_cpus=2)
    yield
    serve.shutdown()
    ray.shutdown()


@pytest.fixture(scope="session")
def vigil(ray_cluster: None, settings: Settings, redis_server: EmbeddedRedis) -> Vigil:
    register_starter_model(redis_server.url)
    port = free_port()
    serve.start(
        http_options={"host": "127.0.0.1", "port": port},
        logging_config={"enable_access_log": False, "log_level": "WARNING"},
    )
    serve.run(build(settings), name=APP_NAME, route_prefix="/", blocking=False)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.2)
    else:
        pytest.fail("Vigil did not become healthy within 60s")
    return Vigil(url=url, settings=settings, redis=redis_server)


def other_database(url: str, db: int) -> str:
    """The URL of another (emptied) database of the session's Redis: for tests of the
    registry and of retraining, which must not touch the serving model."""
    isolated = f"{url.rsplit('/', 1)[0]}/{db}"
    redis.Redis.from_url(isolated).flushdb()
    return isolated


@contextlib.asynccontextmanager
async def incident_store_in(
    url: str, db: int, tenant: str
) -> AsyncIterator[tuple[IncidentStore, redis.Redis]]:
    """A tenant's ``IncidentStore`` on database ``db`` of the session's Redis (emptied),
    with a plain client to look at what it wrote; both closed afterwards."""
    isolated = other_database(url, db)
    store = IncidentStore(tenant, isolated)
    client = redis.Redis.from_url(isolated)
    try:
        yield store, client
    finally:
        client.close()
        await store.aclose()


def register_starter_model(url: str) -> str:
    """Train and promote the simulated starter model (once per session), so incidents
    are scored as on a real installation; return its version."""
    registry = ModelRegistry(sync_client(url))
    promoted = registry.promoted()
    if promoted is not None:
        return promoted
    return register_starter(registry, "the test session's starter model", rounds=60)


def unique_labels(**extra: str) -> dict[str, str]:
    """Labels no other test sends, so fingerprints never collide across tests."""
    return {"alertname": f"Test{uuid.uuid4().hex[:8]}", **extra}


async def wait_until(
    predicate: Callable[[], Awaitable[object]], within: float = 10.0, interval: float = 0.1
) -> object:
    """Await ``predicate`` until it returns a truthy value; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {within}s")
        await asyncio.sleep(interval)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


def silence_for_an_hour(
    vigil: Vigil, tenant: str, alertname: str, comment: str = "maintenance", by: str = "test"
) -> str:
    """Silence ``alertname`` from now for an hour through the API; the silence's id."""
    now = datetime.now(UTC)
    body = {
        "matchers": [{"name": "alertname", "value": alertname, "isRegex": False}],
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
        "createdBy": by,
        "comment": comment,
    }
    r = vigil.session(tenant).post(f"{vigil.url}/api/v2/silences", json=body, timeout=30)
    assert r.status_code == 200, r.text
    return str(r.json()["silenceID"])
