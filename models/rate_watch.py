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

Each stream also keeps the counts it was fed (``models/rate_memory.py``): the
correlator stores the new ones with each commit, and a restarted correlator resumes
the watch from them (``resume``, then ``replay`` off the critical path) instead of
re-learning for hours.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from alerting.alert import IncomingAlert
from alerting.correlation_config import AnomalyPolicy
from alerting.lifecycle import ChangeKind
from alerting.rate_counts import COUNT_CAP, RateCounts, StoredRates, pack_counts, unpack_counts
from models.anomaly import DetectorSettings, StreamingDetector
from models.rate_memory import MAX_RESUME_GAP, memory_buckets

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
    """One watched rate: its detector, its open bucket's count, its quiet time left, and
    the counts its detector was fed (what the store keeps of it)."""

    def __init__(self, settings: DetectorSettings, period: int | None, index: int) -> None:
        self.detector = StreamingDetector(settings, period)
        self.index = index  # its number in the store (0: the tenant's own stream)
        self.count = 0
        self.quiet_for = 0
        self.low_run = 0  # consecutive buckets under the silence fraction
        self.falling = False  # the detector alarmed on a fall during this low run
        self.fed = array("H")  # the counts fed to the detector, newest last
        self.unsaved = 0  # how many of the newest in ``fed`` the store has not got
        self.stored: int | None = None  # how many counts the store holds (None: none)
        self.saved_count = 0  # the open bucket's count as last saved


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
        # extremes need ``recent_window`` buckets (4,000: 2.8 days), the time of day two
        # days and a new shape 60 buckets, of the watch's memory: a restarted correlator
        # resumes it from the stored counts (``resume``).
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
        self.keep = memory_buckets(self.settings, self.period)
        self.tenant = _Stream(self.settings, self.period, 0)
        self.services: dict[str, _Stream] = {}
        # Stored counts not replayed yet, by stream number: its service, its counts.
        self.resumed: dict[int, tuple[str | None, array[int]]] = {}
        self.resumed_from = 0  # buckets of the tenant's stream resumed from the store

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
                stream = self.services[service] = self._new_stream(service)
            if stream is not None:
                stream.count += 1
        return found

    def _new_stream(self, service: str) -> _Stream:
        """A service's stream, knowing it was quiet while the watch ran without it."""
        index = 1 + max(stream.index for _, stream in self._streams())
        stream = _Stream(self.settings, self.period, index)
        for _ in range(min(self.closed, PREFILL_BUCKETS)):
            stream.detector.update(0.0)
            self._remember(stream, 0)
        return stream

    def _remember(self, stream: _Stream, count: int) -> None:
        """Keep a count fed to ``stream``'s detector, for the store."""
        stream.fed.append(min(count, COUNT_CAP))
        stream.unsaved += 1
        if len(stream.fed) > 2 * self.keep:  # trimmed now and then, not at every bucket
            del stream.fed[: len(stream.fed) - self.keep]

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
        for service, stream in self._streams():
            anomaly = self._judge(service, stream)
            if anomaly is not None:
                found.append(anomaly)
            self._remember(stream, stream.count)
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

    # -- memory across restarts (models/rate_memory.py) ------------------------------

    def _streams(self) -> list[tuple[str | None, _Stream]]:
        """Every watched stream with its service (None: the tenant's own)."""
        return [(None, self.tenant), *self.services.items()]

    def _stream_of(self, service: str | None) -> _Stream | None:
        return self.tenant if service is None else self.services.get(service)

    def unsaved_counts(self) -> RateCounts | None:
        """The counts closed since the last ``saved`` (None: nothing new). A stream the
        store does not hold yet, or would then hold more than twice ``keep`` of, is sent
        whole (its last ``keep`` counts); the others, only their new counts."""
        appended: dict[int, bytes] = {}
        replaced: dict[int, bytes] = {}
        names: dict[int, str | None] = {}
        open_counts: dict[int, int] = {}
        for service, stream in self._streams():
            # A resumed stream still replaying holds only what it counted since: it
            # appends, so the stored counts being replayed are not overwritten.
            whole = stream.stored is None or (
                stream.index not in self.resumed
                and (
                    stream.unsaved > len(stream.fed)
                    or stream.stored + stream.unsaved > 2 * self.keep
                )
            )
            if whole:
                replaced[stream.index] = pack_counts(stream.fed[-self.keep :])
                names[stream.index] = service
            elif stream.unsaved:
                appended[stream.index] = pack_counts(stream.fed[-stream.unsaved :])
            if stream.count != stream.saved_count:
                open_counts[stream.index] = stream.count
        if not (appended or replaced or open_counts):
            return None
        return RateCounts(
            self.policy.bucket,
            self._counted,
            self.bucket_start,
            names,
            appended,
            replaced,
            open_counts,
        )

    def saved(self, counts: RateCounts) -> None:
        """The store holds ``counts`` now (called once their transaction succeeded)."""
        by_index = {stream.index: stream for _, stream in self._streams()}
        for index, count in counts.open_counts.items():
            if index in by_index:
                by_index[index].saved_count = count
        for index in counts.replaced.keys() | counts.appended.keys():
            stream = by_index.get(index)
            if stream is None:
                continue
            if index in counts.replaced:
                sent = len(counts.replaced[index]) // 2
                new = min(stream.unsaved, sent)
                stream.stored = sent
            else:
                new = len(counts.appended[index]) // 2
                stream.stored = (stream.stored or 0) + new
            stream.unsaved -= new

    @property
    def _counted(self) -> str:
        return "all" if self.policy.count_repeats else "new"

    def resume(self, stored: StoredRates, now: datetime) -> bool:
        """Continue from the counts a previous correlator stored, if they were counted
        the same way and the gap since is short (``MAX_RESUME_GAP``); call before any
        counting. The watch then counts on from the bucket that was open, so alerts
        stored while no correlator ran land in the buckets they were stored in as it
        catches up. The stored counts are fed to fresh detectors by ``replay``; until
        a stream's replay ends, its stream counts like a new one."""
        if stored.bucket != self.policy.bucket or stored.counted != self._counted:
            return False
        gap = now - stored.bucket_start
        if not timedelta(0) <= gap <= MAX_RESUME_GAP or self.closed or self.services:
            return False
        self.bucket_start = stored.bucket_start
        for index, service in sorted(stored.names.items()):
            raw = stored.counts.get(index)
            if raw is None:
                continue
            if service is None:
                stream = self.tenant
            elif not self.policy.per_service or len(self.services) >= self.policy.max_services:
                continue
            else:
                stream = self.services[service] = _Stream(self.settings, self.period, index)
            counts = unpack_counts(raw)
            stream.stored = len(counts)
            stream.count = stream.saved_count = stored.open_counts.get(index, 0)
            self.resumed[index] = (service, counts[-self.keep :])
        self.closed = len(self.resumed[0][1]) if 0 in self.resumed else 0
        self.resumed_from = self.closed
        return True

    def replay(self, chunk: int = 250) -> Iterator[None]:
        """Feed each resumed stream's stored counts to a fresh detector, pausing (a
        ``yield``) every ``chunk`` counts so its caller can let other work run; then
        the counts its stream closed since, and swap the replayed stream in. Anomalies
        the replay finds were raised (or not) by the correlator that counted them.

        Why a swap survives anything: the replayed stream is only built here, and
        takes the live stream's place in one step between pauses, carrying over its
        open bucket's count and what the store has not got yet. Killed half-way, the
        stored counts are untouched and the next correlator replays them again."""
        for index in sorted(self.resumed):
            service, counts = self.resumed[index]
            twin = _Stream(self.settings, self.period, index)
            for n, count in enumerate(counts, 1):
                self._replay_one(service, twin, count)
                if n % chunk == 0:
                    yield
            live = self._stream_of(service)
            del self.resumed[index]
            if live is None:
                continue
            for count in live.fed:  # closed since the watch resumed
                self._replay_one(service, twin, count)
            twin.fed = (counts + live.fed)[-2 * self.keep :]
            twin.count, twin.unsaved, twin.stored = live.count, live.unsaved, live.stored
            twin.saved_count = live.saved_count
            twin.quiet_for = max(twin.quiet_for, live.quiet_for)
            if service is None:
                self.tenant = twin
            else:
                self.services[service] = twin

    def _replay_one(self, service: str | None, stream: _Stream, count: int) -> None:
        stream.count = count
        self._judge(service, stream)
        stream.count = 0

    def abandon_replay(self) -> None:
        """Give up the stored counts not replayed yet (their streams go on as new ones,
        and are stored whole again at the next save)."""
        for service, _ in self.resumed.values():
            stream = self._stream_of(service)
            if stream is not None:
                stream.stored = None
        self.resumed.clear()

    @property
    def replaying(self) -> bool:
        """Whether stored counts are still waiting for ``replay``."""
        return bool(self.resumed)

    def remembered(self) -> int:
        """How many buckets the tenant's own stream's detector has seen (its memory)."""
        return self.tenant.detector.seen
