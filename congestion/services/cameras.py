"""Registering congestion cameras, their settings, backgrounds, off-hours image and frame grabbing."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import cv2
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device
from tenants.access import require_admin
from tenants.models import Operator, User
from workers.frames import SnapshotError, grab_snapshot
from workers.people.render import blur_background, encode_jpeg

from .. import selectors
from ..models import (
    LEVELS,
    AlertSetting,
    BackgroundPattern,
    CongestionCamera,
    Group,
    Mode,
    MonitoringFrame,
    PublicImage,
)
from .images import (
    BACKGROUND_MAX,
    BACKGROUND_MAX_BYTES,
    _delete_later,
    _store,
    validate_jpeg,
)

# ----------------------------------------------------------------------------- cameras


# Every refusal of camera_add is one of what is stored (whose camera, the licenses held, registered already).
CAMERA_ADD_CONFLICTS = frozenset({"not_owner", "no_license", "camera_taken"})


@transaction.atomic
def camera_add(*, user: User, operator: Operator, camera: Device) -> CongestionCamera:
    """Register an own camera. Allowed beyond the option count (the manual's case), but then analysis
    stops for every camera of the operator until one is removed; the pages say so."""
    require_admin(user)
    if camera.operator_id != operator.pk:  # only the camera's owner may enable congestion
        raise ValidationError(_("Only the camera's owner can add it to congestion visualization."), code="not_owner")
    if selectors.option_licenses(operator=operator) < 1:
        raise ValidationError(_("This account holds no congestion visualization option license."), code="no_license")
    if CongestionCamera.objects.filter(camera=camera).exists():
        raise ValidationError(_("This camera is already registered."), code="camera_taken")
    return CongestionCamera.objects.create(operator=operator, camera=camera, display_name=camera.name[:64])


@transaction.atomic
def camera_remove(*, user: User, congestion_camera: CongestionCamera) -> None:
    require_admin(user)
    if Group.objects.filter(default_camera=congestion_camera).exists():
        raise ValidationError(
            _("This camera is the default camera of a group. Choose another default camera for the group first."),
            code="default_of_group",
        )
    names = [congestion_camera.background_day, congestion_camera.background_night, congestion_camera.offhours_image]
    names += list(MonitoringFrame.objects.filter(congestion_camera=congestion_camera).values_list("image", flat=True))
    names += list(PublicImage.objects.filter(congestion_camera=congestion_camera).values_list("image", flat=True))
    alert = AlertSetting.objects.filter(congestion_camera=congestion_camera).first()
    if alert:
        names += alert.images
    congestion_camera.delete()
    for name in names:
        _delete_later(name)


@transaction.atomic
def camera_update(
    *,
    user: User,
    congestion_camera: CongestionCamera,
    display_name: str,
    mode: str,
    level: int | None,
    background_pattern: str,
    enabled: bool,
) -> CongestionCamera:
    """The detection level applies to detailed mode only: for standard and wide-area a submitted level
    is ignored and the stored one is kept (it returns when the camera goes back to detailed)."""
    require_admin(user)
    errors = {}
    display_name = display_name.strip()
    if not display_name or len(display_name) > 64:
        errors["display_name"] = [_("Enter a camera name of 1 to 64 characters.")]
    if mode not in Mode.values:
        errors["mode"] = [_("Choose an AI mode.")]
    if mode != Mode.DETAILED:
        level = congestion_camera.level
    elif level not in LEVELS:
        errors["level"] = [_("The detection level must be 1 to 5.")]
    if background_pattern not in BackgroundPattern.values:
        errors["background_pattern"] = [_("Choose a background pattern.")]
    if errors:
        raise ValidationError(errors)
    congestion_camera.display_name = display_name
    congestion_camera.mode = mode
    congestion_camera.level = level
    congestion_camera.background_pattern = background_pattern
    congestion_camera.enabled = enabled
    congestion_camera.save()
    return congestion_camera


@transaction.atomic
def background_set(
    *, user: User, congestion_camera: CongestionCamera, which: str, jpeg: bytes, blur_level: int | None = None
) -> CongestionCamera:
    """Register an uploaded JPEG, or a captured frame blurred at `blur_level`, as the day (or fixed)
    or night background. People in it are never masked: the pages warn."""
    require_admin(user)
    if which not in ("day", "night"):
        raise ValidationError(_("Choose the day or the night background."))
    image = validate_jpeg(jpeg, max_size=BACKGROUND_MAX, max_bytes=BACKGROUND_MAX_BYTES)
    if blur_level is not None:
        if blur_level not in LEVELS:
            raise ValidationError(_("The blur level must be 1 to 5."))
        jpeg = encode_jpeg(blur_background(image, blur_level))
        congestion_camera.blur_level = blur_level
    field = "background_day" if which == "day" else "background_night"
    _delete_later(getattr(congestion_camera, field))
    setattr(
        congestion_camera, field, _store(f"{congestion_camera.operator_id}/{congestion_camera.pk}/bg-{which}", jpeg)
    )
    congestion_camera.save()
    return congestion_camera


def grab_file_frame(path: str, at: datetime) -> bytes:
    """A frame of a recorded file at a position that moves with the clock (the demo's "live" camera):
    minute m of the hour shows second (m × 7) mod the file's length."""
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise SnapshotError(f"cannot open {path}")
        frames = capture.get(cv2.CAP_PROP_FRAME_COUNT) or 1
        fps = capture.get(cv2.CAP_PROP_FPS) or 10
        seconds = (at.minute * 7 + at.second // 10) % max(int(frames / fps), 1)
        capture.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000)
        ok, frame = capture.read()
        if not ok:
            raise SnapshotError(f"no frame in {path}")
        return encode_jpeg(frame, 90)
    finally:
        capture.release()


def grab_frame(camera: Device) -> bytes:
    """One JPEG from the camera: its snapshot URL where it has one, else one frame of its stream."""
    congestion = getattr(camera, "congestion", None)
    url = (congestion.snapshot_url if congestion is not None else "") or camera.rtsp_url
    if url.startswith("file:"):
        path = Path(url.removeprefix("file:"))
        return grab_file_frame(str(path if path.is_absolute() else Path(settings.BASE_DIR) / path), timezone.now())
    if not url:
        raise SnapshotError("the camera has no stream address")
    return grab_snapshot(url, timeout=10.0)


@transaction.atomic
def offhours_image_set(*, user: User, congestion_camera: CongestionCamera, jpeg: bytes | None) -> CongestionCamera:
    """Upload the off-hours image (JPEG ≤ 1920×1280, ≤ 1 MB), or None to go back to the default."""
    require_admin(user)
    if jpeg is not None:
        validate_jpeg(jpeg)
    _delete_later(congestion_camera.offhours_image)
    congestion_camera.offhours_image = (
        _store(f"{congestion_camera.operator_id}/{congestion_camera.pk}/offhours", jpeg) if jpeg else ""
    )
    congestion_camera.save(update_fields=["offhours_image"])
    return congestion_camera
