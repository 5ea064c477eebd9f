"""Vigil's metric families: every one, with its labels, defined once.

Each process (an ingress or predictor replica, a tenant, correlator or escalator
actor, the supervisor) counts into this module's ``REGISTRY``; ``cluster/metrics_relay.py``
publishes the process's samples to Redis and the ingress's ``GET /metrics`` serves
every process's, each with a ``process`` label, as one scrape target.

Label values are bounded: a tenant id, a route template, a channel *type*, a reason
from a fixed set. Never an alert id, a fingerprint, a channel's name or free text:
one series per alert would grow Prometheus without bound.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from redis import RedisError

REGISTRY = CollectorRegistry(auto_describe=False)
"""This process's families (not prometheus-client's global registry: Ray and other
libraries put their own there)."""

# Request latency: from a fraction of a millisecond (a health check) to the 5 s an
# actor call may take before the request fails.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Escalation delay (due → sent) and deliveries: tens of milliseconds when healthy,
# minutes when a channel retries with backoff.
DELAY_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)

# -- ingest (the ingress replicas) ------------------------------------------------------

HTTP_REQUESTS = Counter(
    "vigil_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["endpoint", "method", "code"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "vigil_http_request_duration_seconds",
    "Time from a request's arrival at the ingress replica to its answer, by route template.",
    ["endpoint"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
ALERTS_RECEIVED = Counter(
    "vigil_alerts_received",
    "Alerts in requests that were valid and handed to the tenant's actor.",
    ["tenant", "endpoint"],
    registry=REGISTRY,
)
ALERTS_STORED = Counter(
    "vigil_alerts_stored",
    "Alerts stored as new, changed or resolved (not a duplicate of what was stored).",
    ["tenant"],
    registry=REGISTRY,
)
ALERTS_DUPLICATE = Counter(
    "vigil_alerts_duplicates",
    "Alerts that repeated an open alert (deduplicated: a refresh, no new occurrence).",
    ["tenant"],
    registry=REGISTRY,
)
INGEST_MERGED = Histogram(
    "vigil_ingest_requests_per_call",
    "Requests an ingress replica merged into one call of the tenant's actor, which "
    "stores them in one Redis transaction (group commit; 1 when the tenant was idle).",
    ["tenant"],
    buckets=BATCH_BUCKETS,
    registry=REGISTRY,
)
REQUESTS_REJECTED = Counter(
    "vigil_requests_rejected",
    "Requests refused (4xx or 5xx), by the error code of the answer; tenant is empty "
    "when the key was not known.",
    ["tenant", "endpoint", "reason"],
    registry=REGISTRY,
)

# -- the correlator ------------------------------------------------------------------

CORRELATOR_CHANGES = Counter(
    "vigil_correlator_changes",
    "Alert changes the correlator applied from the tenant's change stream.",
    ["tenant"],
    registry=REGISTRY,
)
INCIDENTS_CREATED = Counter(
    "vigil_incidents_created",
    "Incidents opened.",
    ["tenant"],
    registry=REGISTRY,
)
INCIDENTS_OPEN = Gauge(
    "vigil_incidents_open",
    "Incidents open (firing or acknowledged) now.",
    ["tenant"],
    registry=REGISTRY,
)
MEMBERSHIPS = Counter(
    "vigil_incident_memberships",
    "Alerts that joined an incident, by why they joined (group_key, or a relatedness reason).",
    ["tenant", "reason"],
    registry=REGISTRY,
)
SUPPRESSED = Counter(
    "vigil_alerts_suppressed",
    "Incident members that became muted, by what mutes them (silence or inhibition).",
    ["tenant", "by"],
    registry=REGISTRY,
)
FLAPPING_HELD = Counter(
    "vigil_alerts_flapping_held",
    "Resolutions held back because the alert was flapping.",
    ["tenant"],
    registry=REGISTRY,
)
NOTIFICATIONS_PLANNED = Counter(
    "vigil_notifications_planned",
    "Notifications the correlator put on the tenant's notification stream.",
    ["tenant"],
    registry=REGISTRY,
)
ANOMALY_ALARMS = Counter(
    "vigil_anomaly_alarms",
    "Alert storms and silences the rate watch raised as alerts.",
    ["tenant", "kind"],
    registry=REGISTRY,
)
RATE_MEMORY = Gauge(
    "vigil_rate_watch_memory_buckets",
    "Buckets of the tenant's whole alert rate its storm detector has seen: it alarms "
    "on a surprise after 30, on a new level after 150, on a recent extreme after 4,000. "
    "A restarted correlator resumes from the stored counts (up to 4,400).",
    ["tenant"],
    registry=REGISTRY,
)
RISK_SCORES = Histogram(
    "vigil_risk_score",
    "Risk scores given to incidents.",
    ["tenant"],
    buckets=SCORE_BUCKETS,
    registry=REGISTRY,
)
RISK_AT_OUTCOME = Histogram(
    "vigil_risk_score_at_outcome",
    "The risk score an incident held when it got its outcome (actionable or noise), "
    "and whether that score was provisional: how well the served scores separate "
    "what people acted on from noise, live. A label changed by feedback counts again.",
    ["tenant", "outcome", "standing"],
    buckets=SCORE_BUCKETS,
    registry=REGISTRY,
)

# -- the escalator and its notifiers ---------------------------------------------------

ESCALATION_STEPS_DUE = Counter(
    "vigil_escalation_steps_due",
    "Escalation steps that came due (a level to page), on time or by hand.",
    ["tenant"],
    registry=REGISTRY,
)
ESCALATION_STEPS_DELIVERED = Counter(
    "vigil_escalation_steps_delivered",
    "Escalation steps of which at least one notice was delivered.",
    ["tenant"],
    registry=REGISTRY,
)
ESCALATION_DELAY = Histogram(
    "vigil_escalation_delay_seconds",
    "From when an escalation step was due to when its notices were sent.",
    ["tenant"],
    buckets=DELAY_BUCKETS,
    registry=REGISTRY,
)
SLA_BREACHES = Counter(
    "vigil_sla_breaches",
    "SLA deadlines (acknowledge, resolve) an incident passed.",
    ["tenant", "deadline"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "vigil_notifications",
    "Notices to one target, by the target's channel type and outcome "
    "(delivered, delivered_by_fallback, failed, already_delivered).",
    ["tenant", "channel_type", "outcome"],
    registry=REGISTRY,
)
NOTIFICATION_ATTEMPTS = Counter(
    "vigil_notification_attempts",
    "Single tries on a channel, by channel type and result.",
    ["channel_type", "result"],
    registry=REGISTRY,
)
NOTIFICATION_RETRIES = Counter(
    "vigil_notification_retries",
    "Tries made again after a failed one (same channel, after a backoff).",
    ["tenant", "channel_type"],
    registry=REGISTRY,
)
NOTIFICATION_FALLBACKS = Counter(
    "vigil_notification_fallbacks",
    "Fallback channels taken after a target's own channel failed.",
    ["tenant", "channel_type"],
    registry=REGISTRY,
)
NOTIFICATION_DURATION = Histogram(
    "vigil_notification_duration_seconds",
    "From a notice's first try to its outcome, retries and fallbacks included.",
    ["channel_type"],
    buckets=DELAY_BUCKETS,
    registry=REGISTRY,
)

# -- the predictor ---------------------------------------------------------------------

PREDICTIONS = Counter(
    "vigil_predictor_scores",
    "Rows the predictor scored.",
    registry=REGISTRY,
)
PREDICTOR_BATCH = Histogram(
    "vigil_predictor_batch_size",
    "Rows per model call (requests merged by Serve's batching).",
    buckets=BATCH_BUCKETS,
    registry=REGISTRY,
)
PREDICTOR_LATENCY = Histogram(
    "vigil_predictor_latency_seconds",
    "Time the model took for one batch.",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PREDICTOR_ERRORS = Counter(
    "vigil_predictor_errors",
    "Batches the predictor failed to score, and scoring calls that got no answer.",
    ["where"],
    registry=REGISTRY,
)
MODEL_SERVING = Gauge(
    "vigil_model_serving",
    "1 for the model version a predictor replica serves.",
    ["version"],
    registry=REGISTRY,
)

# -- faults ----------------------------------------------------------------------------

LOOP_ERRORS = Counter(
    "vigil_loop_errors",
    "Rounds of a background loop that failed and will be retried, by loop kind and "
    "whether Redis was the cause.",
    ["kind", "cause"],
    registry=REGISTRY,
)
SELF_PAGES = Counter(
    "vigil_self_pages",
    "Pages Vigil's supervisor sent about Vigil itself.",
    ["status"],
    registry=REGISTRY,
)


LOOP_CAUSES = ("redis", "other")


def expect_loop(kind: str) -> None:
    """Show a loop's failure counters at 0 from the start (a process runs that loop)."""
    for cause in LOOP_CAUSES:
        LOOP_ERRORS.labels(kind, cause)


def loop_failed(kind: str, exc: BaseException) -> None:
    """Count a failed round of a background loop, and whether Redis was the cause."""
    cause = "redis" if isinstance(exc, RedisError | OSError) else "other"
    LOOP_ERRORS.labels(kind, cause).inc()
