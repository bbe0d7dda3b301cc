"""Where webhook deliveries may go: patient data must not be sent into the server's own network (SSRF).

- When subscribing (``check_url``, a 422 otherwise): an absolute https URL of plain ASCII, no
  spaces or control characters, no user name or password, a port in 1-65535, and a host that is
  a DNS name, a dotted-quad IPv4 address or a bracketed IPv6 address. IPv4 addresses in other
  notations (``127.1``, ``2130706433``, ``0x7f000001``, ``0177.0.0.1``), which resolvers read as
  loopback or private addresses, are refused. An address literal must be allowed (below).
- When delivering (``resolve``): the host is resolved then, and every address it resolves to
  must be allowed; the delivery goes to the address that was checked (the name is kept for the
  ``Host`` header and TLS), so a DNS answer that changes in between cannot redirect it.

Allowed: public (global) addresses; those in ``NIMRS_WEBHOOKS_ALLOWED_NETWORKS`` (a receiver inside
your network); loopback (and plain http, to loopback only) with ``NIMRS_WEBHOOKS_ALLOW_HTTP_LOOPBACK``,
for tests and demos. Never: 0.0.0.0 / ::, multicast.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import NamedTuple
from urllib.parse import SplitResult, urlsplit, urlunsplit

from domain.errors import ValidationFailed

IPAddress = IPv4Address | IPv6Address
MAX_URL = 2000
LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")  # a resolver reads a host ending so as an IPv4 address
NAT64 = IPv6Network("64:ff9b::/96")
DEFAULT_PORTS = {"http": 80, "https": 443}


class Target(NamedTuple):
    """A delivery's destination once checked: the URL with the address in place of the name."""

    url: str
    host_header: str
    sni_hostname: str | None  # https: the name the certificate must carry


@dataclass(frozen=True)
class Destinations:
    allow_http_loopback: bool = False  # NIMRS_WEBHOOKS_ALLOW_HTTP_LOOPBACK
    allowed_networks: Sequence[IPv4Network | IPv6Network] = ()  # NIMRS_WEBHOOKS_ALLOWED_NETWORKS

    # -- subscribing -----------------------------------------------------------------------------------

    def check_url(self, url: str) -> str:
        """The URL if deliveries may go there; ``ValidationFailed`` naming the problem otherwise."""
        parts = _parts(url)
        host = parts.hostname or ""
        literal = _literal(parts, host)
        loopback = _is_loopback_name(host) or (literal is not None and _embedded(literal).is_loopback)
        if parts.scheme == "http" and not (loopback and self.allow_http_loopback):
            raise ValidationFailed(f"url {_shown(url)} must be https (plain http goes to this machine only, "
                                   "with NIMRS_WEBHOOKS_ALLOW_HTTP_LOOPBACK)")
        if _is_loopback_name(host) and not self.allow_http_loopback:
            raise ValidationFailed(f"url {_shown(url)} names this machine ({host}); webhooks go to other hosts")
        if literal is not None:
            refused = self.refusal(literal)
            if refused:
                raise ValidationFailed(f"url {_shown(url)} may not receive webhooks: {refused}")
        return url

    def refusal(self, address: IPAddress) -> str | None:
        """Why deliveries may not go to ``address``, or None when they may."""
        inner = _embedded(address)
        if inner.is_unspecified:
            return f"{address} is the unspecified address (it reaches this machine)"
        if inner.is_loopback:
            return None if self.allow_http_loopback else f"{address} is a loopback address (this machine)"
        if inner.is_multicast:
            return f"{address} is a multicast address"
        if any(inner in network or address in network for network in self.allowed_networks):
            return None
        for kind, flag in (("a link-local", inner.is_link_local), ("a private", inner.is_private),
                           ("a reserved", inner.is_reserved), ("not a public", not inner.is_global)):
            if flag:
                return f"{address} is {kind} address (add its network to NIMRS_WEBHOOKS_ALLOWED_NETWORKS to allow it)"
        return None

    # -- delivering ------------------------------------------------------------------------------------

    async def resolve(self, url: str, timeout: float) -> Target:
        """Check the URL and every address its host has now; ``ValidationFailed`` if any is refused."""
        parts = _parts(self.check_url(url))
        host = parts.hostname or ""
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        literal = _literal(parts, host)
        addresses = [literal] if literal is not None else await addresses_of(host, port, timeout)
        for address in addresses:
            refused = self.refusal(address)
            if refused:
                raise ValidationFailed(f"{host} resolves to a refused address: {refused}")
            if parts.scheme == "http" and not _embedded(address).is_loopback:
                raise ValidationFailed(f"{host} resolves to {address}, not to this machine: plain http is refused")
        pinned = addresses[0]
        netloc = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        return Target(urlunsplit(parts._replace(netloc=f"{netloc}:{port}")), parts.netloc,
                      host if parts.scheme == "https" and literal is None else None)


async def addresses_of(host: str, port: int, timeout: float) -> list[IPAddress]:
    """The host's addresses now, from the system's resolver (``ValidationFailed`` if it has none)."""
    try:
        found = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), timeout)
    except OSError as error:  # TimeoutError included
        raise ValidationFailed(f"{host} does not resolve: {error or 'no answer in time'}") from None
    addresses = list(dict.fromkeys(ip_address(str(info[4][0]).split("%")[0]) for info in found))
    if not addresses:
        raise ValidationFailed(f"{host} does not resolve")
    return addresses


def _shown(url: str) -> str:
    return repr(url[:200])


def _parts(url: str) -> SplitResult:
    if not isinstance(url, str) or not url:
        raise ValidationFailed("url must be an absolute https URL")
    if len(url) > MAX_URL:
        raise ValidationFailed(f"url must be at most {MAX_URL} characters")
    if not url.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url) or "\\" in url:
        raise ValidationFailed(f"url {_shown(url)} must be plain ASCII without spaces, line breaks, control "
                               "characters or backslashes (write an international domain name in its xn-- form)")
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc or not url.lower().startswith(parts.scheme + "://"):
        raise ValidationFailed(f"url {_shown(url)} must be an absolute https URL")
    if "@" in parts.netloc:
        raise ValidationFailed("url must not carry a user name or password; deliveries are authenticated by their "
                               "signature")
    try:
        port = parts.port
    except ValueError:
        raise ValidationFailed(f"url {_shown(url)} has a port that is not a number in 1-65535") from None
    if port == 0 or parts.netloc.endswith(":"):
        raise ValidationFailed(f"url {_shown(url)} has a port that is not a number in 1-65535")
    if not parts.hostname:
        raise ValidationFailed(f"url {_shown(url)} names no host")
    return parts


def _literal(parts: SplitResult, host: str) -> IPAddress | None:
    """The host's address if it is one, in a notation every parser reads alike; None for a DNS name."""
    if parts.netloc.split("]")[0].startswith("["):
        if "%" in host:
            raise ValidationFailed(f"url host [{host}] has a zone; use a global IPv6 address or a DNS name")
        try:
            return IPv6Address(host)  # a zone ("%eth0") or anything but an IPv6 address fails here
        except ValueError:
            raise ValidationFailed(f"url host [{host}] is not an IPv6 address") from None
    labels = host.split(".")
    if NUMERIC_LABEL.match(labels[-1]):
        try:
            address = IPv4Address(host)
        except ValueError:
            address = None
        if address is None or str(address) != host:
            raise ValidationFailed(f"url host {host!r} is an IPv4 address in an unusual notation; "
                                   "write it as four decimal numbers (a.b.c.d) or use a DNS name")
        return address
    if len(host) > 253 or not all(LABEL.match(label) for label in labels):
        raise ValidationFailed(f"url host {host!r} is not a valid DNS name")
    return None


def _is_loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def _embedded(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv6 one (mapped, 6to4, NAT64) that a packet would reach, or itself."""
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in NAT64:
            return IPv4Address(int(address) & 0xFFFFFFFF)
    return address
