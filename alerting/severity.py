"""Alert severity, ordered, with the spellings that real senders use."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Severity(StrEnum):
    """How bad an alert is: ``critical > high > warning > info``.

    Members compare by urgency, not alphabetically, so ``max(severities)`` is the
    worst one. ``parse`` accepts the names PagerDuty (critical/error/warning/info)
    and Prometheus rule authors (page, major, minor, warn, ...) commonly use.
    """

    CRITICAL = "critical"
    HIGH = "high"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Urgency as a number: 3 for critical down to 0 for info."""
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def parse(cls, value: str) -> Severity:
        """Return the severity a sender's word means; raise ``ValueError`` if unknown."""
        key = value.strip().lower()
        try:
            return _ALIASES[key]
        except KeyError:
            known = ", ".join(sorted(_ALIASES))
            raise ValueError(f"unknown severity {value!r}; use one of: {known}") from None

    @classmethod
    def from_labels(cls, labels: Mapping[str, str], default: Severity) -> Severity:
        """The severity named by a ``severity`` label, or ``default`` when absent or unknown.

        Prometheus rules put severity in a label with free-form values; an unknown
        value must not reject the alert, so it falls back instead of raising.
        """
        raw = labels.get("severity")
        if raw is None:
            return default
        return _ALIASES.get(raw.strip().lower(), default)


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}

_ALIASES: dict[str, Severity] = {
    **dict.fromkeys(
        ["critical", "crit", "page", "fatal", "emergency", "emerg", "alert", "p1", "sev1"],
        Severity.CRITICAL,
    ),
    **dict.fromkeys(["high", "error", "err", "major", "p2", "sev2"], Severity.HIGH),
    **dict.fromkeys(["warning", "warn", "minor", "medium", "p3", "sev3"], Severity.WARNING),
    **dict.fromkeys(
        ["info", "informational", "notice", "low", "none", "debug", "p4", "p5", "sev4"],
        Severity.INFO,
    ),
}
