"""The client's IP address: REMOTE_ADDR, or behind a trusted reverse proxy the address its header
names (settings.CLIENT_IP_HEADER). Login history, risk-based two-step verification, proxy-login
audit and the embed rate limit all read it here, so they agree."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address, or None when unknown. Of a list (X-Forwarded-For), the last entry is
    the one our proxy added; the entries before it came from the client and prove nothing. A value
    that is not an IP address (a misconfigured proxy) falls back to REMOTE_ADDR."""
    if request is None:
        return None
    header = settings.CLIENT_IP_HEADER
    if header:
        value = request.META.get(header, "")
        found = _valid(value.split(",")[-1]) if value else None
        if found:
            return found
    return _valid(request.META.get("REMOTE_ADDR", "") or "")


# One IPv6 subscriber usually holds a whole /64 (RFC 6177): counting single addresses would let one
# visitor rotate through 2^64 of them. IPv4 addresses count one by one.
IPV6_BUCKET_PREFIX = 64


def rate_limit_bucket(ip: str | None) -> str:
    """What a per-client rate limit counts for `ip`: the address itself for IPv4 (an IPv4-mapped IPv6
    address is its IPv4 address), its /64 network for IPv6, "unknown" when there is no address."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_BUCKET_PREFIX), strict=False))
    return str(address)
