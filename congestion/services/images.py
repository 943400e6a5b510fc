"""Image files of congestion: JPEG validation, storage names, reading back."""

from __future__ import annotations

import logging
from datetime import timedelta

import cv2
import numpy as np
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

log = logging.getLogger("congestion.services")

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
