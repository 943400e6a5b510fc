"""Resolving a camera's stream and snapshot URIs through ONVIF (onvif-zeep-async).

The calls are those every ONVIF camera answers: GetServices (or GetCapabilities when a camera lacks it)
for the service addresses, then GetDeviceInformation, GetProfiles, GetStreamUri (RTSP, unicast) and
GetSnapshotUri for the first profile (channel N of an edge recorder: the Nth profile). Credentials go in
a WS-Security UsernameToken with a digest.

The library is async; ingest workers and views are not, so `resolve` runs the exchange on its own event
loop with one overall deadline. Failures come back as `OnvifError` with a `problem` of
workers.probe_camera.Problem (network / auth / garbage), so the trouble state and the message follow the
same rules as an RTSP probe.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from workers.probe_camera import Problem


@dataclass(frozen=True)
class OnvifStream:
    stream_uri: str  # RTSP, with the camera's credentials added when the camera left them out
    snapshot_uri: str
    manufacturer: str
    model: str
    profile: str


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


async def _resolve(host: str, port: int, user: str, password: str, profile_index: int = 0) -> OnvifStream:
    from onvif import ONVIFCamera

    camera = ONVIFCamera(host, port, user or None, password or None)
    try:
        await camera.update_xaddrs()  # GetServices, falling back to GetCapabilities
        device = await camera.create_devicemgmt_service()
        info = await device.GetDeviceInformation()
        media = await camera.create_media_service()
        profiles = await media.GetProfiles()
        if not profiles:
            raise OnvifError(Problem.NOT_VIDEO, "the camera has no media profile")
        if profile_index >= len(profiles):
            raise OnvifError(
                Problem.NOT_VIDEO,
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
    finally:
        await camera.close()
    return OnvifStream(
        stream_uri=with_credentials(stream.Uri, user, password),
        snapshot_uri=snapshot or "",
        manufacturer=getattr(info, "Manufacturer", "") or "",
        model=getattr(info, "Model", "") or "",
        profile=str(token),
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
    *, host: str, port: int | None, user: str, password: str, timeout: float = 10.0, profile_index: int = 0
) -> OnvifStream:
    """Ask the camera for the stream and snapshot URIs of its media profile `profile_index` (the first
    for a camera; channel N of an edge recorder is its Nth profile); raises OnvifError within about
    `timeout` seconds."""
    if not host:
        raise OnvifError(Problem.NETWORK, "no ONVIF host configured")

    async def bounded() -> OnvifStream:
        return await asyncio.wait_for(_resolve(host, port or 80, user, password, profile_index), timeout)

    try:
        return _run(bounded)
    except OnvifError:
        raise
    except Exception as exc:  # the library raises many kinds; each maps onto one problem
        raise _classify(exc) from exc
