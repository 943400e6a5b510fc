"""Writes of notification settings and recording conditions. Views and the API call these."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from buildings.models import Building, Room
from devices.models import Device, DeviceKind
from devices.outbound import clean_stream_url
from tenants.access import require_admin
from tenants.models import User

from .models import (
    DEFAULT_NOTIFICATION_TYPE,
    MAX_COOLDOWN_MINUTES,
    MIN_COOLDOWN_MINUTES,
    CameraRecording,
    MotionSource,
    NotificationSetting,
    NotificationType,
    RecordingCondition,
)
from .rules import clean_recipients
from .selectors import condition_list
from .streams import is_onvif


def cooldown_error(minutes) -> str | None:
    """Why a room's mail cooldown is refused (docs/product.md §5.3), or None when it is allowed."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < MIN_COOLDOWN_MINUTES:
        return _(
            "A mail cooldown below 1 minute is not possible: every detection would send its own mail again. "
            "Choose 1 to 1440 minutes (24 hours)."
        )
    if minutes > MAX_COOLDOWN_MINUTES:
        return _("A mail cooldown above 24 hours is not possible. Choose 1 to 1440 minutes (24 hours).")
    return None


def _validated(notification_type: str, recipients: list[str], cooldown_minutes: int | None) -> tuple[str, list[str]]:
    """Every field checked before anything is written, errors keyed by field."""
    errors: dict[str, list[str]] = {}
    if notification_type not in NotificationType.values:
        errors["notification_type"] = [_("Choose one of the notification types.")]
    if cooldown_minutes is not None and (message := cooldown_error(cooldown_minutes)):
        errors["cooldown_minutes"] = [message]
    try:
        recipients = clean_recipients(recipients)
    except ValidationError as exc:
        errors["recipients"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return notification_type, recipients


@transaction.atomic
def notification_setting_update(
    *, user: User, room: Room, notification_type: str, recipients: list[str], cooldown_minutes: int | None = None
) -> NotificationSetting:
    """A room's recipients, type and mail cooldown (minutes; None keeps the room's). A window already
    running keeps its end; the next one has the new length. Nothing is saved on any error."""
    require_admin(user)
    notification_type, recipients = _validated(notification_type, recipients, cooldown_minutes)
    defaults = {
        "notification_type": notification_type,
        "recipients": recipients,
        "updated_at": timezone.now(),
        "updated_by": user,
    }
    if cooldown_minutes is not None:
        defaults["cooldown_minutes"] = cooldown_minutes
    setting, _created = NotificationSetting.objects.update_or_create(
        operator_id=room.operator_id, room=room, defaults=defaults
    )
    return setting


def _building_rooms(building: Building) -> list[Room]:
    rooms = list(Room.objects.for_operator(building.operator_id).filter(building=building).order_by("name", "pk"))
    if not rooms:
        raise ValidationError(_("This building has no rooms: there is nothing to set."), code="no_rooms")
    return rooms


def _bulk_set_field(*, user: User, building: Building, field: str, value, dry_run: bool) -> list[Room]:
    """Set one field of every room's setting, leaving the other field of each room as it is
    (docs/product.md §5.2). Returns the rooms whose value differed (those that change)."""
    rooms = _building_rooms(building)
    current = {
        s.room_id: s for s in NotificationSetting.objects.for_operator(building.operator_id).filter(room__in=rooms)
    }
    default = NotificationSetting(notification_type=DEFAULT_NOTIFICATION_TYPE, recipients=[])
    differing = [room for room in rooms if getattr(current.get(room.pk, default), field) != value]
    if dry_run:
        return differing
    now = timezone.now()
    for room in differing:
        setting = current.get(room.pk)
        if setting is None:
            NotificationSetting.objects.create(
                operator_id=building.operator_id, room=room, updated_at=now, updated_by=user, **{field: value}
            )
        else:
            NotificationSetting.objects.filter(pk=setting.pk).update(updated_at=now, updated_by=user, **{field: value})
    return differing


@transaction.atomic
def notification_recipients_bulk_update(
    *, user: User, building: Building, recipients: list[str], dry_run: bool = False
) -> list[Room]:
    """The manual's bulk recipients: every room of `building` gets these addresses; each room keeps its
    notification type. Returns the rooms whose recipients differed. A building without rooms is refused."""
    require_admin(user)
    try:
        recipients = clean_recipients(recipients)
    except ValidationError as exc:
        raise ValidationError({"recipients": exc.messages}) from None
    return _bulk_set_field(user=user, building=building, field="recipients", value=recipients, dry_run=dry_run)


@transaction.atomic
def notification_type_bulk_update(
    *, user: User, building: Building, notification_type: str, dry_run: bool = False
) -> list[Room]:
    """The manual's bulk notification type: every room of `building` gets this type; each room keeps its
    recipients. Returns the rooms whose type differed. A building without rooms is refused."""
    require_admin(user)
    if notification_type not in NotificationType.values:
        raise ValidationError({"notification_type": [_("Choose one of the notification types.")]})
    return _bulk_set_field(
        user=user, building=building, field="notification_type", value=notification_type, dry_run=dry_run
    )


# ----------------------------------------------------------------------------- recording conditions


def condition_is_automatic(*, camera: Device, sensor: Device) -> bool:
    return camera.room_id == sensor.room_id


@transaction.atomic
def condition_add(*, user: User, camera: Device, sensor: Device) -> RecordingCondition:
    """Make `camera` record when `sensor`, in another room, fires. Errors are keyed by field."""
    require_admin(user)
    if camera.kind != DeviceKind.CAMERA:
        raise ValidationError({"camera": [_("Choose a camera.")]})
    if sensor.kind != DeviceKind.SENSOR:
        raise ValidationError({"sensor": [_("Choose a motion sensor.")]})
    # Callers pass objects from the access functions; this is the last line against a mix-up.
    if camera.operator_id != sensor.operator_id or camera.operator_id != user.operator_id:
        raise ValidationError({"sensor": [_("Choose a motion sensor.")]})
    if condition_is_automatic(camera=camera, sensor=sensor):
        raise ValidationError(
            {
                "sensor": [
                    ValidationError(
                        _("Sensors in the camera's own room trigger it automatically; choose another room."),
                        code="condition_taken",  # the API's 409: the sensor already triggers it
                    )
                ]
            }
        )
    if condition_list(operator=camera.operator, camera=camera).filter(sensor=sensor).exists():
        raise ValidationError(
            {"sensor": [ValidationError(_("This sensor already triggers the camera."), code="condition_taken")]}
        )
    try:
        with transaction.atomic():
            return RecordingCondition.objects.create(
                operator_id=camera.operator_id, camera=camera, sensor=sensor, created_by=user
            )
    except IntegrityError:  # added at the same moment by someone else
        raise ValidationError(
            {"sensor": [ValidationError(_("This sensor already triggers the camera."), code="condition_taken")]}
        ) from None


@transaction.atomic
def condition_delete(*, user: User, camera: Device, sensor: Device) -> None:
    """Delete one added condition. The automatic same-room ones cannot be deleted."""
    require_admin(user)
    if condition_is_automatic(camera=camera, sensor=sensor):
        raise ValidationError(_("Automatic recording conditions (sensors in the camera's own room) cannot be deleted."))
    deleted, _rows = condition_list(operator=camera.operator, camera=camera).filter(sensor=sensor).delete()
    if not deleted:
        raise ValidationError(_("This sensor is not a recording condition of the camera."))


@transaction.atomic
def conditions_delete_all(*, user: User, camera: Device) -> int:
    """Delete every added condition of `camera` at once (the manual's "撮影条件削除"); the
    automatic ones stay. Returns how many were deleted."""
    require_admin(user)
    deleted, _rows = condition_list(operator=camera.operator, camera=camera).delete()
    return deleted


# ----------------------------------------------------------------------------- motion detection settings


@transaction.atomic
def motion_settings_update(
    *,
    user: User,
    camera: Device,
    motion_source: str,
    sub_stream_url: str | None = None,
    clear_sub_stream: bool = False,
    record_audio: bool | None = None,
) -> CameraRecording:
    """Where a camera's motion comes from, and its sub-stream for server-side motion (docs/user-guide.md,
    "Server-side motion"). The sub-stream URL passes the outbound-connection policy like the main one; it
    may carry credentials, so it is write-only: None (or blank) keeps the stored one. ``record_audio``
    False records video only (privacy); None keeps the setting. The running recorder follows within one
    tick. Admins only."""
    require_admin(user)
    if camera.kind != DeviceKind.CAMERA or camera.operator_id != user.operator_id:
        raise ValidationError({"motion_source": [_("Choose a camera.")]})
    if motion_source not in MotionSource.values:
        raise ValidationError({"motion_source": [_("Choose where motion comes from.")]})
    if motion_source == MotionSource.ONVIF and not is_onvif(camera):
        raise ValidationError(
            {
                "motion_source": [
                    ValidationError(
                        _(
                            "ONVIF motion events need a camera (or an edge recorder's channel) set up over ONVIF: "
                            "set its stream settings to ONVIF first."
                        ),
                        code="needs_onvif",
                    )
                ]
            }
        )
    row, _created = CameraRecording.objects.select_for_update().get_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id}
    )
    fields = ["motion_source"]
    row.motion_source = motion_source
    if clear_sub_stream:
        row.motion_sub_stream_url = ""
        fields.append("motion_sub_stream_url")
    elif sub_stream_url:
        try:
            row.motion_sub_stream_url = clean_stream_url(sub_stream_url)
        except ValidationError as exc:
            raise ValidationError({"sub_stream_url": exc.messages}) from None
        fields.append("motion_sub_stream_url")
    if record_audio is not None:
        row.record_audio = bool(record_audio)
        fields.append("record_audio")
    row.save(update_fields=fields)
    return row


# ----------------------------------------------------------------------------- per-camera recording settings

MAX_EXPORT_MINUTES = 24 * 60


def quota_cut(*, camera: Device, quota_bytes: int) -> tuple[int, int, object, object]:
    """What a quota of `quota_bytes` deletes at once: (files, bytes, oldest start, newest start)."""
    from workers.retention import StoredSegment, segments_over_quota

    from .models import RecordingSegment

    rows = RecordingSegment.objects.filter(camera=camera).only("pk", "start", "size", "duration")
    decision = segments_over_quota(
        [StoredSegment(key=r.pk, start=r.start, size=r.size, duration=r.duration) for r in rows],
        quota_bytes=quota_bytes,
    )
    doomed = decision.delete
    if not doomed:
        return 0, 0, None, None
    return len(doomed), sum(s.size for s in doomed), doomed[0].start, doomed[-1].start


@transaction.atomic
def recording_settings_update(
    *,
    user: User,
    camera: Device,
    quota_bytes: int | None,
    export_max_minutes: int | None,
    confirm_deletion: bool = False,
) -> CameraRecording:
    """The owner's per-camera settings: the continuous-recording quota and the export-length limit
    (docs/product.md §3.3, §4.2: a receiver of a shared camera sets neither). None keeps the default.
    A quota below what is stored now deletes the oldest files: refused with what would go, unless
    `confirm_deletion`. Nothing is saved on any error."""
    require_admin(user)
    if camera.kind != DeviceKind.CAMERA or camera.operator_id != user.operator_id:
        raise ValidationError(_("Only the camera's owner changes its recording settings."))
    errors: dict[str, list[str]] = {}
    if export_max_minutes is not None and not 1 <= export_max_minutes <= MAX_EXPORT_MINUTES:
        errors["export_max_minutes"] = [_("Choose an export-length limit from 1 minute to 24 hours (1440 minutes).")]
    if quota_bytes is not None and quota_bytes <= 0:
        errors["quota_gb"] = [_("Choose a quota above 0 GB, or leave it empty for the default.")]
    elif quota_bytes is not None and not confirm_deletion:
        files, size, oldest, newest = quota_cut(camera=camera, quota_bytes=quota_bytes)
        if files:
            errors["quota_gb"] = [
                _(
                    "This quota is below what is stored now: the oldest %(files)d recording files "
                    "(%(gb).2f GB, from %(oldest)s to %(newest)s) would be deleted at once. Tick the "
                    "confirmation to delete them, or choose a larger quota."
                )
                % {
                    "files": files,
                    "gb": size / 10**9,
                    "oldest": timezone.localtime(oldest).strftime("%Y-%m-%d %H:%M"),
                    "newest": timezone.localtime(newest).strftime("%Y-%m-%d %H:%M"),
                }
            ]
    if errors:
        raise ValidationError(errors, code="invalid")
    row, _created = CameraRecording.objects.select_for_update().get_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id}
    )
    row.quota_bytes = quota_bytes
    row.export_max_minutes = export_max_minutes
    row.save(update_fields=["quota_bytes", "export_max_minutes"])
    if quota_bytes is not None:
        from .media_services import quota_enforce

        quota_enforce(camera=camera)
    return row
