"""The Redis key layout, the one place that names keys.

Every tenant key starts with the tenant id, so one tenant's data can be listed,
exported or deleted with ``SCAN MATCH <tenant>:*``. The registry of tenants and
API-key hashes lives under the reserved prefix ``vigil:``; ``vigil`` is therefore
not a valid tenant id.
"""

from __future__ import annotations

import re

SYSTEM_PREFIX = "vigil"
TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")


def check_tenant_id(tenant: str) -> str:
    """Return ``tenant`` if it is a valid tenant id, else raise ``ValueError``."""
    if not TENANT_ID.fullmatch(tenant) or tenant == SYSTEM_PREFIX:
        raise ValueError(
            f"invalid tenant id {tenant!r}: use 1-63 of a-z, 0-9, '_' or '-', "
            f"starting with a letter or digit (and not {SYSTEM_PREFIX!r})"
        )
    return tenant


def alerts(tenant: str) -> str:
    """Hash: alert id → alert JSON, every occurrence the tenant has."""
    return f"{tenant}:alerts"


def changes(tenant: str) -> str:
    """Stream: one entry per alert change, read by the correlator."""
    return f"{tenant}:changes"


def api_keys() -> str:
    """Hash: SHA-256 of an API key → its record (``cluster/tenants.py``: tenant, label,
    when made), for keys made at run time (``vigil tenant create`` / ``create-key``)."""
    return f"{SYSTEM_PREFIX}:apikeys"


def revoked_keys() -> str:
    """Hash: SHA-256 of a revoked key (API or integration, configured or made at run
    time) → when and why it was revoked. A revoked key authenticates nothing."""
    return f"{SYSTEM_PREFIX}:revokedkeys"


def config_applied() -> str:
    """Hash: tenant id → the SHA-256 of the configuration section it last started with
    (``cluster/config_audit.py``)."""
    return f"{SYSTEM_PREFIX}:config-applied"


def deleted_tenants() -> str:
    """Set: tenants being or having been deleted (``cluster/tenant_removal.py``). No actor
    of a tenant in it starts, so nothing can write its keys again; making a key for the
    tenant (re-creating it on purpose) takes it out."""
    return f"{SYSTEM_PREFIX}:deleted-tenants"


TENANT_KEYS = "{tenant}:*"
"""``SCAN MATCH`` pattern of every key of one tenant (format with ``tenant=``)."""


def audit(tenant: str) -> str:
    """List: the tenant's sealed audit entries, oldest first (``alerting/audit.py``)."""
    return f"{tenant}:audit"


def audit_head(tenant: str) -> str:
    """String: ``<seq> <seal>`` of the tenant's newest audit entry, the chain's head."""
    return f"{tenant}:audit-head"


def tenants() -> str:
    """Set: every tenant id created at run time."""
    return f"{SYSTEM_PREFIX}:tenants"


def silences(tenant: str) -> str:
    """Hash: silence id → silence JSON (expired ones too, until their retention ends)."""
    return f"{tenant}:silences"


def integration_keys() -> str:
    """Hash: SHA-256 of an integration key → tenant id.

    Integration keys are the PagerDuty ``routing_key`` / ``service_key`` senders put in
    event bodies. They are separate from API keys because they only allow sending
    events: they sit in many monitoring configs and must not unlock the tenant's API.
    """
    return f"{SYSTEM_PREFIX}:integrationkeys"


def incidents(tenant: str) -> str:
    """Hash: incident id → the incident's own fields as JSON (members kept beside it)."""
    return f"{tenant}:incidents"


def incident_members(tenant: str) -> str:
    """Hash: ``<incident id>/<fingerprint>`` → one member of an incident, as JSON.

    One hash for all incidents, so a batch of new members is one command whatever
    the number of incidents they join.
    """
    return f"{tenant}:incident-members"


def incident_timeline(tenant: str, incident_id: str) -> str:
    """List: the incident's timeline entries as JSON, oldest first (capped)."""
    return f"{tenant}:incident:{incident_id}:timeline"


def timeline_written(tenant: str) -> str:
    """Hash: incident id → how many timeline entries were ever written for it (the
    stored timeline keeps the newest; the difference is what the cap dropped)."""
    return f"{tenant}:timeline-written"


def incident_updates(tenant: str) -> str:
    """Stream: one entry per stored change of the tenant's incidents (state, members,
    timeline), naming the incidents it touched; capped. What live views follow
    (``cluster/incident_feed.py``)."""
    return f"{tenant}:incident-updates"


def groups(tenant: str) -> str:
    """Hash: route path and group key → an Alertmanager aggregation group as JSON."""
    return f"{tenant}:groups"


def group_alerts(tenant: str) -> str:
    """Hash: route path, group key and fingerprint (``\\x00``-separated) → one alert of
    an aggregation group as JSON."""
    return f"{tenant}:group-alerts"


def notification_log(tenant: str) -> str:
    """Hash: receiver, group key and send_resolved → the group's last notification."""
    return f"{tenant}:nflog"


def flaps(tenant: str) -> str:
    """Hash: fingerprint → its recent firing/resolved transition times (flapping)."""
    return f"{tenant}:flaps"


def noise(tenant: str) -> str:
    """Hash: noise counter name → count (alerts received, duplicates, incidents, ...)."""
    return f"{tenant}:noise"


def correlator(tenant: str) -> str:
    """Hash: the correlator's bookkeeping for the tenant (its change-stream position)."""
    return f"{tenant}:correlator"


def rate_watch(tenant: str) -> str:
    """Hash: the rate watch's stored counts' bookkeeping (``cluster/rate_store.py``):
    bucket size, what was counted, the open bucket, each stream's service by number."""
    return f"{tenant}:rate_watch"


def rate_counts(tenant: str, stream: int) -> str:
    """String: one watched stream's recent bucket counts, two bytes each, newest last."""
    return f"{tenant}:rate_counts:{stream}"


def notifications(tenant: str) -> str:
    """Stream: one entry per round of group notifications and incident news, read by
    the escalator (which delivers to receivers and escalates)."""
    return f"{tenant}:notifications"


def secrets(tenant: str) -> str:
    """Hash: secret name → Fernet token (``cluster/secrets.py``); ``*`` matches all."""
    return f"{tenant}:secrets"


def notified(tenant: str) -> str:
    """Hash: notice key → its delivery record (``cluster/notification_log.py``)."""
    return f"{tenant}:notified"


def escalations(tenant: str) -> str:
    """Hash: incident id → its escalation state (``cluster/escalation_store.py``)."""
    return f"{tenant}:escalations"


def escalation_due(tenant: str, lane: int = 0) -> str:
    """Sorted set: incident id → when its next escalation step is due (epoch s), for the
    incidents of one escalator lane (lane 0 keeps the name from before lanes)."""
    return f"{tenant}:escalation-due" if lane == 0 else f"{tenant}:escalation-due:{lane}"


def escalation_people(tenant: str) -> str:
    """Hash: incident id → the people an on-call target notified, by level (JSON), so
    the resolved notice reaches them even after the rotation moved on."""
    return f"{tenant}:escalation-people"


def escalator(tenant: str) -> str:
    """Hash: the escalator's bookkeeping for the tenant (each lane's notifications
    position, ``alerting/lanes.py``)."""
    return f"{tenant}:escalator"


def escalator_position(lane: int) -> str:
    """The field of ``escalator(tenant)`` holding a lane's stream position (lane 0 keeps
    the name from before lanes)."""
    return "position" if lane == 0 else f"position:{lane}"


def lane_of_position(field: str) -> int | None:
    """The lane whose position a field of ``escalator(tenant)`` holds (``None``: not a
    position)."""
    if field == "position":
        return 0
    name, _, lane = field.partition(":")
    return int(lane) if name == "position" and lane.isdigit() else None


def loop_beats() -> str:
    """Hash: ``<kind>/<tenant>`` → that loop's last heartbeat as JSON
    (``cluster/loop_beats.py``): when it last made a round, its lag, shard and pid."""
    return f"{SYSTEM_PREFIX}:loops"


def metrics() -> str:
    """Hash: process name → its latest metric samples (``cluster/metrics_relay.py``);
    a process that stopped publishing is dropped by the reader once stale."""
    return f"{SYSTEM_PREFIX}:metrics"


def actor_starts() -> str:
    """Hash: actor name → how many times it started (restarts are starts after the
    first); survives the actors, so ``/metrics`` shows restarts as a counter."""
    return f"{SYSTEM_PREFIX}:actor-starts"


def supervisor() -> str:
    """Hash: the supervisor's own heartbeat and what it last judged and paged."""
    return f"{SYSTEM_PREFIX}:supervisor"


CHANGE_STREAMS = "*:changes"
"""``SCAN MATCH`` pattern of every tenant's change stream (``changes``)."""


def tenant_of_change_stream(key: str) -> str:
    """The tenant whose change stream ``key`` is (the inverse of ``changes``)."""
    return key.rsplit(":", 1)[0]


def slack_seen(tenant: str, signature: str) -> str:
    """String with a TTL: a Slack request's signature already handled (replays refused)."""
    return f"{tenant}:slack-seen:{signature}"


def ml_snapshots(tenant: str) -> str:
    """Hash: incident id → the feature snapshots taken while it was unlabelled (JSON)."""
    return f"{tenant}:ml:snapshots"


def ml_examples(tenant: str) -> str:
    """Hash: incident id → its labelled training example (``models/history_store.py``)."""
    return f"{tenant}:ml:examples"


def ml_example_order(tenant: str) -> str:
    """Sorted set: incident id → when it was labelled, to keep only the newest examples."""
    return f"{tenant}:ml:order"


ML_EXAMPLES = "*:ml:examples"
"""``SCAN MATCH`` pattern of every tenant's training examples (``ml_examples``)."""


def models() -> str:
    """Hash: model version → its card (``models/registry.py``)."""
    return f"{SYSTEM_PREFIX}:models"


def model(version: str) -> str:
    """String: one registered model's XGBoost booster (raw bytes)."""
    return f"{SYSTEM_PREFIX}:model:{version}"


def models_next() -> str:
    """Counter: the number of the next registered model version."""
    return f"{SYSTEM_PREFIX}:models:next"


def models_promoted() -> str:
    """String: the version that serves risk scores."""
    return f"{SYSTEM_PREFIX}:models:promoted"


def models_log() -> str:
    """List: promotion and refusal decisions, oldest first (JSON)."""
    return f"{SYSTEM_PREFIX}:models:log"
