"""Which network addresses icp-sync may call: one classification for every URL a user gives
it (CRM base URLs, webhook subscribers), so the rules against SSRF live in one place."""

from __future__ import annotations

import asyncio
import enum
import ipaddress
import socket
from collections.abc import Callable, Collection
from urllib.parse import urlsplit


class AddressKind(enum.Enum):
    """What sort of network an address belongs to."""

    PUBLIC = "public"
    LOOPBACK = "loopback"
    PRIVATE = "private"
    # Link-local, multicast, unspecified and reserved: never a server anyone means to call
    # (169.254.169.254 is the cloud metadata service).
    LINK_LOCAL = "link-local"
    RESERVED = "reserved"


Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def address_kind(address: str) -> AddressKind:
    """The kind of an IPv4 or IPv6 address (an IPv4-mapped IPv6 address counts as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return AddressKind.LOOPBACK
    if ip.is_link_local:
        return AddressKind.LINK_LOCAL
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return AddressKind.RESERVED
    if ip.is_private or not ip.is_global:
        return AddressKind.PRIVATE
    return AddressKind.PUBLIC


async def url_problem(
    url: str,
    *,
    allowed: Collection[AddressKind],
    resolve: Resolver = resolve_host,
    unresolvable_ok: bool = False,
) -> str | None:
    """None when ``url`` is http(s) with a host whose every address is of an ``allowed``
    kind, else what is wrong. A name is resolved (``resolve``); one that does not resolve is
    a problem unless ``unresolvable_ok``."""
    try:
        parts = urlsplit(url)  # "https://]0" is refused right here
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    try:
        port = parts.port
    except ValueError:
        return "the URL's port is not a number"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "use an http:// or https:// URL with a host"
    try:
        parts.hostname.encode("idna")  # what resolving it would do; some text is no host name
    except UnicodeError:
        return f"{parts.hostname!r} is not a valid host name"
    if set(AddressKind) <= set(allowed):
        return None
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(parts.hostname))]
    except ValueError:  # a name, not an address literal
        try:
            addresses = await asyncio.to_thread(resolve, parts.hostname, port)
        except (OSError, UnicodeError):
            return None if unresolvable_ok else f"{parts.hostname} does not resolve"
    refused = sorted({a for a in addresses if address_kind(a) not in allowed})
    if refused or not addresses:
        kinds = ", ".join(sorted({address_kind(a).value for a in refused})) or "no"
        return f"{parts.hostname} resolves to {kinds} addresses ({', '.join(refused)})"
    return None
