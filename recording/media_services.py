"""Writes of recorded media: index and store segments, keep the quota, record motion, cut event clips,
export spans, expire old files, and keep trouble states current.

Everything goes through Django's default storage (local disk or S3 by settings). A database row
exists only for a stored, playable file: a file is written first and its row made after; deleting
removes the file first and the row after, so the index never points at nothing for long and never
misses a file it could play.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from devices.models import Device
from devices.services import device_set_trouble
from tenants.models import User
from workers import fmp4
from workers.retention import Dated, StoredSegment, clips_expired, exports_to_delete, segments_over_quota
from workers.segmenter import ClipError, Segment, make_clip, probe

from . import conf, tasks
from .media_selectors import (
    LICENSE_EXPIRED,
    LICENSE_MISSING,
    camera_bitrate,
    export_limit_minutes,
    media_blocked_message,
    media_blocked_reason,
    quota_for,
    segments_for_clip,
)
from .models import CameraRecording, EventClip, Export, IngestLease, MotionEvent, RecordingSegment
from .selectors import cameras_triggered_by

logger = logging.getLogger(__name__)

STAMP = "%Y%m%dT%H%M%SZ"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP)


def media_prefix(camera: Device) -> str:
    return f"recordings/{camera.operator_id}/{camera.pk}"


# ----------------------------------------------------------------------------- storage helpers


def remux_faststart(src: Path, dst: Path, *, timeout: float = 60.0) -> None:
    """Copy a fragmented MP4 into a plain MP4 with the index first (stream copy, no decode), so that
    browsers can seek in it. The fragmented file is what makes the *spool* crash-safe; the stored copy
    needs to be a good download."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-protocol_whitelist", "file"]
    cmd += ["-i", str(src)]
    cmd += ["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-movflags", "+faststart", str(dst)]  # audio kept
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ClipError(result.stderr.strip() or "remux failed")


def storage_save(name: str, path: Path) -> str:
    """Store a local file under `name` (an existing file of that name is replaced, never renamed)."""
    if default_storage.exists(name):
        default_storage.delete(name)
    with path.open("rb") as handle:
        return default_storage.save(name, File(handle, name=Path(name).name))


@contextlib.contextmanager
def local_copies(names: list[str]) -> Iterator[list[Path]]:
    """Local paths of stored files: the files themselves on local storage, temporary downloads on S3."""
    tmp = Path(tempfile.mkdtemp(prefix="rec-"))
    try:
        paths = []
        for i, name in enumerate(names):
            try:
                paths.append(Path(default_storage.path(name)))
            except NotImplementedError:
                target = tmp / f"{i:04d}.mp4"
                with default_storage.open(name, "rb") as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
                paths.append(target)
        yield paths
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def storage_delete(name: str) -> None:
    if name:
        with contextlib.suppress(FileNotFoundError, OSError):
            default_storage.delete(name)


def storage_delete_tree(prefix: str) -> int:
    """Delete every stored file under the folder `prefix` (local storage or S3); returns how many."""
    try:
        folders, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    count = 0
    for name in files:
        storage_delete(f"{prefix}/{name}")
        count += 1
    for folder in folders:
        count += storage_delete_tree(f"{prefix}/{folder}")
    with contextlib.suppress(NotImplementedError, OSError):
        Path(default_storage.path(prefix)).rmdir()  # the emptied folder, on local storage
    return count


def camera_media_purge(*, operator_id: int, camera_id: int) -> int:
    """Delete what a removed camera leaves in storage: recordings, clips, exports, thumbnails and the
    POS thumbnails. Its rows went with it (cascade); this is the files. Returns how many."""
    return sum(storage_delete_tree(f"{top}/{operator_id}/{camera_id}") for top in ("recordings", "pos"))


# ----------------------------------------------------------------------------- trouble


def trouble_set(*, camera: Device, state: str) -> bool:
    """Set the camera's trouble state; on a transition, mail it once (after the commit). While the license
    stops the camera its trouble is the license's (set and cleared by recording.ingest.ingest_sync): a late
    word of its stopping recorder (recording again, an outage) changes nothing, so the stop mails once."""
    if state not in (LICENSE_EXPIRED, LICENSE_MISSING) and camera.kind == "camera" and media_blocked_reason(camera):
        return False
    changed = device_set_trouble(device=camera, state=state)
    if changed:
        transaction.on_commit(lambda: tasks.notify_trouble_state.delay(camera.pk))
        logger.info("camera %s trouble → %r", camera.pk, state)
    return changed


# ----------------------------------------------------------------------------- segments


def segment_store(*, camera: Device, segment: Segment) -> RecordingSegment:
    """Store one finished spool file and index it; the spool file is removed afterwards.

    Raises OSError (storage unreachable or full) with the spool file left in place for a retry.
    """
    name = f"{media_prefix(camera)}/continuous/{segment.start:%Y/%m/%d}/{_stamp(segment.start)}.mp4"
    existing = RecordingSegment.objects.filter(storage_name=name).first()
    if existing is not None:  # reported again after a restart: the index already has it
        segment.path.unlink(missing_ok=True)
        return existing
    with tempfile.TemporaryDirectory(prefix="seg-") as tmp:
        plain = Path(tmp) / "segment.mp4"
        try:
            remux_faststart(segment.path, plain)
        except (ClipError, subprocess.TimeoutExpired):
            plain = segment.path  # still a playable fragmented MP4: keep it as it is
        size = plain.stat().st_size
        has_audio = file_has_audio(plain)
        stored = storage_save(name, plain)
    try:
        row = RecordingSegment.objects.create(
            operator_id=camera.operator_id,
            camera=camera,
            start=segment.start,
            duration=segment.duration,
            size=size,
            storage_name=stored,
            complete=segment.complete,
            has_audio=has_audio,
        )
    except IntegrityError:
        row = RecordingSegment.objects.get(storage_name=stored)
    segment.path.unlink(missing_ok=True)
    IngestLease.objects.filter(camera=camera).update(
        last_segment_at=segment.start + timedelta(seconds=segment.duration),
        bitrate_bps=camera_bitrate(camera),
        updated_at=timezone.now(),
    )
    return row


AUDIO_HEADER_MAX_BYTES = 4 * 1024 * 1024  # a 1-minute file's moov is some kilobytes; past this: not known


def file_has_audio(path: Path) -> bool | None:
    """Whether the MP4 at `path` has a sound track, from its header (ftyp + moov, first in a faststart or
    fragmented file; no ffprobe). None when its header cannot be read within AUDIO_HEADER_MAX_BYTES."""
    try:
        with path.open("rb") as handle:
            head = b""
            for box in fmp4.read_boxes(handle, max_box=AUDIO_HEADER_MAX_BYTES):
                if box.type == b"mdat" or box.type == b"moof":
                    return None  # media before the header: not a file this recorder writes
                head += box.data
                if box.type == b"moov":
                    return fmp4.parse_init(head).audio is not None
    except (OSError, fmp4.Fmp4Error):
        return None
    return None


def quota_enforce(*, camera: Device) -> int:
    """Delete the oldest segments until the camera is within its quota. The newest indexed segment is
    never deleted (and the one being written is not indexed yet), so recording never stops.
    Returns how many segments were deleted."""
    quota = quota_for(camera)
    total = RecordingSegment.objects.filter(camera=camera).aggregate(total=Sum("size"))["total"] or 0
    if total <= quota:
        return 0
    rows = list(RecordingSegment.objects.filter(camera=camera).only("pk", "start", "size", "duration", "storage_name"))
    decision = segments_over_quota(
        [StoredSegment(key=r.pk, start=r.start, size=r.size, duration=r.duration) for r in rows], quota_bytes=quota
    )
    doomed = {s.key for s in decision.delete}
    for row in rows:
        if row.pk in doomed:
            storage_delete(row.storage_name)
    RecordingSegment.objects.filter(pk__in=doomed).delete()
    return len(doomed)


# ----------------------------------------------------------------------------- motion


def thumbnail_update(*, camera: Device, jpeg: bytes, at: datetime) -> str:
    """Replace the camera-list thumbnail with `jpeg`, captured at `at`."""
    name = f"{media_prefix(camera)}/thumbnail.jpg"
    storage_delete(name)
    stored = default_storage.save(name, ContentFile(jpeg))
    CameraRecording.objects.update_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id, "thumbnail": stored, "thumbnail_at": at}
    )
    return stored


@transaction.atomic
def motion_record(
    *, trigger: Device, at: datetime, ended_at: datetime, source: str, thumbnail: bytes | None = None
) -> list[MotionEvent]:
    """A detection by `trigger` (a sensor, or a camera's server-side detection): one motion event per
    camera it triggers (its own room's cameras and recording conditions), each to get a clip.
    Cameras whose license expired are skipped: they neither record nor notify."""
    ended_at = max(ended_at, at)
    events = []
    for camera in cameras_triggered_by(sensor=trigger):
        if media_blocked_reason(camera):
            continue
        events.append(
            MotionEvent.objects.create(
                operator_id=camera.operator_id,
                camera=camera,
                triggered_by=trigger,
                source=source,
                at=at,
                ended_at=ended_at,
            )
        )
    own = trigger if trigger.kind == "camera" else trigger.parent
    if thumbnail and own is not None:
        stored = thumbnail_update(camera=own, jpeg=thumbnail, at=at)
        MotionEvent.objects.filter(pk__in=[e.pk for e in events if e.camera_id == own.pk]).update(thumbnail=stored)
    return events


def clip_window(motion: MotionEvent) -> tuple[datetime, datetime]:
    return (
        motion.at - timedelta(seconds=conf.pre_roll_seconds()),
        motion.ended_at + timedelta(seconds=conf.post_roll_seconds()),
    )


def clip_make(*, motion_id: int, now: datetime | None = None) -> EventClip | None:
    """Cut the event clip of one motion event once its recording is stored. Idempotent and safe to
    run from several workers: the event is claimed `pending → making` by a conditional UPDATE (a
    claim older than 5 minutes, left by a dead worker, may be taken over), and the clip row is
    one-to-one with the event. Returns the clip, or None when it is not time yet / done by another."""
    now = now or timezone.now()
    stale = now - timedelta(minutes=5)
    claimable = MotionEvent.objects.filter(pk=motion_id).filter(
        Q(clip_state=MotionEvent.ClipState.PENDING)
        | Q(clip_state=MotionEvent.ClipState.MAKING, clip_claimed_at__lt=stale)
    )
    motion = claimable.select_related("camera").first()
    if motion is None:
        return None
    # Whether it is due is read before claiming: a claim is taken only for work that starts at once,
    # so a worker that dies between the two leaves nothing held for the next one.
    camera = motion.camera
    start, end = clip_window(motion)
    rows = segments_for_clip(camera=camera, start=start, end=end)
    covered = bool(rows) and rows[-1].end >= end - timedelta(seconds=0.5)
    give_up = now > end + timedelta(seconds=conf.segment_seconds() * 3 + 30)
    if not covered and not give_up:
        return None
    if not claimable.update(clip_state=MotionEvent.ClipState.MAKING, clip_claimed_at=now):
        return None
    if not rows:
        MotionEvent.objects.filter(pk=motion_id).update(clip_state=MotionEvent.ClipState.FAILED)
        _notify_motion(motion, clip_name=None)
        return None
    try:
        clip = _cut(camera=camera, motion=motion, rows=rows)
    except (ClipError, OSError, subprocess.TimeoutExpired) as exc:
        logger.warning("clip of motion %s failed: %s", motion_id, exc)
        MotionEvent.objects.filter(pk=motion_id).update(clip_state=MotionEvent.ClipState.FAILED)
        _notify_motion(motion, clip_name=None)
        return None
    MotionEvent.objects.filter(pk=motion_id).update(clip_state=MotionEvent.ClipState.DONE)
    _notify_motion(motion, clip_name=clip.storage_name)
    return clip


def _cut(*, camera: Device, motion: MotionEvent, rows: list[RecordingSegment]) -> EventClip:
    existing = EventClip.objects.filter(motion=motion).first()
    if existing is not None:
        return existing
    name = f"{media_prefix(camera)}/events/{motion.at:%Y/%m/%d}/{_stamp(motion.at)}-{motion.pk}.mp4"
    with local_copies([r.storage_name for r in rows]) as paths, tempfile.TemporaryDirectory(prefix="clip-") as tmp:
        segments = [
            Segment(path=p, start=r.start, duration=r.duration, size=r.size) for p, r in zip(paths, rows, strict=True)
        ]
        out = Path(tmp) / "clip.mp4"
        result = make_clip(
            segments=segments,
            event_start=motion.at,
            event_end=motion.ended_at,
            out_path=out,
            pre_roll=conf.pre_roll_seconds(),
            post_roll=conf.post_roll_seconds(),
        )
        stored = storage_save(name, out)
    try:
        return EventClip.objects.create(
            operator_id=camera.operator_id,
            camera=camera,
            motion=motion,
            motion_at=motion.at,
            start=result.start,
            duration=result.duration,
            size=result.size,
            storage_name=stored,
        )
    except IntegrityError:  # another worker finished the same event first: keep theirs
        return EventClip.objects.get(motion=motion)


def _notify_motion(motion: MotionEvent, *, clip_name: str | None) -> None:
    at = motion.at.isoformat()
    transaction.on_commit(lambda: tasks.notify_motion.delay(motion.camera_id, at, clip_name))


def clips_due(*, camera: Device | None = None) -> int:
    """Try every pending clip (of `camera`, or all). Returns how many clips were made."""
    pending = MotionEvent.objects.filter(clip_state=MotionEvent.ClipState.PENDING)
    if camera is not None:
        pending = pending.filter(camera=camera)
    made = 0
    for motion_id in pending.order_by("at").values_list("pk", flat=True):
        made += clip_make(motion_id=motion_id) is not None
    return made


# ----------------------------------------------------------------------------- exports


@transaction.atomic
def export_create(*, user: User, camera: Device, start: datetime, end: datetime) -> Export:
    """Queue the conversion of [start, end) of `camera` into one MP4 for `user`. Errors are keyed by
    field and nothing is written. The user's oldest exports beyond 10 (or past 7 days) go."""
    errors: dict[str, list[str]] = {}
    if end <= start:
        errors["end"] = [_("The end must be after the start.")]
    elif end - start > timedelta(minutes=export_limit_minutes(camera)):
        errors["end"] = [_("Export at most %(minutes)d minutes at a time.") % {"minutes": export_limit_minutes(camera)}]
    if reason := media_blocked_reason(camera):
        errors["__all__"] = [media_blocked_message(reason)]
    if not errors and not segments_for_clip(camera=camera, start=start, end=end):
        errors["start"] = [_("Nothing was recorded in this span.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    export = Export.objects.create(
        operator_id=camera.operator_id,
        camera=camera,
        user=user,
        start=start,
        end=end,
        expires_at=now + timedelta(days=conf.export_days()),
        created_at=now,
    )
    exports_prune(user=user)
    transaction.on_commit(lambda: tasks.export_run.delay(export.pk))
    return export


def exports_prune(*, user: User, now: datetime | None = None) -> int:
    """Delete `user`'s exports beyond the newest 10 and those past 7 days (files first)."""
    now = now or timezone.now()
    rows = list(Export.objects.filter(user=user))
    doomed = exports_to_delete(
        [Dated(key=r.pk, created=r.created_at) for r in rows],
        now=now,
        max_count=conf.export_max_count(),
        max_age=timedelta(days=conf.export_days()),
    )
    ids = {d.key for d in doomed}
    for row in rows:
        if row.pk in ids:
            storage_delete(row.storage_name)
    Export.objects.filter(pk__in=ids).delete()
    return len(ids)


def export_delete(*, user: User, export: Export) -> None:
    storage_delete(export.storage_name)
    Export.objects.filter(pk=export.pk, user=user).delete()


def export_run(*, export_id: int) -> Export | None:
    """Convert one queued export (claimed `queued → running`), reporting progress in percent."""
    claimed = Export.objects.filter(pk=export_id, status=Export.Status.QUEUED).update(
        status=Export.Status.RUNNING, progress=0
    )
    if not claimed:
        return None
    export = Export.objects.select_related("camera").get(pk=export_id)
    rows = segments_for_clip(camera=export.camera, start=export.start, end=export.end)
    try:
        if not rows:
            raise ClipError("nothing recorded in this span")
        name = f"{media_prefix(export.camera)}/exports/{export.user_id}/{_stamp(export.start)}-{export.pk}.mp4"
        with local_copies([r.storage_name for r in rows]) as paths, tempfile.TemporaryDirectory(prefix="exp-") as tmp:
            out = Path(tmp) / "export.mp4"
            _concat_with_progress(export=export, rows=rows, paths=paths, out=out)
            size = out.stat().st_size
            stored = storage_save(name, out)
    except (ClipError, OSError, subprocess.TimeoutExpired) as exc:
        Export.objects.filter(pk=export_id).update(status=Export.Status.FAILED, error=str(exc)[:300])
        return Export.objects.get(pk=export_id)
    Export.objects.filter(pk=export_id).update(status=Export.Status.DONE, progress=100, storage_name=stored, size=size)
    return Export.objects.get(pk=export_id)


def _concat_with_progress(*, export: Export, rows: list[RecordingSegment], paths: list[Path], out: Path) -> None:
    """One ffmpeg concat by stream copy; its `-progress` output (out_time) drives the percentage."""
    offset = max(0.0, (export.start - rows[0].start).total_seconds())
    length = (export.end - max(export.start, rows[0].start)).total_seconds()
    listing = out.with_suffix(".txt")
    listing.write_text("".join("file '{}'\n".format(str(p.resolve()).replace("'", "'\\''")) for p in paths))
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0"]
    cmd += ["-protocol_whitelist", "file", "-ss", f"{offset:.3f}", "-i", str(listing), "-t", f"{length:.3f}"]
    cmd += ["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy"]
    cmd += ["-movflags", "+faststart", "-progress", "pipe:1", "-nostats", str(out)]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
    last = -1
    for line in process.stdout:
        if line.startswith("out_time_us="):
            with contextlib.suppress(ValueError):
                done = int(line.split("=", 1)[1]) / 1_000_000
                percent = max(0, min(99, int(100 * done / max(length, 0.001))))
                if percent != last:
                    last = percent
                    Export.objects.filter(pk=export.pk).update(progress=percent)
    error = process.stderr.read()
    if process.wait(timeout=120) != 0 or not probe(out).ok:
        raise ClipError(error.strip() or "export failed")


# ----------------------------------------------------------------------------- expiry


def media_expire(*, now: datetime | None = None) -> dict[str, int]:
    """Delete event clips past the plan's days (``clips_expired``) and converted files past their days
    (``exports_to_delete``), files first. The queries only narrow the candidates down on an index; the
    tested rules in workers/retention.py decide what goes."""
    now = now or timezone.now()
    keep_days = conf.clip_days()
    candidates = {
        row.pk: row
        for row in EventClip.objects.filter(motion_at__lt=now - timedelta(days=keep_days)).only(
            "pk", "storage_name", "motion_at"
        )
    }
    doomed_clips = clips_expired(
        [Dated(key=pk, created=row.motion_at) for pk, row in candidates.items()], now=now, keep_days=keep_days
    )
    for dated in doomed_clips:
        storage_delete(candidates[dated.key].storage_name)
    EventClip.objects.filter(pk__in=[d.key for d in doomed_clips]).delete()
    max_age = timedelta(days=conf.export_days())
    old_exports = {
        row.pk: row
        for row in Export.objects.filter(Q(created_at__lt=now - max_age) | Q(expires_at__lt=now)).only(
            "pk", "storage_name", "created_at", "expires_at"
        )
    }
    doomed_exports = exports_to_delete(
        # an export is dated by its creation; one whose own expiry passed is dated back to it
        [Dated(key=pk, created=min(row.created_at, row.expires_at - max_age)) for pk, row in old_exports.items()],
        now=now,
        max_count=len(old_exports) + 1,  # the count limit is applied per user when an export is made
        max_age=max_age,
    )
    for dated in doomed_exports:
        storage_delete(old_exports[dated.key].storage_name)
    Export.objects.filter(pk__in=[d.key for d in doomed_exports]).delete()
    return {"clips": len(doomed_clips), "exports": len(doomed_exports)}


# ----------------------------------------------------------------------------- live view


def live_request(*, camera: Device, now: datetime | None = None) -> None:
    """Somebody watches `camera` live: the worker recording it runs its HLS stream while these keep
    coming (the playlist requests renew it). Throttled to one write per 10 s per camera."""
    now = now or timezone.now()
    IngestLease.objects.filter(camera=camera).filter(
        Q(live_requested_at__isnull=True) | Q(live_requested_at__lt=now - timedelta(seconds=10))
    ).update(live_requested_at=now)
