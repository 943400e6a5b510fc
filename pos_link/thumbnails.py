"""The camera image at a transaction's moment, cut from the continuous recording.

Each transaction gets one JPEG, made once (a Celery task queued when the row is first stored, or
lazily by the thumbnail view) from the recording segment covering its time, and kept in the default
storage with its name on the row. While the minute is still being recorded no segment covers the
time yet and the task tries again later; when none ever will (no recording then, or gone), the row
says so and the pages keep the placeholder. An expired camera license hides the image (docs/product.md §7.8:
no remote media), whatever is stored.
"""

from __future__ import annotations

import logging
import subprocess
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from devices.models import Device
from recording import conf as recording_conf
from recording.media_selectors import camera_list_with_media_state, media_blocked_reason, segment_list
from recording.media_services import local_copies, storage_delete
from recording.models import RecordingSegment

from .models import PosTransaction, ThumbnailState

log = logging.getLogger(__name__)

WIDTH = 320
FFMPEG_TIMEOUT = 30.0
# Outcomes of `transaction_thumbnail_make`.
READY, WAIT, NONE, BLOCKED = "ready", "wait", "none", "blocked"


def retry_seconds() -> int:
    """How long to wait before looking again for the segment of a moment still being recorded."""
    return max(5, recording_conf.segment_seconds())


def wait_limit() -> timedelta:
    """How long after a moment its segment may still appear: the segment being written, the next
    one and a storage upload. Past this, no recording of that moment will come."""
    return timedelta(seconds=recording_conf.segment_seconds() * 3 + 120)


def covering_segment(camera: Device, at: datetime) -> RecordingSegment | None:
    """The stored continuous segment of `camera` whose [start, end) holds `at`, or None."""
    rows = segment_list(camera=camera, start=at, end=at + timedelta(microseconds=1)).order_by("-start")
    return next((row for row in rows if row.start <= at < row.end), None)


def extract_frame(path: str, offset: float) -> bytes:
    """One frame of the video at `offset` seconds, scaled to WIDTH px wide, as JPEG bytes.

    Input seeking (-ss before -i) decodes from the keyframe before `offset` and drops frames up to
    it, so the frame is the right moment at the cost of at most one GOP of decoding.
    """
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file"]
    cmd += ["-ss", f"{max(0.0, offset):.3f}", "-i", path]
    cmd += ["-frames:v", "1", "-vf", f"scale={WIDTH}:-2", "-q:v", "4", "-f", "image2", "-c:v", "mjpeg", "pipe:1"]
    result = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT, check=False)  # noqa: S603
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        raise OSError(result.stderr.decode("utf-8", "replace").strip() or "ffmpeg made no frame")
    return result.stdout


def storage_name_for(tx: PosTransaction) -> str:
    return f"pos/{tx.operator_id}/{tx.camera_id}/{tx.pk}.jpg"


def transaction_thumbnail_make(*, tx: PosTransaction, now: datetime | None = None) -> str:
    """Cut and store the transaction's thumbnail if it has none yet. Returns READY (stored now or
    before), WAIT (its minute is not recorded yet: try again), NONE (no recording will cover it) or
    BLOCKED (the camera's license has expired: nothing is cut)."""
    if tx.thumbnail_state == ThumbnailState.READY and tx.thumbnail:
        return READY
    camera = tx.camera
    if media_blocked_reason(camera):
        return BLOCKED
    now = now or timezone.now()
    segment = covering_segment(camera, tx.occurred_at)
    if segment is None:
        if now - tx.occurred_at < wait_limit():
            return WAIT
        _set_state(tx, state=ThumbnailState.NONE, name="")
        return NONE
    offset = (tx.occurred_at - segment.start).total_seconds()
    try:
        with local_copies([segment.storage_name]) as [path]:
            jpeg = extract_frame(str(path), offset)
    except (OSError, subprocess.TimeoutExpired) as exc:
        # The segment was deleted by retention meanwhile, or is unreadable: nothing better will come.
        log.warning("POS thumbnail of transaction %s failed: %s", tx.pk, exc)
        _set_state(tx, state=ThumbnailState.NONE, name="")
        return NONE
    name = storage_name_for(tx)
    storage_delete(name)
    stored = default_storage.save(name, ContentFile(jpeg))
    _set_state(tx, state=ThumbnailState.READY, name=stored)
    return READY


def _set_state(tx: PosTransaction, *, state: str, name: str) -> None:
    PosTransaction.objects.filter(pk=tx.pk).update(thumbnail_state=state, thumbnail=name)
    tx.thumbnail_state, tx.thumbnail = state, name


def thumbnail_for(tx: PosTransaction, *, blocked: bool | None = None) -> str | None:
    """URL of the transaction's camera image, or None for the placeholder.

    A stored image, or a pending one that a segment can already provide (the view cuts it on the
    first request when the task has not run yet). `blocked` may be passed by callers that already
    know the camera's license state, to spare one query per row.
    """
    if blocked is None:
        blocked = bool(media_blocked_reason(tx.camera))
    if blocked or tx.thumbnail_state == ThumbnailState.NONE:
        return None
    if tx.thumbnail_state == ThumbnailState.PENDING and covering_segment(tx.camera, tx.occurred_at) is None:
        return None
    return reverse("pos_link:transaction_thumbnail", kwargs={"transaction_id": tx.pk})


def thumbnails_for(rows, *, blocked: bool | None = None) -> dict[int, str | None]:
    """{transaction id: `thumbnail_for` it} for a page of transactions, in two queries whatever its
    length: the cameras' license states together, then the segments that may cover the pending rows."""
    rows = list(rows)
    if blocked is None:
        cameras = camera_list_with_media_state(Device.objects.filter(pk__in={tx.camera_id for tx in rows}))
        blocked_ids = {c.pk for c in cameras if c.media_blocked}
    else:
        blocked_ids = {tx.camera_id for tx in rows} if blocked else set()
    urls: dict[int, str | None] = {}
    pending = []
    for tx in rows:
        if tx.camera_id in blocked_ids or tx.thumbnail_state == ThumbnailState.NONE:
            urls[tx.pk] = None
        elif tx.thumbnail_state == ThumbnailState.PENDING:
            pending.append(tx)
        else:
            urls[tx.pk] = reverse("pos_link:transaction_thumbnail", kwargs={"transaction_id": tx.pk})
    if pending:
        # The segments that may hold each moment, as segment_list looks for them (started at most two
        # segment lengths before it), one query for the whole page.
        reach = timedelta(seconds=recording_conf.segment_seconds() * 2)
        near = Q()
        for tx in pending:
            near |= Q(camera_id=tx.camera_id, start__lte=tx.occurred_at, start__gte=tx.occurred_at - reach)
        segments = list(RecordingSegment.objects.filter(near, operator_id=pending[0].operator_id))
        for tx in pending:
            covered = any(s.camera_id == tx.camera_id and s.start <= tx.occurred_at < s.end for s in segments)
            urls[tx.pk] = (
                reverse("pos_link:transaction_thumbnail", kwargs={"transaction_id": tx.pk}) if covered else None
            )
    return urls
