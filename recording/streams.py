"""Where a camera's video comes from: its RTSP URL, or for an ONVIF camera the stream URI the camera
names itself (resolved through ONVIF, cached on its CameraRecording row, re-resolved when recording fails).

System-side: called by the ingest workers and by "refresh trouble info" for a camera the caller already
got through an access function.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.utils import timezone

from devices.models import Device, DeviceKind, StreamSource
from workers import netpolicy
from workers.probe_camera import Problem

from . import onvif
from .media_selectors import camera_stream_url
from .models import CameraRecording

ONVIF_TIMEOUT = 8.0


@dataclass(frozen=True)
class OnvifSource:
    """Where to ask over ONVIF: the camera itself, or for a channel of an edge recorder the recorder,
    whose media profile number `profile_index` + 1 is the channel."""

    host: str
    port: int | None
    user: str
    password: str
    profile_index: int = 0


def onvif_source(camera: Device) -> OnvifSource | None:
    if camera.stream_source == StreamSource.ONVIF and camera.onvif_host:
        return OnvifSource(camera.onvif_host, camera.onvif_port, camera.onvif_user, camera.onvif_password)
    recorder = camera.parent if camera.channel is not None else None
    if (
        recorder is not None
        and camera.stream_source == StreamSource.NONE
        and recorder.kind == DeviceKind.RECORDER
        and recorder.stream_source == StreamSource.ONVIF
        and recorder.onvif_host
    ):
        return OnvifSource(
            recorder.onvif_host, recorder.onvif_port, recorder.onvif_user, recorder.onvif_password, camera.channel - 1
        )
    return None


def is_onvif(camera: Device) -> bool:
    return onvif_source(camera) is not None


def _without_credentials(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.username is None:
        return uri
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def onvif_resolve(camera: Device, *, timeout: float = ONVIF_TIMEOUT) -> onvif.OnvifStream:
    """Ask the camera now and cache the answer; raises onvif.OnvifError (wrong password, unreachable …)."""
    source = onvif_source(camera)
    if source is None:
        raise onvif.OnvifError(Problem.NETWORK, "no ONVIF host configured")
    found = onvif.resolve(
        host=source.host,
        port=source.port,
        user=source.user,
        password=source.password,
        timeout=timeout,
        profile_index=source.profile_index,
        with_sub_stream=camera.stream_source == StreamSource.ONVIF,  # a recorder's next profile is a channel
    )
    # Stored without credentials: the password stays only in the device's encrypted field.
    CameraRecording.objects.update_or_create(
        camera=camera,
        defaults={
            "operator_id": camera.operator_id,
            "onvif_stream_uri": _without_credentials(found.stream_uri)[:500],
            "onvif_snapshot_uri": _without_credentials(found.snapshot_uri)[:500],
            "onvif_sub_stream_uri": _without_credentials(found.sub_stream_uri)[:500],
            "onvif_resolved_at": timezone.now(),
        },
    )
    return found


def cached_onvif_url(camera: Device) -> str:
    source = onvif_source(camera)
    row = CameraRecording.objects.filter(camera=camera).only("onvif_stream_uri").first()
    if source is None or row is None or not row.onvif_stream_uri:
        return ""
    try:  # a URI cached before the outbound-connection policy existed: ask the camera again
        uri = netpolicy.clean_url(row.onvif_stream_uri, schemes=netpolicy.STREAM_SCHEMES)
    except netpolicy.Refused:
        return ""
    return onvif.with_credentials(uri, source.user, source.password)


def ingest_url(camera: Device, *, refresh: bool = False, timeout: float = ONVIF_TIMEOUT) -> str:
    """The RTSP URL to record from; for ONVIF the cached URI unless `refresh` (or none cached yet).
    Raises onvif.OnvifError when an ONVIF camera cannot be asked."""
    if not is_onvif(camera):
        return camera_stream_url(camera)
    if not refresh:
        cached = cached_onvif_url(camera)
        if cached:
            return cached
    return onvif_resolve(camera, timeout=timeout).stream_uri


def motion_sub_stream_url(camera: Device) -> str:
    """The lighter stream to watch for motion: the sub-stream URL the installer entered, else an ONVIF
    camera's second profile (as named at the last resolve); "" for none (motion watches the main stream).
    Either goes through the outbound-connection policy again when the motion ffmpeg connects."""
    row = CameraRecording.objects.filter(camera=camera).only("motion_sub_stream_url", "onvif_sub_stream_uri").first()
    if row is None:
        return ""
    if row.motion_sub_stream_url:
        return row.motion_sub_stream_url
    source = onvif_source(camera)
    if source is None or camera.stream_source != StreamSource.ONVIF or not row.onvif_sub_stream_uri:
        return ""
    try:
        uri = netpolicy.clean_url(row.onvif_sub_stream_uri, schemes=netpolicy.STREAM_SCHEMES)
    except netpolicy.Refused:
        return ""
    return onvif.with_credentials(uri, source.user, source.password)
