"""GraphQL at /graphql, driven by the ``gql`` client library unchanged: queries with the
REST filters and cursors, every mutation, the ``incidentUpdates`` subscription over
graphql-transport-ws, and what another tenant, a bad key or a costly query gets.

hooli escalates by its "fast" policy (level 1 at once to webhook l1, level 2 two
seconds later to l2); the ``levels`` fixture records both.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError, TransportServerError
from gql.transport.websockets import WebsocketsTransport

from tests.recording_server import RecordingServer
from tests.system import TENANTS, Vigil, unique_labels, wait_until

pytestmark = [
    pytest.mark.integration,
    # gql 4 would rather have the variables on the request; both are its public API.
    pytest.mark.filterwarnings("ignore:Using variable_values:DeprecationWarning"),
]

TENANT = "hooli"
OTHER = "globex"

SEND = gql(
    """
    mutation Send($alert: CriticalAlertInput!) {
      createAlert(alert: $alert) { id fingerprint status duplicate }
    }
    """
)
INCIDENTS = gql(
    """
    query Incidents($filter: [String!], $limit: Int!, $cursor: String) {
      incidents(filter: $filter, limit: $limit, cursor: $cursor) {
        total nextCursor items { id state severity alertCount muted }
      }
    }
    """
)
INCIDENT = gql(
    """
    query Incident($id: ID!) {
      incident(id: $id) {
        id state acknowledgedBy muted mutedBy
        members { alertId fingerprint reason labels suppressed silencedBy }
        timeline { event by detail }
      }
    }
    """
)
UPDATES = gql(
    """
    subscription Updates($after: String) {
      incidentUpdates(after: $after) { position gap removed incidents { id state } }
    }
    """
)


def http(vigil: Vigil, tenant: str | None, key: str | None = None, schema: bool = True) -> Client:
    """A client of /graphql; with ``schema``, it checks queries against the schema it
    fetched by introspection first (without, the server alone judges them)."""
    headers = {} if tenant is None else {"Authorization": f"Bearer {key or TENANTS[tenant]}"}
    transport = AIOHTTPTransport(url=f"{vigil.url}/graphql", headers=headers)
    return Client(transport=transport, fetch_schema_from_transport=schema)


def websocket(vigil: Vigil, tenant: str, key: str | None = None) -> Client:
    url = vigil.url.replace("http://", "ws://") + "/graphql"
    payload = {"Authorization": f"Bearer {key or TENANTS[tenant]}"}
    return Client(transport=WebsocketsTransport(url=url, init_payload=payload))


@pytest.fixture
async def hooli(vigil: Vigil) -> AsyncIterator[Any]:
    async with http(vigil, TENANT) as session:
        yield session


async def send(session: Any, labels: dict[str, str], severity: str = "critical") -> Any:
    return (await session.execute(SEND, variable_values={"alert": _alert(labels, severity)}))[
        "createAlert"
    ]


def _alert(labels: dict[str, str], severity: str) -> dict[str, Any]:
    return {"labels": labels, "severity": severity, "annotations": {"summary": "from gql"}}


async def incident_of(session: Any, alertname: str) -> dict[str, Any]:
    """The one incident with a member of this alertname, once the correlator formed it."""

    async def found() -> Any:
        variables = {"filter": [f'alertname="{alertname}"'], "limit": 10}
        page = (await session.execute(INCIDENTS, variable_values=variables))["incidents"]
        return page["items"][0] if page["items"] else None

    incident: dict[str, Any] = await wait_until(found, within=20)  # type: ignore[assignment]
    return incident


def refusal(raised: pytest.ExceptionInfo[TransportQueryError]) -> dict[str, Any]:
    errors = raised.value.errors
    assert errors, raised.value
    extensions: dict[str, Any] = errors[0]["extensions"]
    return extensions


async def test_an_alert_sent_by_mutation_forms_an_incident_readable_whole(hooli: Any) -> None:
    labels = unique_labels(service="gql")
    sent = await send(hooli, labels)
    assert sent["status"] == "firing" and sent["duplicate"] is False
    again = await send(hooli, labels)
    assert again["duplicate"] is True and again["id"] == sent["id"]

    summary = await incident_of(hooli, labels["alertname"])
    assert summary["severity"] == "critical" and summary["alertCount"] == 1
    whole = (await hooli.execute(INCIDENT, variable_values={"id": summary["id"]}))["incident"]
    (member,) = whole["members"]
    assert member["alertId"] == sent["id"] and member["labels"] == labels
    assert member["reason"] and member["suppressed"] is False
    assert whole["timeline"][0]["event"] == "created"

    # The starter model scores it; its risk is shown as provisional, with the reason.
    scored_query = gql("query R($id: ID!) { incident(id: $id) { risk riskModel riskProvisional } }")

    async def scored() -> Any:
        found = await hooli.execute(scored_query, variable_values={"id": summary["id"]})
        return found["incident"] if found["incident"]["risk"] is not None else None

    risk = await wait_until(scored, within=20)
    assert 0 <= risk["risk"] <= 1 and risk["riskModel"]  # type: ignore[index]
    assert "simulated history" in risk["riskProvisional"]  # type: ignore[index]

    alert = await hooli.execute(
        gql("query A($id: ID!) { alert(id: $id) { id status labels annotations severity } }"),
        variable_values={"id": sent["id"]},
    )
    assert alert["alert"]["labels"] == labels
    assert alert["alert"]["annotations"] == {"summary": "from gql"}


async def test_lists_page_with_the_rest_filters_and_cursors(hooli: Any) -> None:
    service = unique_labels()["alertname"]
    for n in range(3):
        await send(hooli, unique_labels(service=service, n=str(n)))
    matcher = [f'service="{service}"']

    async def all_three() -> Any:
        variables = {"filter": matcher, "limit": 2}
        page = (await hooli.execute(INCIDENTS, variable_values=variables))["incidents"]
        return page if page["total"] == 3 else None

    first = await wait_until(all_three, within=20)
    assert isinstance(first, dict) and len(first["items"]) == 2 and first["nextCursor"]
    variables = {"filter": matcher, "limit": 2, "cursor": first["nextCursor"]}
    second = (await hooli.execute(INCIDENTS, variable_values=variables))["incidents"]
    assert len(second["items"]) == 1 and second["nextCursor"] is None
    ids = {i["id"] for i in first["items"]} | {i["id"] for i in second["items"]}
    assert len(ids) == 3

    alerts = await hooli.execute(
        gql(
            'query { alerts(status: ["firing"], filter: ["service=~\\"' + service + '\\""]) '
            "{ total items { labels } } }"
        )
    )
    assert alerts["alerts"]["total"] == 3


async def test_acknowledging_stops_the_escalation_and_feedback_is_kept(
    hooli: Any, levels: tuple[RecordingServer, RecordingServer]
) -> None:
    l1, l2 = levels
    labels = unique_labels()
    await send(hooli, labels)
    incident = await incident_of(hooli, labels["alertname"])
    await wait_until(lambda: _async(paged(l1, incident["id"])), within=20)

    async def level_one() -> Any:
        found = await hooli.execute(
            gql("query I($id: ID!) { incident(id: $id) { escalation { policy level } } }"),
            variable_values={"id": incident["id"]},
        )
        status = found["incident"]["escalation"]
        return status and status["level"] >= 1 and status  # saved once delivered

    status = await wait_until(level_one, within=20)
    assert isinstance(status, dict) and status["policy"] == "fast"

    acknowledged = await hooli.execute(
        gql(
            'mutation A($id: ID!) { acknowledgeIncident(id: $id, reason: "on it") '
            "{ id state acknowledgedBy } }"
        ),
        variable_values={"id": incident["id"]},
    )
    assert acknowledged["acknowledgeIncident"]["state"] == "acknowledged"
    assert acknowledged["acknowledgeIncident"]["acknowledgedBy"] == "hooli-tests"
    # Acknowledged, it no longer climbs by itself; by hand it goes one level up, unless
    # level 2 (the last) was already paged, or being paged, when it was acknowledged (a
    # loaded machine): then the answer is 409, and level 2 did get the page.
    escalate = gql("mutation E($id: ID!) { escalateIncident(id: $id) }")
    try:
        escalated = await hooli.execute(escalate, variable_values={"id": incident["id"]})
    except TransportQueryError as exc:
        assert exc.errors and exc.errors[0]["extensions"]["status"] == 409, exc
        await wait_until(lambda: _async(paged(l2, incident["id"])), within=20)
    else:
        assert escalated["escalateIncident"] == 2
        await wait_until(lambda: _async(paged(l2, incident["id"])), within=20)

    feedback = await hooli.execute(
        gql('mutation F($id: ID!) { giveFeedback(id: $id, verdict: "noise") { feedback } }'),
        variable_values={"id": incident["id"]},
    )
    assert feedback["giveFeedback"]["feedback"] == "noise"
    with pytest.raises(TransportQueryError) as refused:
        await hooli.execute(
            gql('mutation F($id: ID!) { giveFeedback(id: $id, verdict: "meh") { id } }'),
            variable_values={"id": incident["id"]},
        )
    assert refusal(refused)["status"] == 422

    resolved = await hooli.execute(
        gql("mutation R($id: ID!) { resolveIncident(id: $id) { state resolvedBy } }"),
        variable_values={"id": incident["id"]},
    )
    assert resolved["resolveIncident"]["state"] == "resolved"


async def _async(value: Any) -> Any:
    return value


def paged(server: RecordingServer, incident_id: str) -> bool:
    """Whether the server got a notice about the incident."""
    return any(json.loads(r.body).get("incident_id") == incident_id for r in server.received)


async def test_a_silence_mutes_an_alert_and_expires(hooli: Any) -> None:
    labels = unique_labels(service="gql-silence")
    await send(hooli, labels)
    incident = await incident_of(hooli, labels["alertname"])
    ends = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = await hooli.execute(
        gql(
            "mutation S($s: SilenceInput!) { createSilence(silence: $s) "
            "{ id state createdBy matchers { name value isRegex isEqual } } }"
        ),
        variable_values={
            "s": {
                "matchers": [f'alertname="{labels["alertname"]}"'],
                "endsAt": ends,
                "comment": "maintenance",
            }
        },
    )
    silence = created["createSilence"]
    assert silence["state"] == "active" and silence["createdBy"] == "hooli-tests"
    assert silence["matchers"] == [
        {"name": "alertname", "value": labels["alertname"], "isRegex": False, "isEqual": True}
    ]

    async def muted() -> Any:
        found = await hooli.execute(INCIDENT, variable_values={"id": incident["id"]})
        return found["incident"]["muted"] and found["incident"]

    whole = await wait_until(muted, within=20)
    assert isinstance(whole, dict) and whole["members"][0]["silencedBy"] == [silence["id"]]

    listed = await hooli.execute(gql("query { silences { id state } }"))
    assert {"id": silence["id"], "state": "active"} in listed["silences"]
    expired = await hooli.execute(
        gql("mutation X($id: ID!) { expireSilence(id: $id) { state } }"),
        variable_values={"id": silence["id"]},
    )
    assert expired["expireSilence"]["state"] == "expired"


async def test_the_subscription_streams_this_tenants_incident_changes(
    vigil: Vigil, hooli: Any
) -> None:
    mine, theirs = unique_labels(), unique_labels()
    seen: list[dict[str, Any]] = []
    async with websocket(vigil, TENANT) as subscriber, http(vigil, OTHER) as other:
        # Start from now: the head of the feed, then send.
        updates = subscriber.subscribe(UPDATES)

        async def read() -> None:
            async for item in updates:
                seen.append(item["incidentUpdates"])

        reader = asyncio.create_task(read())
        try:
            await asyncio.sleep(0)  # let the subscription start before the alerts
            await send(other, theirs)
            await send(hooli, mine)
            incident = await incident_of(hooli, mine["alertname"])

            def has(state: str) -> bool:
                return any(
                    i["id"] == incident["id"] and i["state"] == state
                    for batch in seen
                    for i in batch["incidents"]
                )

            await wait_until(lambda: _async(has("triggered")), within=20)
            await hooli.execute(
                gql("mutation A($id: ID!) { acknowledgeIncident(id: $id) { id } }"),
                variable_values={"id": incident["id"]},
            )
            await wait_until(lambda: _async(has("acknowledged")), within=20)
        finally:
            reader.cancel()
        other_incident = await incident_of(other, theirs["alertname"])
    streamed = {i["id"] for batch in seen for i in batch["incidents"]}
    assert other_incident["id"] not in streamed, "another tenant's incident was streamed"
    assert all(batch["position"] for batch in seen)


async def test_a_subscription_resumes_from_a_position(vigil: Vigil, hooli: Any) -> None:
    async with websocket(vigil, TENANT) as subscriber:
        labels = unique_labels()
        before = await hooli.execute(gql("query { incidents(limit: 1) { total } }"))
        assert before["incidents"]["total"] >= 0
        # The position before the alert: a subscription after it has started.
        first_updates = subscriber.subscribe(UPDATES)
        await send(hooli, labels)
        first = await asyncio.wait_for(anext(first_updates), 30)
        position = first["incidentUpdates"]["position"]
        await first_updates.aclose()
    incident = await incident_of(hooli, labels["alertname"])
    await hooli.execute(
        gql("mutation A($id: ID!) { acknowledgeIncident(id: $id) { id } }"),
        variable_values={"id": incident["id"]},
    )
    async with websocket(vigil, TENANT) as subscriber:
        resumed = subscriber.subscribe(UPDATES, variable_values={"after": position})
        while True:  # everything after the position, the acknowledgement among it
            batch = (await asyncio.wait_for(anext(resumed), 30))["incidentUpdates"]
            states = {i["state"] for i in batch["incidents"] if i["id"] == incident["id"]}
            if "acknowledged" in states:
                break
        await resumed.aclose()


async def test_another_tenant_finds_nothing_and_changes_nothing(vigil: Vigil, hooli: Any) -> None:
    labels = unique_labels()
    sent = await send(hooli, labels)
    incident = await incident_of(hooli, labels["alertname"])
    async with http(vigil, OTHER) as other:
        for query, variables in (
            (INCIDENT, {"id": incident["id"]}),
            (gql("query A($id: ID!) { alert(id: $id) { id } }"), {"id": sent["id"]}),
            (
                gql("mutation A($id: ID!) { acknowledgeIncident(id: $id) { id } }"),
                {"id": incident["id"]},
            ),
            (gql("mutation E($id: ID!) { escalateIncident(id: $id) }"), {"id": incident["id"]}),
        ):
            with pytest.raises(TransportQueryError) as refused:
                await other.execute(query, variable_values=variables)
            assert refusal(refused) == {"code": "not_found", "status": 404}
        variables = {"filter": [f'alertname="{labels["alertname"]}"'], "limit": 10}
        listed = await other.execute(INCIDENTS, variable_values=variables)
        assert listed["incidents"] == {"total": 0, "nextCursor": None, "items": []}
    whole = await hooli.execute(INCIDENT, variable_values={"id": incident["id"]})
    assert whole["incident"]["state"] == "triggered"


async def test_bad_input_is_refused_with_the_rest_answer_and_stores_nothing(
    vigil: Vigil, hooli: Any
) -> None:
    labels = unique_labels()
    with pytest.raises(TransportQueryError) as refused:
        await hooli.execute(
            SEND, variable_values={"alert": {"labels": labels, "severity": "apocalyptic"}}
        )
    problem = refusal(refused)
    assert problem["status"] == 422 and problem["code"] == "invalid_request"
    assert problem["details"][0]["field"] == "severity"
    with pytest.raises(TransportQueryError) as refused:
        await hooli.execute(INCIDENTS, variable_values={"filter": ["not a matcher"], "limit": 5})
    assert refusal(refused)["status"] == 422
    listed = await hooli.execute(
        gql("query F($f: [String!]) { alerts(filter: $f) { total } }"),
        variable_values={"f": [f'alertname="{labels["alertname"]}"']},
    )
    assert listed["alerts"]["total"] == 0


async def test_keys_are_checked_over_http_and_websocket(vigil: Vigil) -> None:
    for client in (http(vigil, None), http(vigil, TENANT, key="not-a-key")):
        with pytest.raises(TransportServerError) as refused:
            async with client as session:
                await session.execute(gql("query { incidents { total } }"))
        assert refused.value.code == 401
    with pytest.raises(TransportServerError):
        async with websocket(vigil, TENANT, key="not-a-key") as session:
            async for _ in session.subscribe(UPDATES):
                pytest.fail("a subscription with a bad key streamed")


async def test_costly_queries_are_refused_before_they_run(vigil: Vigil) -> None:
    async with http(vigil, TENANT, schema=False) as hooli:
        await costly_queries_are_refused(hooli)


async def costly_queries_are_refused(hooli: Any) -> None:
    aliases = " ".join(f"a{n}: alertMetrics {{ received }}" for n in range(31))
    with pytest.raises(TransportQueryError) as refused:
        await hooli.execute(gql("query { " + aliases + " }"))
    assert "aliases found" in str(refused.value)
    # A long query, however shallow: its tokens.
    with pytest.raises(TransportQueryError) as refused:
        await hooli.execute(gql("query { " + "__typename " * 6000 + "}"))
    assert "more than 5000 tokens" in str(refused.value)
    costly = gql(
        "query { incidents(limit: 1000) { items { id members { labels } timeline { event } } } }"
    )
    with pytest.raises(TransportQueryError) as refused:
        await hooli.execute(costly)
    assert refusal(refused)["code"] == "query_too_costly"
    # Within the limits, the same shape runs.
    fine = await hooli.execute(
        gql("query { incidents(limit: 5) { items { members { labels } } } }")
    )
    assert "incidents" in fine


async def test_introspection_and_the_read_only_views(hooli: Any) -> None:
    schema = hooli.client.schema
    assert schema is not None
    for name in (
        "CriticalAlert",
        "Incident",
        "EscalationRule",
        "NotificationChannel",
        "AlertMetrics",
        "Schedule",
        "OnCall",
    ):
        assert schema.get_type(name) is not None, name
    views = await hooli.execute(
        gql(
            "query { escalationRules { name isDefault receivers levels { level escalateAfter "
            "targets { channel schedule } fallback } } "
            "notificationChannels { name type kind health { status delivered failed } } "
            "alertMetrics { received incidents alertsPerIncident figures } "
            "schedules { id timeZone now { user source until } next { user } } }"
        )
    )
    rules = {r["name"]: r for r in views["escalationRules"]}
    assert rules["fast"]["isDefault"] is True
    assert [lv["targets"] for lv in rules["fast"]["levels"]] == [
        [{"channel": "l1", "schedule": None}],
        [{"channel": "l2", "schedule": None}],
    ]
    assert rules["with-fallback"]["levels"][0]["fallback"] == ["teams", "backup"]
    assert rules["oncall"]["receivers"] == ["oncall"]
    channels = {c["name"]: c for c in views["notificationChannels"]}
    assert channels["l1"]["type"] == "webhook" and channels["slack"]["type"] == "slack"
    assert channels["muted-team/webhook_configs[0]"]["kind"] == "receiver"
    assert "url" not in str(views["notificationChannels"]).lower()
    assert views["alertMetrics"]["received"] >= 1
    (primary,) = views["schedules"]
    assert primary["id"] == "primary" and primary["now"]["user"] == "ana"
