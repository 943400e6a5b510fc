"""Writes of congestion visualization: cameras, images, groups, alerts, hours, analysis, prediction, CSV.

Each write checks everything before saving anything (bad input leaves no half-saved state); files
are written to storage only after validation and removed again when the transaction rolls back.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

import cv2
import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device
from tenants.access import require_admin
from tenants.models import Operator, User
from workers.frames import SnapshotError, grab_snapshot
from workers.people.analyse import analyse_frame
from workers.people.detector import Detector, detector_for_mode
from workers.people.render import blur_background, choose_background, decode_jpeg, encode_jpeg

from . import rules, selectors
from .models import (
    LEVELS,
    MAX_ALERT_RECIPIENTS,
    MAX_GROUP_CAMERAS,
    MAX_GROUPS,
    AlertMail,
    AlertSetting,
    AlertState,
    Analysis,
    BackgroundPattern,
    CongestionCamera,
    Group,
    HoursRule,
    Mode,
    MonitoringFrame,
    Prediction,
    PublicImage,
    Trouble,
)

log = logging.getLogger(__name__)

ALERT_IMAGE_MAX = (1920, 1280)
ALERT_IMAGE_MAX_BYTES = 1024 * 1024
BACKGROUND_MAX = (3840, 2160)
BACKGROUND_MAX_BYTES = 5 * 1024 * 1024
MONITORING_KEEP = timedelta(hours=24)
ANALYSIS_KEEP_DAYS = 366  # 12 months
TEMPLATE = "template"


# ----------------------------------------------------------------------------- images


def validate_jpeg(data: bytes, *, max_size=ALERT_IMAGE_MAX, max_bytes=ALERT_IMAGE_MAX_BYTES) -> np.ndarray:
    """The decoded image, or ValidationError: JPEG only, at most `max_size` pixels and `max_bytes`."""
    if len(data) > max_bytes:
        raise ValidationError(
            _("The image is larger than %(mb)s MB.") % {"mb": f"{max_bytes / 1024 / 1024:g}"}, code="too_big"
        )
    if not data.startswith(b"\xff\xd8\xff"):
        raise ValidationError(_("Only JPEG images can be used."), code="not_jpeg")
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValidationError(_("The file is not a readable JPEG image."), code="not_jpeg")
    height, width = image.shape[:2]
    if width > max_size[0] or height > max_size[1]:
        raise ValidationError(
            _("The image is %(w)d×%(h)d pixels; at most %(mw)d×%(mh)d pixels are allowed.")
            % {"w": width, "h": height, "mw": max_size[0], "mh": max_size[1]},
            code="too_large",
        )
    return image


def _store(prefix: str, data: bytes) -> str:
    # Called only after validation, so a failed save leaves no file behind in practice.
    return default_storage.save(f"congestion/{prefix}-{timezone.now():%Y%m%d%H%M%S}.jpg", ContentFile(data))


def _delete_later(name: str) -> None:
    if name and name != TEMPLATE:
        transaction.on_commit(lambda: default_storage.delete(name))


def read_image(name: str) -> bytes | None:
    if not name or name == TEMPLATE:
        return None
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


# ----------------------------------------------------------------------------- cameras


@transaction.atomic
def camera_add(*, user: User, operator: Operator, camera: Device) -> CongestionCamera:
    """Register an own camera. Allowed beyond the option count (the manual's case), but then analysis
    stops for every camera of the operator until one is removed; the pages say so."""
    require_admin(user)
    if camera.operator_id != operator.pk:  # only the camera's owner may enable congestion
        raise ValidationError(_("Only the camera's owner can add it to congestion visualization."))
    if selectors.option_licenses(operator=operator) < 1:
        raise ValidationError(_("This account holds no congestion visualization option license."))
    if CongestionCamera.objects.filter(camera=camera).exists():
        raise ValidationError(_("This camera is already registered."))
    return CongestionCamera.objects.create(operator=operator, camera=camera, display_name=camera.name[:64])


@transaction.atomic
def camera_remove(*, user: User, congestion_camera: CongestionCamera) -> None:
    require_admin(user)
    if Group.objects.filter(default_camera=congestion_camera).exists():
        raise ValidationError(
            _("This camera is the default camera of a group. Choose another default camera for the group first.")
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
    level: int,
    background_pattern: str,
    enabled: bool,
) -> CongestionCamera:
    require_admin(user)
    errors = {}
    display_name = display_name.strip()
    if not display_name or len(display_name) > 64:
        errors["display_name"] = [_("Enter a camera name of 1 to 64 characters.")]
    if mode not in Mode.values:
        errors["mode"] = [_("Choose an AI mode.")]
    if level not in LEVELS:
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


# ----------------------------------------------------------------------------- groups


def _check_group(operator: Operator, name: str, cameras: list[CongestionCamera], default: CongestionCamera | None):
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name or len(name) > 64:
        errors["name"] = [_("Enter a group name of 1 to 64 characters.")]
    if not cameras:
        errors["cameras"] = [_("Choose at least one camera.")]
    elif len(cameras) > MAX_GROUP_CAMERAS:
        errors["cameras"] = [_("A group holds at most %(max)d cameras.") % {"max": MAX_GROUP_CAMERAS}]
    if any(c.operator_id != operator.pk for c in cameras):
        errors["cameras"] = [_("Choose cameras of this account.")]
    if default is None or default not in cameras:
        errors["default_camera"] = [_("Choose the default camera among the group's cameras.")]
    if errors:
        raise ValidationError(errors)
    return name


@transaction.atomic
def group_create(
    *, user: User, operator: Operator, name: str, cameras: list[CongestionCamera], default_camera: CongestionCamera
) -> Group:
    require_admin(user)
    name = _check_group(operator, name, cameras, default_camera)
    # Lock the operator's groups so two admins cannot both create the 101st.
    existing = list(Group.objects.for_operator(operator).select_for_update().values_list("pk", flat=True))
    if len(existing) >= MAX_GROUPS:
        raise ValidationError(_("An account can have at most %(max)d groups.") % {"max": MAX_GROUPS})
    group = Group.objects.create(operator=operator, name=name, default_camera=default_camera)
    group.cameras.set(cameras)
    return group


@transaction.atomic
def group_update(
    *, user: User, group: Group, name: str, cameras: list[CongestionCamera], default_camera: CongestionCamera
) -> Group:
    require_admin(user)
    group.name = _check_group(group.operator, name, cameras, default_camera)
    group.default_camera = default_camera
    group.save()
    group.cameras.set(cameras)
    return group


@transaction.atomic
def group_delete(*, user: User, group: Group) -> None:
    require_admin(user)
    alert = AlertSetting.objects.filter(group=group).first()
    for name in alert.images if alert else []:
        _delete_later(name)
    group.delete()


# ----------------------------------------------------------------------------- alerts


def clean_recipients(raw: list[str]) -> list[str]:
    seen: list[str] = []
    for address in (a.strip().lower() for a in raw):
        if address and address not in seen:
            seen.append(address)
    bad = []
    for address in seen:
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ValidationError(_("Not a valid mail address: %(list)s") % {"list": ", ".join(bad)})
    if len(seen) > MAX_ALERT_RECIPIENTS:
        raise ValidationError(_("Alert mail goes to at most %(max)d addresses.") % {"max": MAX_ALERT_RECIPIENTS})
    return seen


@transaction.atomic
def alert_update(
    *,
    user: User,
    congestion_camera: CongestionCamera | None = None,
    group: Group | None = None,
    steps: int,
    thresholds: list[int | None],
    image_enabled: bool,
    images: list[str | bytes | None],
    mail_enabled: bool,
    recipients: list[str],
) -> AlertSetting:
    """Save a camera's or group's alert. `images[i]` for step i+1: None keeps the current one, "" removes
    it, "template" uses the built-in image, bytes upload a new JPEG (≤1920×1280, ≤1 MB)."""
    require_admin(user)
    owner = congestion_camera or group
    assert owner is not None and (congestion_camera is None) != (group is None)
    errors: dict[str, list[str]] = {}
    threshold_errors = rules.threshold_errors(steps, thresholds[: max(steps - 1, 0)])
    if threshold_errors:
        errors["thresholds"] = threshold_errors
    try:
        recipients = clean_recipients(recipients)
    except ValidationError as exc:
        errors["recipients"] = exc.messages
    if mail_enabled and not recipients and "recipients" not in errors:
        errors["recipients"] = [_("Enter at least one mail address, or turn alert mail off.")]
    uploads: dict[int, bytes] = {}
    for index, image in enumerate(images[:steps]):
        if isinstance(image, bytes):
            try:
                validate_jpeg(image)
            except ValidationError as exc:
                errors.setdefault("images", []).extend(
                    [_("Step %(n)d image: %(error)s") % {"n": index + 1, "error": m} for m in exc.messages]
                )
            uploads[index] = image
    if errors:
        raise ValidationError(errors)

    setting = selectors.alert_setting_for(congestion_camera=congestion_camera, group=group)
    if setting is None:
        setting = AlertSetting(operator_id=owner.operator_id, congestion_camera=congestion_camera, group=group)
    current = list(setting.images) + [""] * 3
    new_images = []
    for index in range(3):
        image = images[index] if index < len(images) else None
        if index >= steps:
            image = ""
        if image is None:
            new_images.append(current[index])
            continue
        if current[index] and current[index] != TEMPLATE:
            _delete_later(current[index])
        if isinstance(image, bytes):
            new_images.append(_store(f"{owner.operator_id}/alert-{type(owner).__name__.lower()}-{owner.pk}", image))
        else:
            new_images.append(TEMPLATE if image == TEMPLATE else "")
    setting.steps = steps
    setting.thresholds = [int(t) for t in thresholds[: steps - 1]]  # type: ignore[arg-type]
    setting.image_enabled = image_enabled
    setting.images = new_images[:steps]
    setting.mail_enabled = mail_enabled
    setting.recipients = recipients
    setting.updated_at = timezone.now()
    setting.save()
    return setting


def _alert_evaluate(*, operator_id: int, setting: AlertSetting | None, name: str, count: int, **owner) -> bool:
    """Move the camera's / group's step; on an upward crossing queue ONE mail. True when one was queued.

    The mail is a row written in the same transaction as the step change and handed to the
    `congestion.send_alert_mail` task only after commit, so a rolled-back analysis mails nobody and a
    slow or failing SMTP server never holds up the analysis (the task retries with backoff)."""
    if setting is None:
        return False
    state, _created = AlertState.objects.get_or_create(operator_id=operator_id, **owner)
    result = rules.crossing(state.step, count, setting.thresholds)
    if result.new_step == state.step:
        return False
    with transaction.atomic():
        # The conditional update is the claim: of two workers seeing the same crossing, one mails.
        claimed = AlertState.objects.filter(pk=state.pk, step=state.step).update(
            step=result.new_step, changed_at=timezone.now()
        )
        if not (claimed and result.mail and setting.mail_enabled and setting.recipients):
            return False
        subject, body = rules.alert_mail(name, result.threshold or 0)
        mail = AlertMail.objects.create(
            operator_id=operator_id, subject=subject, body=body, recipients=list(setting.recipients), **owner
        )
        transaction.on_commit(lambda: _queue_alert_mail(mail.pk))
    return True


def _queue_alert_mail(alert_mail_id: int) -> None:
    from .tasks import send_alert_mail  # tasks import this module

    try:
        send_alert_mail.delay(alert_mail_id)
    except Exception:  # the broker is down: the row stays pending and `resend_pending_alert_mails` picks it up
        log.exception("could not queue congestion alert mail %s", alert_mail_id)


ALERT_MAIL_CLAIM_TIMEOUT = timedelta(minutes=10)  # a worker that died while sending gives its claim back


def alert_mail_send(*, alert_mail_id: int, now: datetime | None = None) -> bool:
    """Send one queued alert mail if this call claims it; True when it was sent by this call.

    The claim (pending → sending, or a sending claim older than ALERT_MAIL_CLAIM_TIMEOUT) is a
    conditional update, so two deliveries of the task never both send. A failed send gives the
    claim back (pending) and re-raises, for the task to retry."""
    now = now or timezone.now()
    claimable = AlertMail.objects.filter(pk=alert_mail_id).filter(
        models.Q(status=AlertMail.Status.PENDING)
        | models.Q(status=AlertMail.Status.SENDING, claimed_at__lt=now - ALERT_MAIL_CLAIM_TIMEOUT)
    )
    if not claimable.update(status=AlertMail.Status.SENDING, claimed_at=now, attempts=models.F("attempts") + 1):
        return False
    mail = AlertMail.objects.get(pk=alert_mail_id)
    try:
        send_mail(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, mail.recipients)
    except OSError:
        AlertMail.objects.filter(pk=alert_mail_id).update(status=AlertMail.Status.PENDING, claimed_at=None)
        raise
    AlertMail.objects.filter(pk=alert_mail_id).update(status=AlertMail.Status.SENT, sent_at=timezone.now())
    return True


def pending_alert_mail_ids() -> list[int]:
    """Mails left pending (broker down at commit, retries exhausted): for the periodic resend."""
    return list(AlertMail.objects.filter(status=AlertMail.Status.PENDING).values_list("pk", flat=True))


def alerts_after_analysis(*, congestion_camera: CongestionCamera, count: int, at: datetime | None = None) -> int:
    """Evaluate the camera's alert and those of its groups; returns how many mails were queued.

    A group's count leaves out stale counts (selectors.group_count): cameras outside their business
    hours or not answering for longer than CONGESTION_STALE_MINUTES at `at`."""
    mails = int(
        _alert_evaluate(
            operator_id=congestion_camera.operator_id,
            setting=selectors.alert_setting_for(congestion_camera=congestion_camera),
            name=congestion_camera.display_name,
            count=count,
            congestion_camera=congestion_camera,
        )
    )
    for group in selectors.groups_of_camera(congestion_camera=congestion_camera):
        mails += _alert_evaluate(
            operator_id=group.operator_id,
            setting=selectors.alert_setting_for(group=group),
            name=group.name,
            count=selectors.group_count(group=group, at=at),
            group=group,
        )
    return mails


# ----------------------------------------------------------------------------- business hours


def _line(rule: HoursRule) -> rules.HoursLine:
    return rules.HoursLine(
        kind=rule.kind,
        start=rule.start,
        end=rule.end,
        weekdays=tuple(rule.weekdays),
        holiday=rule.holiday,
        repeat=rule.repeat,
        date=rule.date,
        nth=rule.nth,
        weekday=rule.weekday,
    )


@transaction.atomic
def hours_rule_add(
    *,
    user: User,
    congestion_camera: CongestionCamera,
    kind: str,
    weekdays: list[int] | None = None,
    holiday: bool = False,
    start: time | None = None,
    end: time | None = None,
    repeat: str = "",
    date: date | None = None,
    nth: int | None = None,
    weekday: int | None = None,
) -> HoursRule:
    require_admin(user)
    weekdays = sorted({int(d) for d in weekdays or [] if 0 <= int(d) <= 6})
    errors: list[str] = []
    if kind not in HoursRule.Kind.values:
        raise ValidationError(_("Choose the kind of line."))
    if kind == HoursRule.Kind.CLOSED:
        start = end = None
    else:
        problem = rules.span_error(start, end)
        if problem:
            errors.append(problem)
    if kind == HoursRule.Kind.BASE:
        repeat, date, nth, weekday = "", None, None, None
        if not weekdays and not holiday:
            errors.append(_("Choose at least one weekday or public holidays."))
    else:
        weekdays, holiday = [], False
        if repeat not in HoursRule.Repeat.values:
            errors.append(_("Choose how the day repeats."))
        elif repeat == HoursRule.Repeat.NTH_WEEKDAY:
            date = None
            if nth not in (1, 2, 3, 4, 5) or weekday not in range(7):
                errors.append(_("Choose the week (1st to 5th) and the weekday."))
        else:
            nth = weekday = None
            if date is None:
                errors.append(_("Choose the date."))
    if errors:
        raise ValidationError(errors)
    new = rules.HoursLine(kind, start, end, tuple(weekdays), holiday, repeat, date, nth, weekday)
    existing = [_line(r) for r in HoursRule.objects.select_for_update().filter(congestion_camera=congestion_camera)]
    clash = rules.overlapping(new, existing)
    if clash is not None:
        raise ValidationError(
            _("These hours overlap hours already set (%(start)s–%(end)s). Change or delete those first.")
            % {"start": clash.start.strftime("%H:%M"), "end": clash.end.strftime("%H:%M")}  # type: ignore[union-attr]
        )
    return HoursRule.objects.create(
        operator_id=congestion_camera.operator_id,
        congestion_camera=congestion_camera,
        kind=kind,
        weekdays=weekdays,
        holiday=holiday,
        start=start,
        end=end,
        repeat=repeat,
        date=date,
        nth=nth,
        weekday=weekday,
    )


@transaction.atomic
def hours_rule_delete(*, user: User, rule: HoursRule) -> None:
    require_admin(user)
    rule.delete()


@transaction.atomic
def hours_enabled_set(*, user: User, congestion_camera: CongestionCamera, enabled: bool) -> None:
    require_admin(user)
    congestion_camera.hours_enabled = enabled
    congestion_camera.save(update_fields=["hours_enabled"])


# ----------------------------------------------------------------------------- analysis


def default_background(size: tuple[int, int]) -> np.ndarray:
    """A plain background for a camera with none registered yet: never anything of the frame."""
    width, height = size
    canvas = np.full((height, width, 3), 222, dtype=np.uint8)
    return canvas


def _background(cc: CongestionCamera, now: datetime) -> np.ndarray | None:
    day = read_image(cc.background_day)
    night = read_image(cc.background_night) if cc.background_pattern == BackgroundPattern.DAY_NIGHT else None
    if day is None:
        return None
    night_img = decode_jpeg(night) if night else None
    return choose_background(timezone.localtime(now), decode_jpeg(day), night_img)


def analysis_run(
    *,
    congestion_camera_id: int,
    minute: datetime,
    grab: Callable[[Device], bytes] = grab_frame,
    detector: Detector | None = None,
    now: Callable[[], datetime] = timezone.now,
) -> str:
    """Analyse one camera for one minute; returns what happened:
    gone / disabled / blocked / closed / duplicate / no_answer / done."""
    cc = selectors.congestion_camera_for_task(congestion_camera_id=congestion_camera_id)
    if cc is None:
        return "gone"
    if not cc.enabled:
        return "disabled"
    if selectors.license_block(operator=cc.operator) is not None:
        return "blocked"
    if not selectors.is_open_now(congestion_camera=cc, at=minute):
        return "closed"
    minute = rules.minute_of(minute)
    try:
        with transaction.atomic():
            claim = Analysis.objects.create(operator_id=cc.operator_id, congestion_camera=cc, minute=minute)
    except IntegrityError:
        return "duplicate"

    captured_at = now()
    grab_started = timezone.now()
    try:
        frame_jpeg = grab(cc.camera)
    except (SnapshotError, OSError) as exc:
        log.info("congestion camera %s did not answer: %s", cc.pk, exc)
        Analysis.objects.filter(pk=claim.pk).update(status=Analysis.Status.NO_ANSWER, analysed_at=now())
        if cc.trouble != Trouble.NO_ANSWER:
            CongestionCamera.objects.filter(pk=cc.pk).update(trouble=Trouble.NO_ANSWER, trouble_since=captured_at)
        return "no_answer"

    frame = decode_jpeg(frame_jpeg)
    grab_ms = (timezone.now() - grab_started).total_seconds() * 1000  # the camera answering + decoding
    background = _background(cc, captured_at)
    if background is None:
        background = default_background((frame.shape[1], frame.shape[0]))
    detector = detector or detector_for_mode(cc.mode)
    result = analyse_frame(frame, detector, background, cc.mode, cc.level)
    store_started = timezone.now()
    analysis_store(cc=cc, claim=claim, result=result, frame_jpeg=frame_jpeg, captured_at=captured_at, now=now)
    store_ms = (timezone.now() - store_started).total_seconds() * 1000
    Analysis.objects.filter(pk=claim.pk).update(
        timings={
            "grab_ms": round(grab_ms + result.timings.grab_ms, 2),
            "detect_ms": round(result.timings.detect_ms, 2),
            "render_ms": round(result.timings.render_ms, 2),
            "store_ms": round(store_ms, 2),
        }
    )
    alerts_after_analysis(congestion_camera=cc, count=result.count, at=captured_at)
    return "done"


@transaction.atomic
def analysis_store(*, cc: CongestionCamera, claim: Analysis, result, frame_jpeg: bytes, captured_at, now) -> None:
    analysed_at = now()
    prefix = f"{cc.operator_id}/{cc.pk}"
    public_name = default_storage.save(
        f"congestion/{prefix}/public-{captured_at:%Y%m%d%H%M%S}.jpg", ContentFile(result.image_jpeg)
    )
    old = PublicImage.objects.select_for_update().filter(congestion_camera=cc).first()
    if old is None:
        PublicImage.objects.create(
            operator_id=cc.operator_id,
            congestion_camera=cc,
            image=public_name,
            count=result.count,
            captured_at=captured_at,
            analysed_at=analysed_at,
        )
    else:
        _delete_later(old.image)
        old.image, old.count, old.captured_at, old.analysed_at = public_name, result.count, captured_at, analysed_at
        old.save()
    raw_name = default_storage.save(f"congestion/{prefix}/raw-{captured_at:%Y%m%d%H%M%S}.jpg", ContentFile(frame_jpeg))
    MonitoringFrame.objects.create(
        operator_id=cc.operator_id, congestion_camera=cc, image=raw_name, captured_at=captured_at
    )
    Analysis.objects.filter(pk=claim.pk).update(
        status=Analysis.Status.DONE, captured_at=captured_at, analysed_at=analysed_at, count=result.count
    )
    if cc.trouble:
        CongestionCamera.objects.filter(pk=cc.pk).update(trouble=Trouble.NONE, trouble_since=None)


# ----------------------------------------------------------------------------- prediction


@transaction.atomic
def prediction_recompute(*, congestion_camera: CongestionCamera, now: datetime | None = None) -> rules.PredictionResult:
    now = now or timezone.now()
    result = selectors.prediction_aggregate(
        congestion_camera=congestion_camera, start=now - timedelta(days=ANALYSIS_KEEP_DAYS), end=now
    )
    Prediction.objects.filter(congestion_camera=congestion_camera).delete()
    if result.enough_data:
        Prediction.objects.bulk_create(
            Prediction(
                operator_id=congestion_camera.operator_id,
                congestion_camera=congestion_camera,
                weekday=weekday,
                slot=slot,
                average=round(avg, 3),
            )
            for (weekday, slot), avg in result.averages.items()
        )
    CongestionCamera.objects.filter(pk=congestion_camera.pk).update(
        prediction_computed_at=now, prediction_days=result.days
    )
    congestion_camera.prediction_computed_at, congestion_camera.prediction_days = now, result.days
    return result


# ----------------------------------------------------------------------------- CSV


def _safe_filename(name: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", rules.strip_formula(name)).strip("_") or "camera"


def camera_month_csv(*, congestion_camera: CongestionCamera, year: int, month: int, today: date) -> bytes:
    span = rules.csv_month_range(year, month, today)
    rows: list[rules.CsvRow] = []
    if span is not None:
        start, _end = selectors.day_range(span[0])
        _start, end = selectors.day_range(span[1])
        company = congestion_camera.operator.name
        # The camera identifier (seed 003 §2-10 ④) is the camera's ID as the camera pages and the public
        # API show it: the device id. It stays the same when the camera is exchanged (new MAC) or removed
        # and re-added to congestion (new embed key, which is a public-URL secret and must not leak here).
        identifier = str(congestion_camera.camera_id)
        for moment, count in selectors.samples_for(congestion_camera=congestion_camera, start=start, end=end):
            rows.append(rules.CsvRow(congestion_camera.display_name, company, moment, identifier, count))
    return rules.csv_bytes(rows)


def csv_zip(*, congestion_cameras: list[CongestionCamera], year: int, month: int, today: date) -> bytes:
    """One CSV per camera for the month, in one ZIP."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for cc in congestion_cameras:
            name = f"{_safe_filename(cc.display_name)}_{year:04d}{month:02d}.csv"
            if name in used:
                name = f"{_safe_filename(cc.display_name)}_{cc.pk}_{year:04d}{month:02d}.csv"
            used.add(name)
            archive.writestr(name, camera_month_csv(congestion_camera=cc, year=year, month=month, today=today))
    return buffer.getvalue()


# ----------------------------------------------------------------------------- retention


def purge_monitoring(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - MONITORING_KEEP
    old = MonitoringFrame.objects.filter(captured_at__lt=cutoff)
    names = list(old.values_list("image", flat=True))
    count, _ = old.delete()
    for name in names:
        default_storage.delete(name)
    return count


def purge_analyses(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=ANALYSIS_KEEP_DAYS)
    count, _ = Analysis.objects.filter(minute__lt=cutoff).delete()
    return count
