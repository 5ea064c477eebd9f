"""Group keys: which alerts a route puts together, named exactly as Alertmanager names them.

Alertmanager keys an aggregation group by its route and the values of the route's
``group_by`` labels, and sends that key to receivers as ``groupKey``
(``{}/{team="db"}:{alertname="DiskFull", cluster="eu1"}``). Vigil forms one
incident per open group, under the same key, so a receiver sees the same grouping
from either system.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from alerting.routing import Route

_PLAIN = re.compile(r"[ !#-\[\]-~]*")  # printable ASCII without '"' and '\\'

_GO_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def go_quote(value: str) -> str:
    """``value`` quoted as Go's ``%q`` (``strconv.Quote``) quotes it.

    Printable characters, unicode included, stay as they are; control characters
    become escapes. Alertmanager formats label values this way in group keys.
    """
    if _PLAIN.fullmatch(value):  # the common case: nothing to escape
        return f'"{value}"'
    out = ['"']
    for char in value:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def label_set_string(labels: Mapping[str, str]) -> str:
    """A label set as Prometheus's ``LabelSet.String()`` writes it: ``{a="1", b="2"}``.

    The ``name="value"`` strings are sorted as strings (not by name), as Go does.
    """
    return "{" + ", ".join(sorted(f"{n}={go_quote(v)}" for n, v in labels.items())) + "}"


def group_key(route: Route, labels: Mapping[str, str]) -> str:
    """The key of the group an alert with ``labels`` joins on ``route``."""
    return f"{route.key}:{label_set_string(route.group_labels(labels))}"
