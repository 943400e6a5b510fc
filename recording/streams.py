"""Where a camera's video comes from: its RTSP URL, or for an ONVIF camera the stream URI the camera
names itself (resolved through ONVIF, cached on its CameraRecording row, re-resolved when recording fails).

System-side: called by the ingest workers and by "refresh trouble info" for a camera the caller already
got through an access function.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.utils import timezone

from devices.models import Device, StreamSource

from . import onvif
from .media_selectors import camera_stream_url
from .models import CameraRecording

ONVIF_TIMEOUT = 8.0


def is_onvif(camera: Device) -> bool:
    return camera.stream_source == StreamSource.ONVIF and bool(camera.onvif_host)


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
    found = onvif.resolve(
        host=camera.onvif_host,
        port=camera.onvif_port,
        user=camera.onvif_user,
        password=camera.onvif_password,
        timeout=timeout,
    )
    # Stored without credentials: the password stays only in the device's encrypted field.
    CameraRecording.objects.update_or_create(
        camera=camera,
        defaults={
            "operator_id": camera.operator_id,
            "onvif_stream_uri": _without_credentials(found.stream_uri)[:500],
            "onvif_snapshot_uri": _without_credentials(found.snapshot_uri)[:500],
            "onvif_resolved_at": timezone.now(),
        },
    )
    return found


def cached_onvif_url(camera: Device) -> str:
    row = CameraRecording.objects.filter(camera=camera).only("onvif_stream_uri").first()
    if row is None or not row.onvif_stream_uri:
        return ""
    return onvif.with_credentials(row.onvif_stream_uri, camera.onvif_user, camera.onvif_password)


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
