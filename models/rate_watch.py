"""Watches a tenant's alert rate, and each service's, for storms and silences.

New alerts are counted in fixed buckets (``AnomalyPolicy.bucket``, aligned to the
epoch so every correlator cuts time the same way). When a bucket closes, its count
goes to a ``StreamingDetector`` per stream (the tenant's, and one per service up to
``max_services``). A detector's alarm becomes a ``RateAnomaly`` only if it also makes
sense to a person on call:

* an **AlertStorm** is a rise to at least ``storm_min_alerts`` new alerts in the
  bucket and at least three times the usual (a quiet service's first three alerts
  are a novelty, not a storm);
* an **AlertSilence** is a fall to under a quarter of the usual rate for three
  buckets in a row, for a stream usually at least ``silence_min_typical`` alerts per
  bucket (a stream that goes quiet because its sender or its network died).

After raising one, the stream stays quiet for the detector's ``refractory`` buckets:
one storm is one alert. Synthetic alerts themselves are not counted (they would feed
the storm they report).

The detectors' alarms are filtered here, not by the detector's own quiet time, so a
filtered alarm (that three-alert novelty) does not blind a stream to the real storm
that follows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from alerting.alert import IncomingAlert
from alerting.correlation_config import AnomalyPolicy
from alerting.lifecycle import ChangeKind
from models.anomaly import DetectorSettings, StreamingDetector

ANOMALY_LABEL = "vigil_anomaly"
"""The label every synthetic alert carries (``storm`` or ``silence``)."""

SILENCE_FRACTION = 0.25
"""A silence is a bucket under this fraction of the stream's usual count."""

SILENCE_BUCKETS = 3
"""A silence lasts this many buckets before it is raised (one slow bucket is chance)."""

STORM_FACTOR = 3.0
"""A storm is a bucket at least this many times the stream's usual count."""

PREFILL_BUCKETS = 60
"""A service first seen now has had nothing for (at most) this many buckets before."""

MAX_GAP_BUCKETS = 2000
"""Empty buckets fed at most after a pause (more would only repeat zeros)."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_NEW = (ChangeKind.CREATED, ChangeKind.REOPENED)
_REPORTED = (*_NEW, ChangeKind.DUPLICATE)


def counts_toward_rate(kind: ChangeKind, policy: AnomalyPolicy) -> bool:
    """Whether a change of the tenant's alerts counts in its watched rate: an alert
    that starts (or starts again) firing, and with ``count: all`` each resend of a
    firing one too. Senders differ in what a repeat means: Prometheus resends every
    firing alert each minute, so counting resends turns a long outage into a steady
    rate; an IDS reports each hit under the same labels, so counting only new alerts
    hides an attack that repeats one rule."""
    return kind in (_REPORTED if policy.count_repeats else _NEW)


@dataclass(frozen=True)
class RateAnomaly:
    """One storm or silence: which stream, how many alerts against how many usually."""

    kind: str  # "AlertStorm" or "AlertSilence"
    service: str | None  # None: the tenant's whole stream
    count: int
    typical: float
    score: float
    bucket_start: datetime
    bucket: timedelta
    counted: str = "new alerts"  # what a bucket counts ("alert reports": every resend too)

    @property
    def scope(self) -> str:
        return f"service {self.service}" if self.service is not None else "all services"

    def summary(self) -> str:
        """One line for a person on call."""
        per = _spell(self.bucket)
        what = "alert storm" if self.kind == "AlertStorm" else "alerts went silent"
        return (
            f"{what} ({self.scope}): {self.count} {self.counted} in {per}, usually {self.typical:g}"
        )

    def as_alert(self, policy: AnomalyPolicy, now: datetime) -> IncomingAlert:
        """The synthetic alert raised into the tenant's own stream; it resolves by itself
        ``resolve_after`` from now."""
        labels = {"alertname": self.kind, ANOMALY_LABEL: _KIND_VALUE[self.kind]}
        if self.service is not None:
            labels[policy.service_label] = self.service
        return IncomingAlert(
            labels=labels,
            annotations={
                "summary": self.summary(),
                "description": (
                    f"Vigil's rate watch: {self.count} {self.counted} between "
                    f"{self.bucket_start.isoformat()} and "
                    f"{(self.bucket_start + self.bucket).isoformat()} "
                    f"({self.scope}); the usual is {self.typical:g} per {per_of(self.bucket)} "
                    f"(anomaly score {self.score:.2f})."
                ),
            },
            severity=policy.severity,
            starts_at=self.bucket_start,
            ends_at=now + policy.resolve_after,
            source="vigil-anomaly",
        )


_KIND_VALUE = {"AlertStorm": "storm", "AlertSilence": "silence"}
ANOMALY_KINDS = tuple(_KIND_VALUE)
"""Every ``RateAnomaly.kind``."""


def _spell(bucket: timedelta) -> str:
    seconds = bucket.total_seconds()
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds:g} s"


def per_of(bucket: timedelta) -> str:
    """``1 minute`` → ``minute``; other lengths as they are."""
    spelled = _spell(bucket)
    return spelled.removeprefix("1 ")


class _Stream:
    """One watched rate: its detector, its open bucket's count, its quiet time left."""

    def __init__(self, settings: DetectorSettings, period: int | None) -> None:
        self.detector = StreamingDetector(settings, period)
        self.count = 0
        self.quiet_for = 0
        self.low_run = 0  # consecutive buckets under the silence fraction
        self.falling = False  # the detector alarmed on a fall during this low run


class RateWatch:
    """Counts a tenant's new alerts and reports storms and silences as buckets close."""

    def __init__(
        self, policy: AnomalyPolicy, now: datetime, settings: DetectorSettings | None = None
    ) -> None:
        self.policy = policy
        # The same settings ``bench/nab.py`` scores: one configuration, one figure. A
        # value outside the range of the first ``range_learning`` buckets (150: 2.5 h
        # of 1-minute buckets) alarms only after them; a storm before then is caught by
        # the surprise signal, which needs ``min_history`` (30) buckets. The recent
        # extremes need ``recent_window`` buckets (4,000: 2.8 days) and the time of day
        # two days, of this watch's own memory: a restarted correlator starts again.
        base = settings or DetectorSettings()
        self.refractory = base.refractory
        # Our own quiet time applies after a *raised* anomaly; see the module's docstring.
        self.settings = replace(base, refractory=0)
        # Buckets per day, for the time-of-day signal (none for buckets of a day or more;
        # with a bucket that does not divide a day, the same time drifts by at most half
        # a bucket a day, which the signal's spread of one bucket either side absorbs
        # for the usual sizes).
        day = timedelta(days=1)
        self.period = round(day / policy.bucket) if policy.bucket < day else None
        self.bucket_start = self._start_of(now)
        self.closed = 0  # buckets closed so far
        self.tenant = _Stream(self.settings, self.period)
        self.services: dict[str, _Stream] = {}

    def _start_of(self, at: datetime) -> datetime:
        size = self.policy.bucket
        return _EPOCH + size * ((at - _EPOCH) // size)

    @property
    def next_close(self) -> datetime:
        """When the open bucket closes."""
        return self.bucket_start + self.policy.bucket

    def count(self, at: datetime, labels: Mapping[str, str] | None) -> list[RateAnomaly]:
        """Count one new alert stored at ``at`` (a late one counts in the open bucket);
        return what the buckets closed on the way found."""
        if labels is not None and ANOMALY_LABEL in labels:
            return []
        found = self.close_due(at)
        self.tenant.count += 1
        service = labels.get(self.policy.service_label) if labels else None
        if service is not None and self.policy.per_service:
            stream = self.services.get(service)
            if stream is None and len(self.services) < self.policy.max_services:
                stream = self.services[service] = self._new_stream()
            if stream is not None:
                stream.count += 1
        return found

    def _new_stream(self) -> _Stream:
        """A service's stream, knowing it was quiet while the watch ran without it."""
        stream = _Stream(self.settings, self.period)
        for _ in range(min(self.closed, PREFILL_BUCKETS)):
            stream.detector.update(0.0)
        return stream

    def close_due(self, now: datetime) -> list[RateAnomaly]:
        """Close every bucket that has ended by ``now``; return the anomalies found."""
        found: list[RateAnomaly] = []
        due = (now - self.bucket_start) // self.policy.bucket
        if due <= 0:
            return found
        if due > MAX_GAP_BUCKETS:  # a long pause: skip ahead, feeding its last stretch
            skipped = due - MAX_GAP_BUCKETS
            if self.period:  # whole days only, so each value keeps its time of day
                skipped -= skipped % self.period
            self.bucket_start += self.policy.bucket * skipped
            due -= skipped
        for _ in range(due):
            found.extend(self._close_bucket())
            self.bucket_start += self.policy.bucket
            self.closed += 1
        return found

    def _close_bucket(self) -> list[RateAnomaly]:
        found = []
        streams: list[tuple[str | None, _Stream]] = [(None, self.tenant)]
        streams.extend(self.services.items())
        for service, stream in streams:
            anomaly = self._judge(service, stream)
            if anomaly is not None:
                found.append(anomaly)
            stream.count = 0
        return found

    def _judge(self, service: str | None, stream: _Stream) -> RateAnomaly | None:
        typical = stream.detector.likelihood.typical() or 0.0
        count = stream.count
        score = stream.detector.update(float(count))
        alarm = stream.detector.alarmed
        direction = stream.detector.direction
        policy = self.policy
        low = typical >= policy.silence_min_typical and count < typical * SILENCE_FRACTION
        stream.low_run = stream.low_run + 1 if low else 0
        stream.falling = low and (stream.falling or (alarm and direction < 0))
        if stream.quiet_for > 0:
            stream.quiet_for -= 1
            return None
        storm = (
            alarm
            and direction > 0
            and count >= policy.storm_min_alerts
            and count >= STORM_FACTOR * typical
        )
        # While the detector still learns its range it cannot judge a fall yet; the
        # rule alone (a busy stream at under a quarter for three buckets) decides.
        judged = stream.falling or stream.detector.learning
        silence = judged and stream.low_run >= SILENCE_BUCKETS
        if not (storm or silence):
            return None
        stream.quiet_for = self.refractory
        stream.falling = False
        kind = "AlertStorm" if storm else "AlertSilence"
        counted = "alert reports" if policy.count_repeats else "new alerts"
        return RateAnomaly(
            kind,
            service,
            count,
            typical,
            round(score, 3),
            self.bucket_start,
            policy.bucket,
            counted,
        )
