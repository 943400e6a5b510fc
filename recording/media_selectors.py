"""Reads of recorded media (segments, motion, clips, exports, ingest state), scoped to what a user may see.

Every request-facing lookup goes through `camera_list` / `access_device` of devices.selectors, so an
approved shared camera is playable by the receiver, and another operator's media is a 404. The
functions marked "system-side" are for the ingest workers and beat tasks, which act for no user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.db.models import Case, CharField, Count, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.media_tokens import camera_access_valid
from devices.models import Device, DeviceKind, StreamSource
from devices.selectors import camera_list
from licensing.selectors import camera_license_state, customer_has_licenses, holds_licenses, own_license_exists
from tenants.access import get_visible_or_404
from tenants.models import Operator, User
from workers.hls import PLAYLIST, live_playlist, live_segment
from workers.retention import StoredSegment, bitrate_bps, days_quota_holds

from . import conf
from .models import (
    CameraRecording,
    EventClip,
    Export,
    IngestLease,
    IngestWorker,
    MotionEvent,
    RecordingSegment,
)

# ----------------------------------------------------------------------------- license and stream

LICENSE_EXPIRED = "license_expired"
LICENSE_MISSING = "license_missing"


def media_blocked_reason(camera: Device) -> str:
    """Why `camera` may not record, stream live, play back or notify right now ("" when it may).

    An *expired* license stops all remote media (docs/product.md §7.8), and so does *no license*: a
    camera whose license was moved to another camera, of an operator that holds licenses, stops exactly
    the same way ("license_missing"). An operator without any license at all (never a customer of a
    partner) is left alone: registration already requires one, and licensing owns that rule.
    """
    state = camera_license_state(camera)
    if state == "expired":
        return LICENSE_EXPIRED
    if state == "unlicensed" and customer_has_licenses(customer=camera.operator):
        return LICENSE_MISSING
    return ""


def media_blocked_message(reason: str) -> str:
    """What a page, an API error or a mail says about a camera stopped for `reason`."""
    if reason == LICENSE_MISSING:
        return _(
            "The camera has no license (it was moved to another camera): recording, live view, playback and "
            "notifications are stopped. Assign a license to resume."
        )
    if reason == LICENSE_EXPIRED:
        return _(
            "The camera's license has expired: recording, live view, playback and notifications are stopped. "
            "Assign a license to resume."
        )
    return ""


# ----------------------------------------------------------------------------- live HLS files

LIVE_FILE = re.compile(r"^(index\.m3u8|init\.mp4|seg\d{1,12}\.(ts|m4s))$")  # TS from RTSP, fMP4 from the feed
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"


def live_media_camera(token: str) -> Device | None:
    """The camera whose live HLS files a media token (devices.media_tokens) opens right now, else None
    (a 404): genuine, not expired, its operator (and user) may still see the camera, and the camera's
    license lets it stream. The one decision of the HLS files, for the Django view and for the raw ASGI
    path (recording/live_http.py, which keeps it LIVE_RECHECK_SECONDS per token)."""
    access = camera_access_valid(token)
    if access is None or media_blocked_reason(access.camera):
        return None
    return access.camera


def live_file(camera_id: int, filename: str) -> tuple[bytes | Path, str] | None:
    """Live file `filename` (a LIVE_FILE name) of the camera's stream, with its content type: the playlist's
    bytes or a segment's path; None when the stream is not being written now (workers.hls.live_playlist:
    the folder a stopped stream or a dead worker left is a 404 like a missing one, so the page waits)."""
    folder = conf.live_dir() / str(camera_id)
    if filename == PLAYLIST:
        playlist = live_playlist(folder)
        return None if playlist is None else (playlist, PLAYLIST_TYPE)
    path = live_segment(folder, filename)
    return None if path is None else (path, "video/mp2t" if filename.endswith(".ts") else "video/mp4")


def camera_stream_url(camera: Device) -> str:
    """The RTSP URL to record `camera` from; "" when none is configured.

    A channel of an edge recorder without its own settings takes the recorder's: its RTSP URL with
    "{channel}" replaced by the channel number (per-channel RTSP paths), or over ONVIF the recorder's
    media profile of that number.
    """
    if camera.stream_source == StreamSource.RTSP and camera.rtsp_url:
        return camera.rtsp_url
    from .streams import cached_onvif_url, is_onvif

    if is_onvif(camera):
        # The URI the camera (or its recorder) named over ONVIF, cached by recording.streams (resolved
        # by the ingest worker).
        return cached_onvif_url(camera)
    parent = camera.parent
    if (
        parent is not None
        and parent.kind == DeviceKind.RECORDER
        and parent.rtsp_url
        and camera.channel is not None
        and "{channel}" in parent.rtsp_url
    ):
        return parent.rtsp_url.replace("{channel}", str(camera.channel))
    return ""


# ----------------------------------------------------------------------------- request-facing


def _visible_camera_ids(*, operator: Operator, user: User) -> QuerySet:
    return camera_list(operator=operator, user=user).values("pk")


def _visible(model, *, operator: Operator, user: User) -> QuerySet:
    """Rows of `model` (segments, clips, exports) of the cameras `user` may see."""
    return model.objects.filter(camera_id__in=_visible_camera_ids(operator=operator, user=user)).select_related(
        "camera"
    )


def access_segment(*, operator: Operator, user: User, pk) -> RecordingSegment:
    """A continuous-recording segment of a camera `user` may see. Security guarantee: 404 for a
    segment of a camera outside the user's view (another operator's, an ended share, a user limit)."""
    return get_visible_or_404(_visible(RecordingSegment, operator=operator, user=user), pk)


def access_clip(*, operator: Operator, user: User, pk) -> EventClip:
    """An event clip of a camera `user` may see. Security guarantee: as `access_segment`."""
    return get_visible_or_404(_visible(EventClip, operator=operator, user=user), pk)


def access_export(*, operator: Operator, user: User, pk) -> Export:
    """One of `user`'s own exports. Security guarantee: 404 for anybody else's export, even in the
    same operator (an export is a personal download), and when the camera left the user's view."""
    return get_visible_or_404(_visible(Export, operator=operator, user=user).filter(user=user), pk)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day in the portal's time zone, as an aware [start, end)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def segment_list(*, camera: Device, start: datetime, end: datetime) -> QuerySet[RecordingSegment]:
    """Segments of `camera` overlapping [start, end) (the caller got `camera` from an access function)."""
    return RecordingSegment.objects.for_operator(camera.operator_id).filter(
        camera=camera, start__lt=end, start__gte=start - timedelta(seconds=conf.segment_seconds() * 2)
    )


def motion_list(*, camera: Device, start: datetime, end: datetime) -> QuerySet[MotionEvent]:
    return MotionEvent.objects.for_operator(camera.operator_id).filter(camera=camera, at__gte=start, at__lt=end)


def clip_list(*, camera: Device, start: datetime, end: datetime) -> QuerySet[EventClip]:
    return EventClip.objects.for_operator(camera.operator_id).filter(
        camera=camera, motion_at__gte=start, motion_at__lt=end
    )


def recording_days(*, camera: Device, month_start: date) -> set[date]:
    """Days of the month with any continuous segment or event clip (for the calendar)."""
    first = timezone.make_aware(datetime.combine(month_start, time.min))
    next_month = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    last = timezone.make_aware(datetime.combine(next_month, time.min))
    days: set[date] = set()
    for model, field in ((RecordingSegment, "start"), (EventClip, "motion_at")):
        stamps = (
            model.objects.for_operator(camera.operator_id)
            .filter(camera=camera, **{f"{field}__gte": first, f"{field}__lt": last})
            .values_list(field, flat=True)
        )
        days |= {timezone.localtime(s).date() for s in stamps}
    return days


def export_list(*, operator: Operator, user: User) -> QuerySet[Export]:
    """`user`'s exports of cameras still in their view, newest first."""
    return (
        Export.objects.for_operator(operator)
        .filter(user=user, camera_id__in=_visible_camera_ids(operator=operator, user=user))
        .select_related("camera")
    )


def recording_settings_for(camera: Device) -> CameraRecording:
    """The camera's recording row, or an unsaved default one."""
    row = CameraRecording.objects.filter(camera=camera).first()
    return row or CameraRecording(operator_id=camera.operator_id, camera=camera)


def quota_for(camera: Device) -> int:
    row = CameraRecording.objects.filter(camera=camera).only("quota_bytes").first()
    return (row.quota_bytes if row and row.quota_bytes else None) or conf.default_quota_bytes()


def export_limit_minutes(camera: Device) -> int:
    """The longest export of `camera`: its owner's limit, else the RECORDING_EXPORT_MAX_MINUTES default."""
    row = CameraRecording.objects.filter(camera=camera).only("export_max_minutes").first()
    return (row.export_max_minutes if row and row.export_max_minutes else None) or conf.export_max_minutes()


def camera_bitrate(camera: Device, *, last: int = 30) -> float:
    """Recorded bits per second over the last `last` segments (0 when nothing is recorded yet)."""
    rows = RecordingSegment.objects.filter(camera=camera).order_by("-start")[:last]
    return bitrate_bps([StoredSegment(key=r.pk, start=r.start, size=r.size, duration=r.duration) for r in rows])


@dataclass(frozen=True)
class RetentionFigure:
    quota_bytes: int
    used_bytes: int
    bitrate_bps: float
    days: float | None  # how many days the quota holds at the current bitrate; None before any recording


def retention_figure(camera: Device) -> RetentionFigure:
    quota = quota_for(camera)
    bitrate = camera_bitrate(camera)
    used = RecordingSegment.objects.filter(camera=camera).aggregate(total=Sum("size"))["total"] or 0
    return RetentionFigure(
        quota_bytes=quota,
        used_bytes=used,
        bitrate_bps=bitrate,
        days=days_quota_holds(quota_bytes=quota, bitrate=bitrate),
    )


def lease_for(camera: Device) -> IngestLease | None:
    return IngestLease.objects.filter(camera=camera).first()


# ----------------------------------------------------------------------------- system-side


def cameras_by_id(camera_ids: list[int]) -> dict[int, Device]:
    """System-side: the cameras a worker records, with their edge recorders, in one query."""
    cameras = Device.objects.select_related("parent").filter(pk__in=camera_ids, kind=DeviceKind.CAMERA)
    return {camera.pk: camera for camera in cameras}


def camera_by_id(camera_id: int) -> Device | None:
    """System-side: a camera by id (workers and tasks act for no user); None when gone."""
    return (
        Device.objects.select_related("room", "room__building", "operator", "parent")
        .filter(pk=camera_id, kind=DeviceKind.CAMERA)
        .first()
    )


def recordable_cameras() -> list[tuple[Device, str]]:
    """System-side: every camera with a stream, and why it may not record ("" when it may)."""
    from .streams import is_onvif

    cameras = Device.objects.filter(kind=DeviceKind.CAMERA).select_related("parent", "operator", "room")
    result = []
    for camera in cameras:
        url = camera_stream_url(camera)
        if not url and not is_onvif(camera):
            continue  # an ONVIF camera counts before its first resolve: the worker asks it
        result.append((camera, media_blocked_reason(camera)))
    return result


def motion_pending() -> QuerySet[MotionEvent]:
    """System-side: motion events whose clip is still to be cut."""
    return MotionEvent.objects.filter(clip_state=MotionEvent.ClipState.PENDING).select_related("camera")


def segments_for_clip(*, camera: Device, start: datetime, end: datetime) -> list[RecordingSegment]:
    """System-side: stored segments of `camera` overlapping [start, end), in time order."""
    window = timedelta(seconds=max(conf.segment_seconds(), 1) * 2 + 5)
    rows = RecordingSegment.objects.filter(camera=camera, start__lt=end, start__gte=start - window).order_by("start")
    return [r for r in rows if r.end > start]


def ingest_overview() -> tuple[QuerySet[IngestLease], QuerySet[IngestWorker]]:
    """System-side, for platform staff: every ingest and every worker heartbeat."""
    leases = IngestLease.objects.select_related("camera", "camera__room", "operator").order_by(
        "operator__name", "camera__name", "pk"
    )
    return leases, IngestWorker.objects.all()


def device_for_motion(*, device_id: int) -> Device | None:
    """System-side, for the motion endpoint (authenticated by the device's own secret, not a user):
    a sensor or camera by id, None when missing."""
    return (
        Device.objects.select_related("room", "parent", "operator")
        .filter(pk=device_id, kind__in=[DeviceKind.SENSOR, DeviceKind.CAMERA])
        .first()
    )


def camera_list_with_media_state(cameras: QuerySet[Device], at: datetime | None = None) -> QuerySet[Device]:
    """`cameras` (already scoped by the caller) annotated with `thumbnail_at` (the latest motion
    picture's capture time, None when there is none yet) and `media_blocked` (the license reason of
    `media_blocked_reason`, "" when fine): still one query, however many cameras a page shows.

    `media_blocked` tests the licenses itself (active, then any, then whether the operator holds
    any) rather than naming `license_state`: each mention of that annotation repeated its two
    subqueries, which cost the camera list more to build and compile than the rest of its query."""
    thumbnail_at = CameraRecording.objects.filter(camera=OuterRef("pk")).exclude(thumbnail="").values("thumbnail_at")
    active, held = own_license_exists(at)
    return cameras.annotate(
        thumbnail_at=Subquery(thumbnail_at[:1]),
        media_blocked=Case(
            When(active, then=Value("")),
            When(held, then=Value(LICENSE_EXPIRED)),
            When(holds_licenses("operator"), then=Value(LICENSE_MISSING)),
            default=Value(""),
            output_field=CharField(),
        ),
    )


# ----------------------------------------------------------------------------- what a deletion takes


def media_delete_summary(*, building=None, room=None, device=None) -> dict:
    """The recorded media stored for the cameras that deleting `building`, `room` or `device` takes with
    it (docs/product.md §2.3): a building its rooms' cameras, a room its cameras, a recorder its channels.
    Counts of recordings, clips and exports (of every user), their bytes together, and the oldest start."""
    cameras = Device.objects.filter(kind=DeviceKind.CAMERA)
    if building is not None:
        cameras = cameras.filter(room__building=building)
    elif room is not None:
        cameras = cameras.filter(room=room)
    elif device is not None:
        cameras = cameras.filter(Q(pk=device.pk) | Q(parent=device))
    else:
        cameras = cameras.none()
    ids = cameras.values("pk")
    figures = {}
    for key, model, start in (
        ("recordings", RecordingSegment, "start"),
        ("clips", EventClip, "start"),
        ("exports", Export, "start"),
    ):
        rows = model.objects.filter(camera__in=ids)
        figures[key] = rows.aggregate(n=Count("pk"), size=Sum("size"), oldest=Min(start))
    oldest = [f["oldest"] for f in figures.values() if f["oldest"] is not None]
    size = sum(f["size"] or 0 for f in figures.values())
    return {
        "recordings": figures["recordings"]["n"],
        "clips": figures["clips"]["n"],
        "exports": figures["exports"]["n"],
        "bytes": size,
        "gb": size / 10**9,  # decimal GB, as the quota (128 GB) is counted
        "oldest": min(oldest) if oldest else None,
    }
