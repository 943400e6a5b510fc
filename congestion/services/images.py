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


# Markers that start a frame and carry its size (ITU T.81 B.1.1.3); C4 DHT, C8 JPG and CC DAC do not.
SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
# Markers with no length field: TEM, RST0-7 (SOI is consumed before the loop).
STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})


def jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) as the JPEG's frame header declares them, read without decoding anything;
    None when there is no such header before the image data (not a JPEG, truncated, or a height
    left to a DNL marker, which no camera or editor writes)."""
    if not data.startswith(b"\xff\xd8"):
        return None
    at, end = 2, len(data)
    while at + 4 <= end:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker in STANDALONE_MARKERS:
            at += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data: no frame header came first
            return None
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if length < 2:
            return None
        if marker in SOF_MARKERS:
            if length < 8 or at + 9 > end:
                return None
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return (width, height) if width and height else None
        at += 2 + length
    return None


def _too_big(max_bytes: int) -> ValidationError:
    return ValidationError(
        _("The image is larger than %(mb)s MB.") % {"mb": f"{max_bytes / 1024 / 1024:g}"}, code="too_big"
    )


def check_jpeg_header(data: bytes, *, max_size=ALERT_IMAGE_MAX, max_bytes=ALERT_IMAGE_MAX_BYTES) -> tuple[int, int]:
    """The declared (width, height), or ValidationError, from the bytes and the header alone: a
    631-byte file can declare 12000×12000 pixels, and decoding it first would allocate 400 MB+."""
    if len(data) > max_bytes:
        raise _too_big(max_bytes)
    if not data.startswith(b"\xff\xd8\xff"):
        raise ValidationError(_("Only JPEG images can be used."), code="not_jpeg")
    size = jpeg_dimensions(data)
    if size is None:
        raise ValidationError(_("The file is not a readable JPEG image."), code="not_jpeg")
    _check_size(size, max_size)
    return size


def _check_size(size: tuple[int, int], max_size: tuple[int, int]) -> None:
    width, height = size
    if width > max_size[0] or height > max_size[1]:
        raise ValidationError(
            _("The image is %(w)d×%(h)d pixels; at most %(mw)d×%(mh)d pixels are allowed.")
            % {"w": width, "h": height, "mw": max_size[0], "mh": max_size[1]},
            code="too_large",
        )


def jpeg_upload_read(upload, *, max_size=ALERT_IMAGE_MAX, max_bytes=ALERT_IMAGE_MAX_BYTES) -> bytes:
    """The bytes of an uploaded JPEG, checked as far as possible without decoding: its size before it
    is read (and never more than `max_bytes` + 1 read), then its header. Every upload form uses it."""
    if (getattr(upload, "size", None) or 0) > max_bytes:
        raise _too_big(max_bytes)
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    check_jpeg_header(data, max_size=max_size, max_bytes=max_bytes)
    return data


def validate_jpeg(data: bytes, *, max_size=ALERT_IMAGE_MAX, max_bytes=ALERT_IMAGE_MAX_BYTES) -> np.ndarray:
    """The decoded image, or ValidationError: JPEG only, at most `max_size` pixels and `max_bytes`.
    The header is checked before anything is decoded."""
    declared = check_jpeg_header(data, max_size=max_size, max_bytes=max_bytes)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValidationError(_("The file is not a readable JPEG image."), code="not_jpeg")
    height, width = image.shape[:2]
    if (width, height) != declared:  # the decoder read another frame than the header said: refuse it
        _check_size((width, height), max_size)
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
