"""One analysis of one camera for one minute: claim, grab, detect, render, store, alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from devices.models import Device
from workers.frames import SnapshotError
from workers.people.analyse import analyse_frame
from workers.people.detector import Detector, detector_for_mode
from workers.people.render import FrameError, choose_background, decode_jpeg, jpeg_size

from .. import rules, selectors
from ..models import (
    Analysis,
    BackgroundPattern,
    CongestionCamera,
    MonitoringFrame,
    PublicImage,
    Trouble,
)
from .alerts import alerts_after_analysis
from .cameras import grab_frame
from .images import (
    _delete_later,
    log,
    read_image,
)

# ----------------------------------------------------------------------------- analysis


DEFAULT_BACKGROUND_MAX = (1920, 1280)  # a public image is never larger (docs/product.md §6.1)


def default_background(size: tuple[int, int]) -> np.ndarray:
    """A plain background for a camera with none registered yet: never anything of the frame.

    The frame's shape, scaled down to fit 1920×1280, so an outsize camera picture does not make an
    outsize public image."""
    width, height = size
    shrink = min(1.0, DEFAULT_BACKGROUND_MAX[0] / width, DEFAULT_BACKGROUND_MAX[1] / height)
    width, height = max(1, round(width * shrink)), max(1, round(height * shrink))
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
    gone / disabled / blocked / closed / duplicate / no_answer / bad_frame / done."""
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

    grab_ms = (timezone.now() - grab_started).total_seconds() * 1000  # the camera answering
    try:
        background = _background(cc, captured_at)
        if background is None:
            background = default_background(jpeg_size(frame_jpeg))
        detector = detector or detector_for_mode(cc.mode)
        # The JPEG itself goes in, so it is decoded no larger than the detector needs (analyse.py).
        result = analyse_frame(frame_jpeg, detector, background, cc.mode, cc.effective_level)
    except FrameError as exc:
        # One camera's bad picture is that camera's trouble; the worker goes on with the next one.
        log.info("congestion camera %s sent a picture that cannot be analysed: %s", cc.pk, exc)
        Analysis.objects.filter(pk=claim.pk).update(status=Analysis.Status.BAD_FRAME, analysed_at=now())
        if cc.trouble != Trouble.BAD_FRAME:
            CongestionCamera.objects.filter(pk=cc.pk).update(trouble=Trouble.BAD_FRAME, trouble_since=captured_at)
        return "bad_frame"
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
