"""Resolving a camera's stream and snapshot URIs through ONVIF (onvif-zeep-async).

The calls are those every ONVIF camera answers: GetServices (or GetCapabilities when a camera lacks it)
for the service addresses, then GetDeviceInformation, GetProfiles, GetStreamUri (RTSP, unicast) and
GetSnapshotUri for the first profile (channel N of an edge recorder: the Nth profile), and a camera's
second profile's stream URI (its sub-stream, for server-side motion). Credentials go in
a WS-Security UsernameToken with a digest.

The library is async; ingest workers and views are not, so `resolve` runs the exchange on its own event
loop with one overall deadline. Failures come back as `OnvifError` with a `problem` of
workers.probe_camera.Problem (network / auth / garbage), so the trouble state and the message follow the
same rules as an RTSP probe.

Everything the device names is its word, so it goes through the outbound-connection policy
(workers/netpolicy.py): the ONVIF host is resolved once and checked, and the client talks to the checked
address; every XAddr and the snapshot URI must be http(s), and the stream URI rtsp(s), on the device's own
host or in a network CAMERA_ALLOWED_NETWORKS names; the client follows no HTTP redirect. A violation is
an OnvifError with Problem.REFUSED that names it: the camera goes into a trouble state. Every answer is
bounded before it is parsed (MAX_ANSWER_BYTES: the Content-Length, then what is actually read).

The events side (PullPoint subscriptions for the camera's own motion events) is recording/onvif_events.py,
on the same guarded camera.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit, urlunsplit

from workers import netpolicy
from workers.probe_camera import Problem
from workers.redaction import redact

# The largest SOAP answer parsed: an edge recorder's GetProfiles with dozens of channels is ~200 KB.
MAX_ANSWER_BYTES = 1024 * 1024


@dataclass(frozen=True)
class OnvifStream:
    stream_uri: str  # RTSP, with the camera's credentials added when the camera left them out
    snapshot_uri: str
    manufacturer: str
    model: str
    profile: str
    sub_stream_uri: str = ""  # a camera's second media profile (its lighter sub-stream), for motion


class OnvifError(Exception):
    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


def with_credentials(uri: str, user: str, password: str) -> str:
    """The RTSP URI with user:password, unless it carries some already (cameras usually leave them out)."""
    parts = urlsplit(uri)
    if not user or parts.username or not parts.hostname:
        return uri
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _classify(exc: BaseException) -> OnvifError:
    import zeep.exceptions
    from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError

    text = str(exc)
    lowered = text.lower()
    if isinstance(exc, ONVIFAuthError) or "not authorized" in lowered or "401" in text or "unauthorized" in lowered:
        return OnvifError(Problem.AUTH, "the camera refused the ONVIF user name or password")
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, ONVIFTimeoutError)):
        return OnvifError(Problem.NETWORK, "the ONVIF service did not answer in time")
    if isinstance(exc, OSError) or "cannot connect" in lowered or "connection refused" in lowered:
        return OnvifError(Problem.NETWORK, f"cannot reach the ONVIF service: {text[:200]}")
    if isinstance(exc, (zeep.exceptions.Error, ONVIFError)):
        return OnvifError(Problem.GARBAGE, f"the ONVIF service answered unexpectedly: {text[:200]}")
    return OnvifError(Problem.GARBAGE, f"ONVIF failed: {type(exc).__name__}: {text[:200]}")


def _refused(what: str, exc: netpolicy.Refused) -> OnvifError:
    return OnvifError(Problem.REFUSED, f"refused: {what}: {exc.message}"[:300])


@dataclass
class _Device:
    """The device's own host as configured, the addresses it was checked at, and the policy; ``called``:
    every address the client may call (the device's, and those of service addresses checked since)."""

    host: str
    addresses: tuple[str, ...]
    policy: netpolicy.Policy
    called: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.called |= set(self.addresses)

    def checked(self, uri: str, *, what: str, schemes: tuple[str, ...]) -> str:
        """``uri`` if the device may name it: the right scheme, clean, on the device's own host or (all its
        addresses) inside an allowed network. Raises OnvifError(REFUSED)."""
        try:
            uri = netpolicy.clean_url(uri, schemes=schemes)
            host, port = netpolicy.url_host_port(uri)
            if host in (self.host, *self.addresses):
                return uri
            addresses = self.policy.resolve(host, port)
        except netpolicy.Refused as exc:
            raise _refused(what, exc) from None
        if not all(self.policy.in_allowed(ipaddress.ip_address(a)) for a in addresses):
            raise OnvifError(
                Problem.REFUSED,
                f"refused: the {what} names another host ({host}) than the camera's own ({self.host})"[:300],
            )
        return uri

    def pinned(self, uri: str, *, what: str) -> str:
        """A service address the client may call: checked, and pointing at a checked address."""
        uri = self.checked(uri, what=what, schemes=netpolicy.HTTP_SCHEMES)
        host, port = netpolicy.url_host_port(uri)
        if host == self.host:
            return netpolicy.with_host(uri, self.addresses[0])
        try:
            address = self.policy.resolve(host, port)[0]
        except netpolicy.Refused as exc:
            raise _refused(what, exc) from None
        self.called.add(address)
        return netpolicy.with_host(uri, address)


def _guarded_session(device: _Device, timeout):  # noqa: ANN001, ANN202 (aiohttp types)
    """An aiohttp session that follows no redirect and calls checked IP addresses only."""
    import aiohttp

    async def on_start(session, context, params) -> None:  # noqa: ANN001
        host = params.url.host or ""
        if params.url.scheme not in netpolicy.HTTP_SCHEMES or host not in device.called:
            raise OnvifError(Problem.REFUSED, f"refused: a request to {host or 'no host'} the policy did not check")

    async def on_redirect(session, context, params) -> None:  # noqa: ANN001
        location = params.response.headers.get("Location", "")[:100]
        raise OnvifError(Problem.REFUSED, f"refused: the ONVIF service redirects elsewhere ({location})")

    async def on_end(session, context, params) -> None:  # noqa: ANN001
        # The headers are in; the body is not read yet. Refuse a declared size over the bound, and read
        # the rest in chunks that stop at the bound (a chunked answer declares none).
        response = params.response
        if (response.content_length or 0) > MAX_ANSWER_BYTES:
            response.close()
            raise OnvifError(Problem.GARBAGE, f"the ONVIF answer is larger than {MAX_ANSWER_BYTES} bytes")

        async def bounded_read() -> bytes:
            if response._body is None:
                chunks, total = [], 0
                async for chunk in response.content.iter_chunked(64 * 1024):
                    total += len(chunk)
                    if total > MAX_ANSWER_BYTES:
                        response.close()
                        raise OnvifError(Problem.GARBAGE, f"the ONVIF answer is larger than {MAX_ANSWER_BYTES} bytes")
                    chunks.append(chunk)
                response._body = b"".join(chunks)
                response.release()
            return response._body

        response.read = bounded_read

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    trace.on_request_redirect.append(on_redirect)
    trace.on_request_end.append(on_end)
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False), timeout=timeout, trace_configs=[trace])


def _camera_class():
    from onvif import ONVIFCamera

    class GuardedCamera(ONVIFCamera):
        """onvif-zeep-async's camera, with every service address checked and each service's HTTP session
        replaced by one that follows no redirect and calls only checked addresses."""

        device: _Device

        async def create_onvif_service(self, name, port_type=None, read_timeout=None, write_timeout=None):  # noqa: ANN001, ANN201
            service = await super().create_onvif_service(name, port_type, read_timeout, write_timeout)
            if not getattr(service, "_portal_guarded", False):
                old_session, old_connector = service._session, service._connector
                session = _guarded_session(self.device, old_session.timeout)
                service._session, service._connector = session, session.connector
                service.transport.session = session
                service._portal_guarded = True
                await old_session.close()
                await old_connector.close()
            return service

    return GuardedCamera


async def _resolve(
    device: _Device, port: int, user: str, password: str, profile_index: int = 0, with_sub_stream: bool = False
) -> OnvifStream:
    camera = _camera_class()(device.addresses[0], port, user or None, password or None)
    camera.device = device
    try:
        await camera.update_xaddrs()  # GetServices, falling back to GetCapabilities
        # The library calls whatever XAddrs the device names: each must be the device's own (or allowed).
        camera.xaddrs = {
            ns: device.pinned(xaddr, what="service address (XAddr)") for ns, xaddr in camera.xaddrs.items()
        }
        device_service = await camera.create_devicemgmt_service()
        info = await device_service.GetDeviceInformation()
        media = await camera.create_media_service()
        profiles = await media.GetProfiles()
        if not profiles:
            raise OnvifError(Problem.NOT_VIDEO, "the camera has no media profile")
        if profile_index >= len(profiles):
            raise OnvifError(  # the channel was removed on the recorder (or never existed)
                Problem.NOT_FOUND,
                f"the recorder has no media profile for channel {profile_index + 1} ({len(profiles)} profiles)",
            )
        token = profiles[profile_index].token
        stream = await media.GetStreamUri(
            {"StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}, "ProfileToken": token}
        )
        try:
            snapshot = (await media.GetSnapshotUri({"ProfileToken": token})).Uri
        except Exception:  # a snapshot URI is optional: frames can come from the stream
            snapshot = ""
        sub = None
        if with_sub_stream and len(profiles) > profile_index + 1:
            try:
                sub = await media.GetStreamUri(
                    {
                        "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
                        "ProfileToken": profiles[profile_index + 1].token,
                    }
                )
            except Exception:  # optional: motion then watches the main stream
                sub = None
    finally:
        await camera.close()
    stream_uri = device.checked(str(stream.Uri or ""), what="stream URI", schemes=netpolicy.STREAM_SCHEMES)
    snapshot_uri = (
        device.checked(str(snapshot), what="snapshot URI", schemes=netpolicy.HTTP_SCHEMES) if snapshot else ""
    )
    sub_uri = str(getattr(sub, "Uri", "") or "")
    try:
        sub_uri = device.checked(sub_uri, what="sub-stream URI", schemes=netpolicy.STREAM_SCHEMES) if sub_uri else ""
    except OnvifError:  # a sub-stream elsewhere is not worth refusing the camera for: motion uses the main
        sub_uri = ""
    return OnvifStream(
        stream_uri=with_credentials(stream_uri, user, password),
        snapshot_uri=snapshot_uri,
        manufacturer=getattr(info, "Manufacturer", "") or "",
        model=getattr(info, "Model", "") or "",
        profile=str(token),
        sub_stream_uri=with_credentials(sub_uri, user, password) if sub_uri and sub_uri != stream_uri else "",
    )


def _run(factory) -> OnvifStream:
    """asyncio.run, or in a thread of its own where this thread already runs an event loop (an async
    caller, or a Playwright session in the tests): asyncio.run refuses to nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


def resolve(
    *,
    host: str,
    port: int | None,
    user: str,
    password: str,
    timeout: float = 10.0,
    profile_index: int = 0,
    with_sub_stream: bool = False,
) -> OnvifStream:
    """Ask the camera for the stream and snapshot URIs of its media profile `profile_index` (the first
    for a camera; channel N of an edge recorder is its Nth profile); raises OnvifError within about
    `timeout` seconds. ``with_sub_stream``: a camera's, also its second profile's stream URI (sub-stream)."""
    if not host:
        raise OnvifError(Problem.NETWORK, "no ONVIF host configured")
    policy = netpolicy.current()
    try:
        host = netpolicy.clean_host(host)
        device = _Device(host, policy.resolve(host, port or 80), policy)  # checked once, then only its address
    except netpolicy.Refused as exc:
        if exc.code == "resolve":
            raise OnvifError(Problem.NETWORK, f"cannot reach the ONVIF service: {exc.message}") from None
        raise _refused("ONVIF host", exc) from None

    async def bounded() -> OnvifStream:
        found = _resolve(device, port or 80, user, password, profile_index, with_sub_stream)
        return await asyncio.wait_for(found, timeout)

    try:
        return _run(bounded)
    except OnvifError as exc:
        raise OnvifError(exc.problem, redact(exc.message, [password])) from None
    except Exception as exc:  # the library raises many kinds; each maps onto one problem
        found = _classify(exc)
        raise OnvifError(found.problem, redact(found.message, [password])) from exc
