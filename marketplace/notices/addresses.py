"""Whether a webhook URL points at the public internet.

Deliveries are POSTed by our own servers, so a URL naming 127.0.0.1, a 10/8 address, a
cloud's metadata service (169.254.169.254) or [::1] would let a customer make us send
requests into our own network. Every address the host resolves to must be global
unicast; the check runs when a URL is registered or changed and again before every
attempt (a name may resolve elsewhere by then). WEBHOOK_ALLOW_PRIVATE_URLS=1 turns it
off, for a receiver on the same machine or network in development and tests.
"""

import ipaddress
import socket
from urllib.parse import urlsplit


class NotPublic(Exception):
    """The URL's host is, or resolves to, an address that is not on the public internet."""


class Unresolvable(Exception):
    """The URL's host does not resolve (now)."""


def addresses(url: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address the URL's host resolves to (an address literal: itself)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise Unresolvable(f"{parts.hostname} does not resolve ({error})") from None
    # An IPv6 scope ("fe80::1%eth0") is not part of the address.
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found]


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Global unicast: not loopback, private, link-local, shared, reserved or multicast."""
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is 127.0.0.1
    if mapped is not None:
        address = mapped
    return address.is_global and not address.is_multicast


def check_public(url: str) -> None:
    """Raise NotPublic if any address the URL's host resolves to is not public, Unresolvable if
    it resolves to none."""
    refused = sorted({str(address) for address in addresses(url) if not is_public(address)})
    if refused:
        host = urlsplit(url).hostname
        raise NotPublic(f"{host} resolves to {', '.join(refused)}, not a public address")
