"""Where the portal may connect for anything a tenant supplies: the one outbound-connection policy.

A stream URL, an ONVIF host, every service address or URI an ONVIF device answers with and a snapshot
URL are a tenant's word, and the portal connects where they point. Unchecked, that turns the portal
against itself: a line break in an RTSP URL smuggles commands into whatever listens on the port (Redis
on loopback), and an internal address turns the trouble categories into a port scanner of the
portal's own network. So every such value passes here, twice:

- when it is typed (forms, API, the ONVIF answer): ``clean_url`` / ``clean_host`` check the syntax
  (scheme, no control character or whitespace anywhere, never stripped) and re-serialise the value from
  its parsed parts; ``Policy.check_input`` also refuses an address the host resolves to now;
- right before each connection: ``Policy.connect`` resolves the host once, refuses it unless every
  address is allowed, and hands back the checked addresses, so the connection goes to an address that
  was checked and a name that now resolves elsewhere (DNS rebinding) does not help.

Refused: loopback, link-local (the cloud metadata addresses 169.254.169.254 and fd00:ec2::254 among
them), private, unique-local, multicast, unspecified, reserved and any other non-public address, unless
the deployment names the network in ``CAMERA_ALLOWED_NETWORKS`` (docs/deployment.md, "Outbound
connections"): a customer's cameras on a VPN, the tests' and the demo's loopback cameras.

Django-free (workers/): the Django side configures the process-wide policy from its settings at start
(``configure``); until then only public addresses are allowed.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

STREAM_SCHEMES = ("rtsp", "rtsps")
HTTP_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
MAX_URL = 1000
MAX_HOST = 253

# ffmpeg / ffprobe protocols a camera needs: RTSP runs over tcp (interleaved) or udp + rtp, rtsps over tls.
# `file` only for the portal's own files (segments, clips, fixtures): never for a camera's URL.
CAMERA_PROTOCOLS = "tcp,udp,rtp,srtp,tls"
FILE_PROTOCOLS = "file"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


class Refused(ValueError):
    """The value is not a place the portal connects to. ``code`` says why (for a translated message):
    characters, scheme, host, port, address, resolve; ``message`` is English, for logs and staff pages."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _check_characters(value: str, what: str) -> None:
    for position, char in enumerate(value):
        if char.isspace() or not char.isprintable() or not char.isascii():
            raise Refused(
                "characters",
                f"the {what} contains {ascii(char)} at position {position + 1}: no control character, "
                "whitespace or non-ASCII character is allowed (percent-encode it)",
            )


def _host_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def clean_host(value: str) -> str:
    """A host name or IP address (IPv6 with or without brackets), lower-cased; else Refused."""
    if not value:
        raise Refused("host", "no host given")
    _check_characters(value, "host")
    host = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if len(host) > MAX_HOST:
        raise Refused("host", "the host name is too long")
    literal = _host_literal(host)
    if literal is not None:
        return str(literal)
    if not _HOSTNAME.match(host) or host.replace(".", "").isdigit():
        raise Refused("host", f"{value!r} is not a host name or IP address")
    return host.lower().rstrip(".")


def _netloc(host: str, port: int | None, parts: SplitResult) -> str:
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    return netloc


def clean_url(value: str, *, schemes: Iterable[str]) -> str:
    """``value`` checked and re-serialised from its parsed parts (scheme and host lower-cased); else Refused.

    Nothing is stripped: a control character or whitespace anywhere is an error, because a parser that
    drops it (``urlsplit`` drops CR, LF and tab) would check one string and store another.
    """
    schemes = tuple(schemes)
    if not value:
        raise Refused("scheme", "no URL given")
    if len(value) > MAX_URL:
        raise Refused("characters", f"the URL is longer than {MAX_URL} characters")
    _check_characters(value, "URL")
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in schemes or not value[len(scheme) :].startswith("://"):
        raise Refused("scheme", f"the URL must start with {' or '.join(s + '://' for s in schemes)}")
    if parts.fragment or "#" in value:
        raise Refused("characters", "the URL must not contain '#'")
    try:
        port = parts.port
    except ValueError:
        raise Refused("port", "the port must be a number from 1 to 65535") from None
    if port == 0:
        raise Refused("port", "the port must be a number from 1 to 65535")
    if not parts.hostname:
        raise Refused("host", "the URL names no host")
    bracketed = parts.netloc.rpartition("@")[2].startswith("[")
    host = clean_host(f"[{parts.hostname}]" if bracketed else parts.hostname)
    if bracketed and ":" not in host:
        raise Refused("host", "only an IPv6 address goes in brackets")
    return urlunsplit((scheme, _netloc(host, port, parts), parts.path, parts.query, ""))


def url_host_port(url: str) -> tuple[str, int]:
    """Host and port (the scheme's default when absent) of a URL that passed ``clean_url``."""
    parts = urlsplit(url)
    return clean_host(parts.hostname or ""), parts.port or DEFAULT_PORTS.get(parts.scheme, 0)


def with_host(url: str, host: str) -> str:
    """``url`` with its host replaced by ``host`` (an address), keeping credentials, port, path and query."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=_netloc(host, parts.port, parts)))


def address_class(ip: IPAddress) -> str:
    """'' for a public address, else what it is ('loopback', 'link-local', 'private' …)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 6 and ip in _UNIQUE_LOCAL:
        return "unique-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public"
    return ""


@dataclass(frozen=True)
class Policy:
    """Which addresses the portal may connect to: public ones, and those inside ``allowed``."""

    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_cidrs(cls, cidrs: Iterable[str]) -> Policy:
        """A policy from CIDR strings ('10.8.0.0/16', '::1/128'); ValueError names a bad one."""
        networks = []
        for cidr in cidrs:
            cidr = cidr.strip()
            if not cidr:
                continue
            try:
                networks.append(ipaddress.ip_network(cidr, strict=True))
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not a network in CIDR notation (e.g. 10.8.0.0/16): {exc}") from None
        return cls(tuple(networks))

    def in_allowed(self, ip: IPAddress) -> bool:
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(c in net for c in candidates for net in self.allowed if c.version == net.version)

    def refusal(self, ip: IPAddress) -> str:
        """'' when the portal may connect to ``ip``; else the address class that forbids it."""
        if self.in_allowed(ip):
            return ""
        return address_class(ip)

    def check_address(self, ip: IPAddress, host: str = "") -> None:
        refused = self.refusal(ip)
        if refused:
            named = f"{host} resolves to {ip}" if host and host != str(ip) else str(ip)
            raise Refused(
                "address",
                f"{named}, a {refused} address: cameras may be reached only on public addresses "
                "or in a network named in CAMERA_ALLOWED_NETWORKS",
            )

    def resolve(self, host: str, port: int) -> tuple[str, ...]:
        """Every address of ``host``, each checked (Refused if any is refused, or none resolves)."""
        literal = _host_literal(host)
        if literal is not None:
            self.check_address(literal)
            return (str(literal),)
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise Refused("resolve", f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
        addresses: list[str] = []
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            self.check_address(ip, host)
            if str(ip) not in addresses:
                addresses.append(str(ip))
        if not addresses:
            raise Refused("resolve", f"{host} has no address")
        return tuple(addresses)

    def check_input(self, value: str, *, schemes: Iterable[str]) -> str:
        """For forms and the API: ``clean_url`` and, where the host resolves now, its addresses checked.
        A name that does not resolve yet is accepted; it is checked again before every connection."""
        url = clean_url(value, schemes=schemes)
        self.check_host_input(url_host_port(url)[0])
        return url

    def check_host_input(self, host: str) -> str:
        """``clean_host`` and, where it resolves now, its addresses checked (see ``check_input``)."""
        host = clean_host(host)
        try:
            self.resolve(host, 0)
        except Refused as exc:
            if exc.code != "resolve":
                raise
        return host

    def connect(self, value: str, *, schemes: Iterable[str]) -> Target:
        """Right before connecting: the URL cleaned, its host resolved once and every address checked."""
        url = clean_url(value, schemes=schemes)
        host, port = url_host_port(url)
        return Target(url=url, host=host, port=port, addresses=self.resolve(host, port))


@dataclass(frozen=True)
class Target:
    """A URL the portal may connect to now, with the addresses that were checked for it."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the first checked address: whoever connects with it (ffmpeg)
        does not resolve the name again. TLS URLs keep the name, which the handshake needs (SNI)."""
        if urlsplit(self.url).scheme in ("rtsps", "https") or self.host == self.addresses[0]:
            return self.url
        return with_host(self.url, self.addresses[0])


_policy = Policy()


def configure(policy: Policy) -> None:
    """Set the process-wide policy (the Django side does, from CAMERA_ALLOWED_NETWORKS)."""
    global _policy
    _policy = policy


def current() -> Policy:
    return _policy


def has_scheme(source: str) -> bool:
    return bool(_SCHEME.match(source))


def ffmpeg_input(
    source: str, *, io_timeout: float = 5.0, schemes: Iterable[str] = STREAM_SCHEMES, policy: Policy | None = None
) -> list[str]:
    """ffmpeg / ffprobe input options ending in ``-i``: for a camera URL checked now (Refused otherwise)
    and pinned to the checked address, limited to the protocols a camera needs; for a path without a
    scheme (the portal's own file) the ``file`` protocol only. Never anything else: ``-i`` of an
    arbitrary value would read any file, any protocol (concat:, subfile:, http:) ffmpeg knows."""
    source = str(source)
    if not has_scheme(source):
        return ["-protocol_whitelist", FILE_PROTOCOLS, "-i", source]
    target = (policy or current()).connect(source, schemes=schemes)
    args = ["-protocol_whitelist", CAMERA_PROTOCOLS]
    scheme = urlsplit(target.url).scheme
    if scheme in STREAM_SCHEMES:
        # TCP: no packet loss on a lossy link; -timeout (µs): a silent camera is an error, not a hang.
        args += ["-rtsp_transport", "tcp", "-timeout", str(int(io_timeout * 1_000_000))]
    else:  # an http(s) snapshot
        args[1] = "tcp,tls,http,https"
        args += ["-timeout", str(int(io_timeout * 1_000_000))]
    return [*args, "-i", target.pinned_url]
