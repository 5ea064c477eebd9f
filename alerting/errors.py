"""The errors the domain raises, each a reason a request cannot be carried out.

    VigilError
     ├── NotFound            - no such alert for this tenant (HTTP 404)
     │    └── SilenceNotFound - no such silence for this tenant (HTTP 404)
     ├── InvalidTransition   - the alert's state forbids the action (HTTP 409)
     ├── InvalidMatcher      - a label matcher that does not parse (HTTP 400/422)
     ├── InvalidSilence      - a silence that cannot be created or changed (HTTP 400)
     ├── QuotaExceeded       - the tenant's tier allows no more of this (HTTP 429)
     ├── InvalidRequest      - an argument that cannot be understood (HTTP 400)
     └── InvalidConfig       - an Alertmanager-style configuration that does not validate

Each takes one message so that it pickles unchanged across Ray process boundaries.
"""


class VigilError(Exception):
    """Base of every domain error; ``code`` is the stable machine-readable name."""

    code = "vigil_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(VigilError):
    """The named object does not exist for the tenant asking; ``what`` names its kind."""

    code = "not_found"
    what = "alert"


class SilenceNotFound(NotFound):
    """The named silence does not exist for the tenant asking."""

    what = "silence"


class InvalidTransition(VigilError):
    """The action is not allowed in the alert's current state."""

    code = "invalid_transition"


class InvalidMatcher(VigilError):
    """A label matcher string that does not follow Prometheus's syntax."""

    code = "invalid_matcher"


class InvalidSilence(VigilError):
    """A silence whose matchers or times Alertmanager would refuse."""

    code = "invalid_silence"


class InvalidConfig(VigilError):
    """A routing configuration (``alertmanager.yml``) that is wrong; the message says where."""

    code = "invalid_config"


class QuotaExceeded(VigilError):
    """The tenant's tier allows no more open alerts, or no more silences; nothing changed."""

    code = "quota_exceeded"


class InvalidRequest(VigilError):
    """An argument that cannot be understood (a malformed cursor or feed position)."""

    code = "invalid_request"
