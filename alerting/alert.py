"""The alert: what a sender reported (``IncomingAlert``) and what Vigil keeps (``Alert``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alerting.fingerprint import fingerprint
from alerting.matchers import LABEL_NAME
from alerting.severity import Severity
from alerting.timeutil import UtcDatetime

MAX_LABELS = 64
MAX_LABEL_NAME = 256  # Prometheus sets no limit; real names are a few dozen characters
MAX_LABEL_VALUE = 1024
MAX_ANNOTATIONS = 64
MAX_ANNOTATION_VALUE = 16 * 1024

DEFAULT_SEVERITY = Severity.WARNING
"""The severity of an alert that names none, neither as a field nor as a label."""

_M = TypeVar("_M", bound=BaseModel)

LabelValue = Annotated[str, Field(max_length=MAX_LABEL_VALUE)]
AnnotationValue = Annotated[str, Field(max_length=MAX_ANNOTATION_VALUE)]


class AlertStatus(StrEnum):
    """Where an alert is in its lifecycle: firing → acknowledged → resolved."""

    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        """Firing or acknowledged: still a problem somebody may need to act on."""
        return self is not AlertStatus.RESOLVED


class ReportedStatus(StrEnum):
    """What a sender can say about an alert: it fires, or it stopped firing."""

    FIRING = "firing"
    RESOLVED = "resolved"


def _check_label_names(labels: dict[str, str]) -> dict[str, str]:
    """Label names follow Prometheus's rule, so fingerprints and matchers mean the same."""
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels are allowed, got {len(labels)}")
    for name in labels:
        _check_name_length("label", name)
        if not LABEL_NAME.fullmatch(name):
            raise ValueError(f"invalid label name {name!r}: must match [a-zA-Z_][a-zA-Z0-9_]*")
    return labels


def _check_annotations(annotations: dict[str, str]) -> dict[str, str]:
    """Annotations are free text, but bounded in number and in name length."""
    if len(annotations) > MAX_ANNOTATIONS:
        raise ValueError(
            f"at most {MAX_ANNOTATIONS} annotations are allowed, got {len(annotations)}"
        )
    for name in annotations:
        _check_name_length("annotation", name)
    return annotations


def _check_name_length(kind: str, name: str) -> None:
    """A label or annotation name is at most ``MAX_LABEL_NAME`` characters."""
    if len(name) > MAX_LABEL_NAME:
        raise ValueError(
            f"{kind} name {name[:32]!r}... is {len(name)} characters long;"
            f" at most {MAX_LABEL_NAME} are allowed"
        )


class IncomingAlert(BaseModel):
    """One alert as a sender reported it, after its API's format was normalised.

    Every ingress (native API, Alertmanager v2, PagerDuty Events) produces this; the
    lifecycle turns it into a stored ``Alert``. ``ends_at`` in the past, or
    ``status=resolved``, says the alert has stopped firing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: dict[str, LabelValue] = Field(min_length=1)
    annotations: dict[str, AnnotationValue] = Field(default_factory=dict)
    severity: Severity
    status: ReportedStatus = ReportedStatus.FIRING
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    generator_url: str | None = Field(default=None, max_length=2048)
    source: str = Field(default="api", max_length=128)

    _names = field_validator("labels")(_check_label_names)
    _annotations = field_validator("annotations")(_check_annotations)

    @cached_property
    def fingerprint(self) -> str:
        """The Prometheus fingerprint of the labels (computed once per delivery)."""
        return fingerprint(self.labels)

    def with_fingerprint(self, value: str) -> IncomingAlert:
        """Record a fingerprint computed elsewhere (in bulk); it must be this alert's."""
        self.__dict__["fingerprint"] = value  # the cached_property's slot
        return self

    @property
    def has_fingerprint(self) -> bool:
        """Whether the fingerprint is already known (computed or recorded)."""
        return "fingerprint" in self.__dict__

    def with_trace(self, traceparent: str | None) -> IncomingAlert:
        """Record the trace the alert was sent in (a W3C ``traceparent``; not a field:
        it is how it travelled, not what it says)."""
        if traceparent:
            self.__dict__["trace"] = traceparent
        return self

    @property
    def trace(self) -> str | None:
        """The ``traceparent`` of the request that sent the alert, if it was traced."""
        found: str | None = self.__dict__.get("trace")
        return found

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as plain values plus the fingerprint (and the trace, if any).

        The alert was validated where it was made (the ingress); the tenant actor that
        receives it rebuilds it without validating again, and does not hash its labels
        again. Crossing that process boundary is on the ingest hot path.
        """
        values = tuple(self.__dict__[name] for name in _INCOMING_FIELDS)
        return (_rebuild_incoming, (values, self.fingerprint, self.trace))

    @field_validator("severity", mode="before")
    @classmethod
    def _severity_word(cls, value: Any) -> Any:
        """Accept the severity words senders use (``page``, ``error``, ``warn``...)."""
        return Severity.parse(value) if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _severity_from_label(cls, data: Any) -> Any:
        """Without a severity field, use the ``severity`` label (Prometheus's convention)."""
        if not isinstance(data, dict) or data.get("severity") is not None:
            return data
        labels = data.get("labels")
        raw = labels.get("severity") if isinstance(labels, dict) else None
        found = (
            Severity.from_labels({"severity": raw}, DEFAULT_SEVERITY)
            if isinstance(raw, str)
            else DEFAULT_SEVERITY
        )
        return {**data, "severity": found}


def trusted(model: type[_M], fields: dict[str, Any]) -> _M:
    """Build a model from values that were already validated, without validating again.

    For the hot path only: an alert validated at the ingress crosses to the tenant
    actor, and a new ``Alert`` is assembled from validated parts. ``fields`` must hold
    every field, with the right types. (pydantic's ``model_construct`` does the same
    but fills defaults and is ~10x slower.)
    """
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", fields)
    object.__setattr__(instance, "__pydantic_fields_set__", _all_fields_set(model))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


_SHARED_FIELDS_SETS: dict[type[BaseModel], set[str]] = {}


def _all_fields_set(model: type[BaseModel]) -> set[str]:
    """One set of all field names per model, shared by every instance that has them all.

    pydantic keeps a per-instance set of the fields given (~1.2 KB for ``Alert``, half
    of an alert's memory). Every field of a stored alert is always given, so one shared
    set says the same. It is never changed in place: ``model_copy`` copies it first.
    """
    shared = _SHARED_FIELDS_SETS.get(model)
    if shared is None:
        shared = _SHARED_FIELDS_SETS[model] = set(model.model_fields)
    return shared


def share_fields_set(instance: _M) -> _M:
    """Point a fully populated instance at the shared fields set (memory only)."""
    shared = _all_fields_set(type(instance))
    if instance.__pydantic_fields_set__ is not shared:
        object.__setattr__(instance, "__pydantic_fields_set__", shared)
    return instance


def _rebuild_incoming(
    values: tuple[Any, ...], fingerprint_hex: str, trace: str | None = None
) -> IncomingAlert:
    """The other half of ``IncomingAlert.__reduce__``."""
    alert = trusted(IncomingAlert, dict(zip(_INCOMING_FIELDS, values, strict=True)))
    return alert.with_fingerprint(fingerprint_hex).with_trace(trace)


class Alert(BaseModel):
    """An alert as Vigil stores it: one occurrence of one fingerprint for one tenant.

    Instances are immutable; lifecycle functions return changed copies.
    ``occurrence`` counts how many times this fingerprint has started firing;
    ``count`` how many deliveries (the duplicates included) this occurrence received.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    tenant: str
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str]
    severity: Severity
    status: AlertStatus
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    generator_url: str | None = None
    source: str
    occurrence: int = Field(ge=1)
    count: int = Field(ge=1)
    first_seen: UtcDatetime
    last_seen: UtcDatetime
    updated_at: UtcDatetime
    acknowledged_at: UtcDatetime | None = None
    acknowledged_by: str | None = None
    resolved_at: UtcDatetime | None = None
    resolved_by: str | None = None
    escalation_level: int = Field(default=0, ge=0)
    escalated_at: UtcDatetime | None = None

    def is_expired(self, now: datetime) -> bool:
        """Whether an open alert's ``ends_at`` has passed without a refresh."""
        return self.status.is_open and self.ends_at <= now


_INCOMING_FIELDS = tuple(IncomingAlert.model_fields)
