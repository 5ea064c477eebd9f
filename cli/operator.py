"""Who a ``vigil`` command acts as, in the audit trail: the operator's login name."""

from __future__ import annotations

import getpass


def operator() -> str:
    """The actor of a change made from the command line, e.g. ``operator:ana``."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"operator:{who}"
