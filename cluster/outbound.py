"""Where Vigil may send HTTP on a tenant's behalf: one policy for every notifier.

A tenant names the URLs Vigil posts to (webhooks, Slack, Teams, PagerDuty, Slack's
``response_url`` in a click). Without a policy a tenant could point one at
``127.0.0.1:6379`` or the cloud metadata service, and read from the timeline
(delivered or failed) whether the port answered: a port scanner inside the network.
So:

- the address actually connected to is checked, after DNS (a name that resolves to
  ``10.0.0.5`` is refused like the literal, and a second lookup cannot change it:
  aiohttp hands the checked address straight to ``socket_factory``);
- loopback, private (RFC 1918, ULA), link-local (the metadata address
  169.254.169.254 among them), shared (100.64/10), multicast, reserved and
  documentation ranges are refused, unless the operator allows a network
  (``VIGIL_OUTBOUND_ALLOW``; the tests allow 127.0.0.0/8 for their local receivers);
- redirects are never followed (``allow_redirects=False`` at every call): a 3xx is a
  failed delivery, not a second request somewhere the policy did not check;
- a refusal is reported as ``refused by policy``, never as the port's state.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import aiohttp

from alerting.delivery import Attempt, AttemptKind

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REFUSED = "refused by policy"


class OutboundRefused(OSError):
    """The destination's address is one Vigil does not send to."""

    def __init__(self, address: str) -> None:
        super().__init__(errno.EACCES, f"{REFUSED}: {address} is not a public address")


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.0/8, 10.1.2.3"`` as networks (a bare address is a /32 or /128)."""
    found: list[IPNetwork] = []
    for part in text.split(","):
        part = part.strip()
        if part:
            found.append(ipaddress.ip_network(part, strict=False))
    return tuple(found)


class OutboundPolicy:
    """Which addresses outbound HTTP may connect to: public ones, plus ``allowed``."""

    def __init__(self, allowed: Iterable[IPNetwork] = ()) -> None:
        self.allowed = tuple(allowed)

    def permits(self, address: str) -> bool:
        """Whether a connection to ``address`` (an IP, as the resolver gave it) may go."""
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])  # drop a v6 zone
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
        if any(ip in net for net in self.allowed):
            return True
        # is_global is False for every range above (RFC 6890's registry).
        return ip.is_global and not ip.is_multicast

    def socket_factory(self, addr_info: Any) -> socket.socket:
        """aiohttp's hook just before it connects: the address after DNS, checked."""
        family, type_, proto, _, sockaddr = addr_info
        if not self.permits(str(sockaddr[0])):
            raise OutboundRefused(str(sockaddr[0]))
        return socket.socket(family=family, type=type_, proto=proto)

    def connector(self, limit: int = 100) -> aiohttp.TCPConnector:
        """A connector that connects only where this policy permits."""
        return aiohttp.TCPConnector(limit=limit, socket_factory=self.socket_factory)

    def session(self, limit: int = 100) -> aiohttp.ClientSession:
        """An HTTP client session under this policy (redirects are refused per call)."""
        return aiohttp.ClientSession(connector=self.connector(limit))


def refused_by_policy(exc: BaseException) -> bool:
    """Whether a failed request failed because the policy refused its destination.

    aiohttp wraps the factory's error (``ClientConnectorError.os_error``), and happy
    eyeballs may merge several addresses' errors into one ``OSError`` whose text
    lists them; either way the refusal is in the chain or the text.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OutboundRefused) or REFUSED in str(seen):
            return True
        inner = getattr(seen, "os_error", None)
        seen = inner if isinstance(inner, BaseException) else (seen.__cause__ or seen.__context__)
    return False


def unreachable(exc: BaseException) -> Attempt:
    """The attempt a request that never got an answer makes: refused by the policy, or
    a connection error (what every sender reports for ``aiohttp.ClientError``)."""
    return Attempt(AttemptKind.REFUSED if refused_by_policy(exc) else AttemptKind.CONNECTION_ERROR)
