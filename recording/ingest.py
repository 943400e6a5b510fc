"""The ingest side of recording: which worker records which camera, and the per-camera pipeline.

Deployment: each ingest worker is a long-running `manage.py run_ingest` process (one per machine or
container, scaled by adding more), not a Celery task. A camera is recorded for hours, which does not
fit a task: a broker redelivers a task that outlives its visibility timeout (two recorders), and a
killed worker's task would wait for that timeout. Instead each camera has an `IngestLease` row:

- the `recording.supervise_ingest` beat task (and each worker, every few ticks) keeps one lease row per
  camera with a stream, enabled only while the camera may record (license neither expired nor missing;
  a stopped camera's trouble state says which, mailed once);
- a worker *claims* a free or expired lease with one conditional UPDATE (so two workers can never
  take the same camera), renews the leases it holds on every tick, and stops a camera the moment a
  renewal fails or the lease is disabled;
- a worker that dies simply stops renewing: after `RECORDING_LEASE_SECONDS` any worker (or the same
  one restarted) takes the camera over. A worker stopping cleanly releases its leases at once.

Per camera (`CameraIngest`): a `workers.segmenter.Segmenter` (stream copy of the video, the audio
copied or transcoded to AAC, restarts after an outage by `workers.segmenter.restart_delay`, so a camera
that comes back records again within seconds), server-side motion for cameras without their own
sensor (keyframes only, decoded by the segmenter's own ffmpeg, so one connection per camera; of the
sub-stream where the camera has one; see `CameraIngest.run_motion`), and, while somebody watches, an
HLS stream by stream copy for live view, made from the recorder's live feed (its own ffmpeg, started on
demand; the camera's one connection still feeds everything, workers.hls.FeedHls). A change of the camera's
stream settings restarts its pipeline within one tick (`IngestSupervisor._follow_settings`).

A worker sizes itself by what it costs, not by a camera count: it measures its own process tree (Python
and every ffmpeg child, `workers.cpu.TreeLoad`) every tick, takes cameras while under
RECORDING_WORKER_CPU_PERCENT of its cores and gives some back for other workers when over by the
hysteresis (`Sizing`); `--capacity` is only a hard cap.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
from django.db import IntegrityError, close_old_connections, connection
from django.db.models import F, Q
from django.utils import timezone

from devices.models import TroubleState
from workers.cpu import TreeLoad
from workers.frames import FrameSource, FrameSourceError, KeyframeTap, SnapshotError, TapSubscription, grab_snapshot
from workers.hls import FeedHls
from workers.live import FeedSource, LiveHub
from workers.motion import GopMeter, MotionConfig, MotionDetector
from workers.probe_camera import probe_camera
from workers.redaction import redact, url_secrets
from workers.segmenter import RecorderState, Segment, Segmenter, StateChange, parse_segment_start, probe

from . import conf, live_feed, media_services, onvif_motion
from .media_selectors import camera_by_id, cameras_by_id, recordable_cameras, recording_settings_for
from .models import (
    CameraRecording,
    IngestLease,
    IngestWorker,
    MotionDecode,
    MotionEvent,
    MotionNote,
    MotionSource,
    MotionStream,
)
from .onvif import OnvifError
from .streams import ingest_url, is_onvif, motion_sub_stream_url
from .trouble import trouble_for

logger = logging.getLogger(__name__)

# Set when this process is asked to stop (run_ingest's SIGTERM / SIGINT). A terminal's Ctrl+C reaches
# the ffmpeg children at the same moment, and the streams they drop then are no camera fault.
SHUTTING_DOWN = threading.Event()


# ----------------------------------------------------------------------------- leases (database side)


def ingest_sync() -> dict[str, int]:
    """One lease row per camera with a stream; enabled while it may record. Returns counts."""
    counts = {"created": 0, "enabled": 0, "disabled": 0}
    seen = []
    for camera, blocked in recordable_cameras():
        seen.append(camera.pk)
        try:
            lease, created = IngestLease.objects.get_or_create(
                camera=camera, defaults={"operator_id": camera.operator_id}
            )
        except IntegrityError:  # another worker created it at the same moment
            lease, created = IngestLease.objects.get(camera=camera), False
        counts["created"] += created
        _license_trouble_follow(camera, blocked)
        enabled = not blocked
        if lease.enabled != enabled or lease.disabled_reason != blocked:
            IngestLease.objects.filter(pk=lease.pk).update(
                enabled=enabled, disabled_reason=blocked, updated_at=timezone.now()
            )
        counts["enabled" if enabled else "disabled"] += 1
    gone = IngestLease.objects.filter(enabled=True).exclude(camera_id__in=seen)
    counts["disabled"] += gone.update(enabled=False, disabled_reason="no_stream", updated_at=timezone.now())
    return counts


LICENSE_TROUBLES = {TroubleState.LICENSE_EXPIRED, TroubleState.LICENSE_MISSING}


def _license_trouble_follow(camera, blocked: str) -> None:  # noqa: ANN001
    """A camera the license stops shows why as its trouble state ("license expired" or "no license"), mailed
    once to its room's recipients by the transition (media_services.trouble_set); when it may record
    again the license trouble clears (the recovery mail) and the recorder finds its stream's state anew."""
    if blocked in LICENSE_TROUBLES:
        if camera.trouble_state != blocked:
            media_services.trouble_set(camera=camera, state=blocked)
    elif camera.trouble_state in LICENSE_TROUBLES:
        media_services.trouble_set(camera=camera, state="")


def lease_claim(*, camera_id: int, worker_id: str, now: datetime | None = None) -> bool:
    """Take the camera's lease if it is enabled and free (or its holder stopped renewing it).
    The conditional UPDATE is the lock: of two workers racing, exactly one updates a row."""
    now = now or timezone.now()
    return bool(
        IngestLease.objects.filter(camera_id=camera_id, enabled=True)
        .filter(Q(worker_id="") | Q(lease_until__lt=now) | Q(lease_until__isnull=True))
        .update(
            worker_id=worker_id,
            lease_until=now + timedelta(seconds=conf.lease_seconds()),
            heartbeat_at=now,
            state=IngestLease.State.STARTING,
            restarts=F("restarts") + 1,
            updated_at=now,
        )
    )


def lease_renew(*, camera_ids: list[int], worker_id: str, now: datetime | None = None) -> set[int]:
    """Extend the leases this worker still holds (and that are still enabled); returns their camera ids."""
    now = now or timezone.now()
    held = IngestLease.objects.filter(camera_id__in=camera_ids, worker_id=worker_id, enabled=True)
    held.update(lease_until=now + timedelta(seconds=conf.lease_seconds()), heartbeat_at=now)
    return set(held.values_list("camera_id", flat=True))


def lease_release(*, camera_ids: list[int] | None, worker_id: str, state: str = IngestLease.State.STOPPED) -> int:
    leases = IngestLease.objects.filter(worker_id=worker_id)
    if camera_ids is not None:
        leases = leases.filter(camera_id__in=camera_ids)
    return leases.update(worker_id="", lease_until=None, state=state, updated_at=timezone.now())


def claimable_camera_ids(*, exclude: set[int], limit: int, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    if limit <= 0:
        return []
    free = (
        IngestLease.objects.filter(enabled=True)
        .filter(Q(worker_id="") | Q(lease_until__lt=now) | Q(lease_until__isnull=True))
        .exclude(camera_id__in=exclude)
        .order_by("lease_until", "pk")
    )
    return list(free.values_list("camera_id", flat=True)[:limit])


# ----------------------------------------------------------------------------- one camera


def _aware(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


@dataclass
class CameraIngest:
    """Everything one worker does for one camera. Callbacks run in the segmenter / motion threads."""

    camera_id: int
    url: str
    spool: Path
    server_motion: bool = True
    motion_url: str = ""  # the camera's sub-stream, lighter to watch for motion; "" for none
    onvif_events: bool = False  # an ONVIF camera / recorder channel: subscribe to its events (onvif_motion)
    onvif_motion: bool = False  # ... and take its motion from them (server-side only as the fallback)
    segment_time: int = 60
    stall_timeout: float = 10.0
    worker_id: str = ""
    audio: bool = True  # record the camera's audio (the operator's "video only" setting turns it off)
    source_key: str = ""  # the stream settings it was started with (IngestSupervisor follows changes)
    segmenter: Segmenter = field(init=False)
    keyframes: KeyframeTap | None = field(default=None, init=False)  # motion's frames from the recorder's ffmpeg
    _tap_meter: GopMeter = field(default_factory=GopMeter, init=False)  # the GOP of the recorder's keyframes
    recording: bool = field(default=False, init=False)  # start() runs the segmenter (run_motion alone does not)
    stop_event: threading.Event = field(default_factory=threading.Event, init=False)
    threads: list[threading.Thread] = field(default_factory=list, init=False)
    hls: FeedHls | None = field(default=None, init=False)
    # The live view's feed: the recorder's ffmpeg writes the camera as fMP4 to a pipe this reads always; the
    # worker's live server (workers/live.py) serves it to every viewer of the camera, on this one connection.
    live_feed: FeedSource = field(default_factory=FeedSource, init=False)
    unstored: list[Segment] = field(default_factory=list, init=False)  # storage failed; retried
    started_at: float = field(default_factory=time.monotonic, init=False)  # for the worker's sizing
    outages: int = field(default=0, init=False)  # consecutive, since the last good recording

    def __post_init__(self) -> None:
        # Server-side motion on the main stream takes its keyframes from the recording's own ffmpeg (one
        # connection, one process per camera); a sub-stream or a full decode runs a FrameSource of its own.
        self.keyframes = KeyframeTap(width=480) if self.server_motion else None
        self.segmenter = Segmenter(
            url=self.url,
            out_dir=self.spool,
            on_segment=self._guard(self.on_segment),
            on_state=self._guard(self.on_state),
            segment_time=self.segment_time,
            stall_timeout=self.stall_timeout,
            connect_timeout=max(self.stall_timeout, 10.0),
            audio=self.audio,
            keyframes=self.keyframes,
            live=self.live_feed,
        )

    # Lifecycle -------------------------------------------------------------------------------

    def start(self) -> CameraIngest:
        self.spool.mkdir(parents=True, exist_ok=True)
        self._recover_spool()
        self._spawn(self.segmenter.run, self.stop_event, name=f"rec-{self.camera_id}")
        self.recording = True  # motion may take its keyframes from this segmenter's ffmpeg
        if self.onvif_events:  # storage state, and motion with no decoding (recording/onvif_motion.py)
            self._spawn(onvif_motion.run, self, name=f"onvif-events-{self.camera_id}")
        if self.server_motion:
            self._spawn(self.run_motion, name=f"motion-{self.camera_id}")
        elif not self.onvif_motion:  # the camera's own sensor reports motion: nothing to decode
            self._motion_status(decode=MotionDecode.NONE, stream="", gop_seconds=None, note="")
        return self

    def alive(self) -> bool:
        return bool(self.threads) and self.threads[0].is_alive()

    def stop(self, timeout: float = 20.0) -> None:
        self.stop_event.set()
        self.live(False)
        for thread in self.threads:
            thread.join(timeout=timeout)

    def _spawn(self, target: Callable, *args: object, name: str) -> None:
        def run() -> None:
            try:
                target(*args)
            except Exception:  # a pipeline bug must not take the worker down; the tick restarts it
                logger.exception("camera %s: %s crashed", self.camera_id, name)
            finally:
                connection.close()  # threads own their database connection

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _guard(self, callback: Callable) -> Callable:
        def guarded(arg: object) -> None:
            close_old_connections()
            try:
                callback(arg)
            except Exception:
                logger.exception("camera %s: callback failed", self.camera_id)

        return guarded

    def _recover_spool(self) -> None:
        """Files a killed worker left in the spool: store those that play (as partial), drop the rest."""
        for path in sorted(self.spool.glob("*.mp4")):
            info = probe(path)
            if not info.ok:
                from workers.segmenter import repair_fragmented_mp4

                if path.stat().st_size and repair_fragmented_mp4(path):
                    info = probe(path)
            if not info.ok:
                path.unlink(missing_ok=True)
                continue
            try:
                start = parse_segment_start(path)
            except ValueError:
                path.unlink(missing_ok=True)
                continue
            self.on_segment(
                Segment(path=path, start=start, duration=info.duration, size=path.stat().st_size, complete=False)
            )

    # Callbacks ---------------------------------------------------------------------------------

    def camera(self):
        camera = camera_by_id(self.camera_id)
        if camera is None:
            self.stop_event.set()
        return camera

    def on_segment(self, segment: Segment) -> None:
        camera = self.camera()
        if camera is None:
            segment.path.unlink(missing_ok=True)
            return
        # Oldest first; every file stays queued until it is stored, so a storage outage that refuses
        # the first one keeps the later ones too (they used to be dropped from the queue).
        self.unstored.append(segment)
        for waiting in list(self.unstored):
            try:
                media_services.segment_store(camera=camera, segment=waiting)
            except OSError as exc:
                logger.warning("camera %s: storing %s failed: %s", self.camera_id, waiting.path.name, exc)
                media_services.trouble_set(camera=camera, state="storage")
                return
            self.unstored.remove(waiting)
        if camera.trouble_state == "storage" and not recording_settings_for(camera).device_storage_failed:
            media_services.trouble_set(camera=camera, state="")  # (an SD card the device reports failed stays)
        media_services.quota_enforce(camera=camera)
        media_services.clips_due(camera=camera)

    def on_state(self, change: StateChange) -> None:
        state = {
            RecorderState.STARTING: IngestLease.State.STARTING,
            RecorderState.RECORDING: IngestLease.State.RECORDING,
            RecorderState.OUTAGE: IngestLease.State.OUTAGE,
            RecorderState.STOPPED: IngestLease.State.STOPPED,
        }[change.state]
        message = redact(change.message, url_secrets(self.url))  # ffmpeg's error names the URL in full
        IngestLease.objects.filter(camera_id=self.camera_id, worker_id=self.worker_id).update(
            state=state, message=message[:300], updated_at=timezone.now()
        )
        camera = self.camera()
        if camera is None:
            return
        if change.state == RecorderState.RECORDING:
            self.outages = 0
            # Recording clears the troubles a stream shows; an SD card the device reports failed stays.
            device_storage = recording_settings_for(camera).device_storage_failed
            media_services.trouble_set(camera=camera, state="storage" if device_storage else "")
            if not recording_settings_for(camera).thumbnail:
                self._snapshot_thumbnail(camera, at=change.at)
        elif change.state == RecorderState.OUTAGE:
            if SHUTTING_DOWN.is_set() or self.stop_event.is_set():
                return
            self.outages += 1
            if is_onvif(camera) and self._onvif_reresolve(camera):
                return
            result = probe_camera(self.url, timeout=8.0)
            if SHUTTING_DOWN.is_set() or self.stop_event.is_set():
                return  # the stop came while probing: what failed was us, not the camera
            logger.info("camera %s: outage (%s); probe: %s", self.camera_id, message, result.message)
            if result.trouble:
                media_services.trouble_set(camera=camera, state=trouble_for(camera, result.problem))
            elif self.outages >= 3:
                # The camera answers a probe yet the recording keeps failing: a fault we cannot name.
                # One blip (a stall the restart cures) is not worth a trouble mail.
                media_services.trouble_set(camera=camera, state="unknown")

    def _onvif_reresolve(self, camera) -> bool:
        """The stream failed: ask the ONVIF camera again (its URI may have changed). True when handled:
        the camera refused or did not answer (trouble set), or named a new URI (restarted with it)."""
        try:
            url = ingest_url(camera, refresh=True, timeout=6.0)
        except OnvifError as exc:
            _onvif_failed(camera, exc, worker_id=self.worker_id)
            return True
        if url != self.url:
            logger.info("camera %s: ONVIF names a new stream URI; restarting", self.camera_id)
            self.stop_event.set()  # the segmenter thread ends; the next tick restarts with the cached URI
            return True
        return False

    def _snapshot_thumbnail(self, camera, *, at: datetime) -> None:
        try:
            jpeg = grab_snapshot(self.url, width=480, timeout=8.0)
        except SnapshotError:
            return
        media_services.thumbnail_update(camera=camera, jpeg=jpeg, at=at)

    # Server-side motion ------------------------------------------------------------------------

    def run_motion(self) -> None:
        """Small grey frames → frame differencing; each finished event → motion_record.

        Decodes as little as it can (docs/user-guide.md, "Server-side motion"): the keyframes only, of the
        sub-stream when the camera has one. A stream whose keyframes come RECORDING_MOTION_MAX_GOP_SECONDS
        apart or more is decoded in full (at RECORDING_MOTION_FPS) for this camera only. A sub-stream that
        stops hands motion over to the main stream at once (noted on the camera page) and is tried again
        after RECORDING_SUB_STREAM_RETRY_SECONDS; the recording is another ffmpeg and never stops for it."""
        backoff = 1.0
        full: set[str] = set()  # streams whose keyframes came too seldom
        sub_retry_at = 0.0
        while not self.stop_event.is_set():
            on_sub = bool(self.motion_url) and time.monotonic() >= sub_retry_at
            stream = MotionStream.SUB if on_sub else MotionStream.MAIN
            keyframes = stream not in full
            outcome = self._watch(self.motion_url if on_sub else self.url, stream=stream, keyframes=keyframes)
            if self.stop_event.is_set():
                break
            if outcome == "long_gop":
                full.add(stream)
                continue
            if stream == MotionStream.MAIN and keyframes and self._shares_keyframes():
                continue  # the recorder's run ended (an outage): the next watch waits for its next run
            if on_sub:
                logger.info("camera %s: the sub-stream stopped; motion on the main stream", self.camera_id)
                sub_retry_at = time.monotonic() + conf.sub_stream_retry_seconds()
                self._motion_status(note=MotionNote.SUB_STREAM_DOWN)
                continue
            if outcome == "frames":
                backoff = 1.0
            self.stop_event.wait(backoff)
            backoff = min(30.0, backoff * 2)

    def _watch(self, url: str, *, stream: str, keyframes: bool) -> str:
        """Run motion on one stream until it ends: "long_gop" (keyframes too seldom: decode it in full),
        "frames" (it ran, then stopped), "failed" (no frame at all)."""
        limit = conf.motion_max_gop_seconds()
        config = MotionConfig()
        detector = MotionDetector(config.for_interval(2.0) if keyframes else config.for_interval(1 / conf.motion_fps()))
        since: float | None = None  # when the open event began, or the end of its last reported part
        # Keyframes come seldom: take them in colour at thumbnail size (aspect kept), so an event's picture
        # is the frame that showed it, not a new connection and decode per event (grab_snapshot).
        if keyframes and stream == MotionStream.MAIN and self._shares_keyframes():
            # The recording's own ffmpeg decodes them: no second receive.
            source = self.keyframes.subscribe(self.stop_event)
            activity = source.activity  # counts from the recorder's run start; between runs nothing is due
        else:
            size = {"width": 480, "height": 0, "colour": True} if keyframes else {"width": 320, "height": 240}
            source = FrameSource(url, fps=conf.motion_fps(), keyframes_only=keyframes, **size)
            activity = float  # 0.0: from the last frame alone
        if isinstance(source, TapSubscription):
            # The recorder's runs come and go (outages, a long GOP's stalls): the GOP is measured across them.
            meter = self._tap_meter
            meter.restart()
        else:
            meter = GopMeter()
        last_frame = [time.monotonic() + 10.0]  # the first keyframe may wait for connecting
        starved = threading.Event()
        watching = threading.Event()

        def watchdog() -> None:
            # A camera that never sends a keyframe (intra refresh) or one GOP longer than twice the limit:
            # keyframe-only motion would wait forever. A dead stream ends ffmpeg itself (I/O timeout).
            while not watching.wait(1.0):
                if time.monotonic() - max(last_frame[0], activity()) > 2 * limit:
                    starved.set()
                    source.close()
                    return

        if keyframes:
            threading.Thread(target=watchdog, name=f"motion-watchdog-{self.camera_id}", daemon=True).start()
        got = False
        outcome = "failed"
        reported: float | None = None  # the GOP last written for the camera page
        try:
            with source as frames:
                for frame in frames:
                    if self.stop_event.is_set():
                        break
                    last_frame[0] = time.monotonic()
                    if not got:
                        got, outcome = True, "frames"
                        self._motion_started(stream=stream, keyframes=keyframes, limit=limit)
                    if keyframes:
                        meter.add(frame.time)
                        if meter.too_long(limit):
                            logger.info("camera %s: keyframes every %.1f s: full decode", self.camera_id, meter.seconds)
                            self._motion_status(
                                decode=MotionDecode.FULL, gop_seconds=meter.seconds, note=MotionNote.LONG_GOP
                            )
                            outcome = "long_gop"
                            break
                        gop = meter.seconds
                        if gop is not None and (reported is None or abs(gop - reported) > 0.25 * reported):
                            reported = gop
                            detector.config = config.for_interval(gop)
                            self._motion_status(gop_seconds=gop)
                    for event in detector.update(frame.image, frame.time):
                        self._motion(max(event.start, since or event.start), event.end, event.thumbnail)
                        since = None
                    if detector.in_motion and since is None:
                        # From the first moving keyframe, not the one that confirmed it a GOP later.
                        since = detector.started_at
                    elif since is not None and frame.time - since >= conf.max_event_seconds():
                        # Somebody keeps moving (a busy entrance): report the event in ~1-minute parts,
                        # so clips stay about a minute long and arrive while it goes on.
                        self._motion(since, frame.time, frame.image)
                        since = frame.time
        except FrameSourceError as exc:
            if not starved.is_set():
                logger.info("camera %s: motion frames stopped: %s", self.camera_id, exc)
        finally:
            watching.set()
        for event in detector.flush():
            self._motion(max(event.start, since or event.start), event.end, event.thumbnail)
        if starved.is_set() and not self.stop_event.is_set():
            logger.info("camera %s: no keyframe for %.0f s: full decode", self.camera_id, 2 * limit)
            self._motion_status(decode=MotionDecode.FULL, gop_seconds=meter.seconds, note=MotionNote.LONG_GOP)
            return "long_gop"
        return outcome

    def _shares_keyframes(self) -> bool:
        """Main-stream keyframes come from the recording's ffmpeg when this ingest runs it; run_motion
        called alone (onvif_motion's fallback beside another ingest's recording) runs a FrameSource."""
        return self.keyframes is not None and self.recording

    def _motion_started(self, *, stream: str, keyframes: bool, limit: float) -> None:
        row = CameraRecording.objects.filter(camera_id=self.camera_id).only("motion_note").first()
        note = row.motion_note if row else ""
        if stream == MotionStream.SUB and note == MotionNote.SUB_STREAM_DOWN:
            note = ""  # the sub-stream is back
        if keyframes and note == MotionNote.LONG_GOP:
            note = ""  # measured again from now on
        self._motion_status(decode=MotionDecode.KEYFRAMES if keyframes else MotionDecode.FULL, stream=stream, note=note)

    def _motion_status(self, **fields: object) -> None:
        """What the camera page says about this camera's motion detection."""
        close_old_connections()
        values = {f"motion_{name}": value for name, value in fields.items()}
        values["motion_status_at"] = timezone.now()
        if not CameraRecording.objects.filter(camera_id=self.camera_id).update(**values):
            camera = self.camera()
            if camera is not None:
                try:
                    CameraRecording.objects.create(camera=camera, operator_id=camera.operator_id, **values)
                except IntegrityError:  # created meanwhile (a thumbnail, ONVIF): update it
                    CameraRecording.objects.filter(camera_id=self.camera_id).update(**values)

    def _motion(self, start: float, end: float, image) -> None:
        close_old_connections()
        camera = self.camera()
        if camera is None:
            return
        jpeg = None
        if image is not None and image.ndim == 3:  # a colour keyframe at thumbnail size: that is the picture
            ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
            jpeg = buffer.tobytes() if ok else None
        if jpeg is None:
            try:
                jpeg = grab_snapshot(self.url, width=480, timeout=5.0)
            except SnapshotError:
                ok, buffer = cv2.imencode(".jpg", image) if image is not None else (False, None)
                jpeg = buffer.tobytes() if ok else None
        media_services.motion_record(
            trigger=camera, at=_aware(start), ended_at=_aware(end), source=MotionEvent.Source.SERVER, thumbnail=jpeg
        )

    # Live view ---------------------------------------------------------------------------------

    def live(self, wanted: bool) -> None:
        """Run the HLS stream while somebody watches; stop it when nobody has asked for a while."""
        if wanted and (self.hls is None or not self.hls.running):
            # Made from the recorder's live feed (the camera's one connection, its sound as recorded) by an
            # ffmpeg of its own, started on demand: nothing of the recording's ffmpeg changes.
            self.hls = FeedHls(feed=self.live_feed, out_dir=conf.live_dir() / str(self.camera_id)).start()
        elif not wanted and self.hls is not None:
            self.hls.stop()
            self.hls = None


def motion_from_onvif_events(camera, motion_source: str) -> tuple[bool, bool]:
    """(subscribe to the camera's ONVIF events, take its motion from them): every ONVIF camera and
    recorder channel subscribes (its storage state); motion comes from the events with motion source
    "ONVIF motion events" (an RTSP camera set to it is watched by server-side motion)."""
    events = is_onvif(camera)
    return events, events and motion_source == MotionSource.ONVIF


def _onvif_failed(camera, exc: OnvifError, *, worker_id: str) -> None:
    message = redact(exc.message, [camera.onvif_password])
    logger.info("camera %s: ONVIF: %s", camera.pk, message)
    IngestLease.objects.filter(camera_id=camera.pk).update(
        state=IngestLease.State.OUTAGE, message=f"ONVIF: {message}"[:300], updated_at=timezone.now()
    )
    media_services.trouble_set(camera=camera, state=trouble_for(camera, exc.problem))


# ----------------------------------------------------------------------------- the worker loop


def stream_settings_key(camera, row: CameraRecording) -> str:
    """A digest of everything a camera's pipeline is started from: its stream settings (and, for an edge
    recorder's channel, the recorder's), its sub-stream, motion source and sound setting."""
    parts: list[object] = [
        camera.stream_source,
        camera.rtsp_url,
        camera.onvif_host,
        camera.onvif_port,
        camera.onvif_user,
        camera.onvif_password,
        camera.channel,
    ]
    parent = camera.parent
    if parent is not None:
        parts += [parent.stream_source, parent.rtsp_url, parent.onvif_host, parent.onvif_port]
        parts += [parent.onvif_user, parent.onvif_password]
    parts += [row.motion_source, row.motion_sub_stream_url, row.record_audio]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Sizing:
    """How many cameras a recorder takes (> 0) or gives back (< 0) this tick, from its measured load.

    ``load`` is the worker's CPU (its whole process tree) as a share of its cores; ``settled`` of its
    ``cameras`` have run long enough for their cost to show in it, the others count at the settled ones'
    average. Under ``limit`` it takes as many cameras as the room left buys at that average; over ``limit``
    + ``hysteresis`` it gives back enough to come down to ``limit``, but only while another worker has room
    for them (a camera nobody takes would stop recording). At most ``batch`` (or half the cameras held) at
    a time. A worker whose cameras have not settled yet takes a batch more only while under ``limit``.
    """

    limit: float = 0.75
    hysteresis: float = 0.10
    batch: int = 4

    def step(
        self,
        *,
        load: float | None,
        cameras: int,
        settled: int | None = None,
        capacity: int = 0,
        others_have_room: bool = False,
    ) -> int:
        settled = cameras if settled is None else min(settled, cameras)
        room = capacity - cameras if capacity else math.inf
        if capacity and room < 0:
            return int(room)
        most = max(self.batch, cameras // 2)
        if cameras == 0 or load is None:
            return int(max(0, min(self.batch, room)))
        if settled == 0:
            return int(max(0, min(self.batch, room))) if load < self.limit else 0
        per_camera = max(load / settled, 1e-6)
        if load > self.limit + self.hysteresis:
            if not others_have_room:
                return 0
            return -min(most, cameras, max(1, math.ceil((load - self.limit) / per_camera)))
        projected = load + (cameras - settled) * per_camera
        if projected < self.limit:
            return int(max(0, min(most, room, math.floor((self.limit - projected) / per_camera))))
        return 0


@dataclass
class IngestSupervisor:
    """One ingest worker: claims camera leases while its measured CPU leaves room (and up to
    `capacity` when one is set), keeps their pipelines running, gives cameras back when over."""

    worker_id: str = field(default_factory=new_worker_id)
    capacity: int = 0  # a hard cap; 0: by measured CPU alone
    sync_every: int = 6  # ticks between ingest_sync calls (the beat task also runs it)
    factory: Callable[..., CameraIngest] = CameraIngest
    ingests: dict[int, CameraIngest] = field(default_factory=dict)
    ticks: int = 0
    meter: TreeLoad = field(default_factory=TreeLoad)
    sizing: Sizing | None = None  # None: from the settings
    settle_ticks: int = 2  # a camera's cost shows in the load this many ticks after it started
    _settle: int = field(default=0, init=False)
    _given_back: dict[int, float] = field(default_factory=dict, init=False)  # camera → monotonic time
    live_hub: LiveHub | None = field(default=None, init=False)  # this process's live feed server
    _live_published: dict[int, FeedSource] = field(default_factory=dict, init=False)
    _live_failed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if self.sizing is None:
            self.sizing = Sizing(limit=conf.worker_cpu_share(), hysteresis=conf.worker_cpu_hysteresis())

    def tick(self, now: datetime | None = None) -> None:
        close_old_connections()
        now = now or timezone.now()
        load = self.meter.sample()
        if self.ticks % self.sync_every == 0:
            ingest_sync()
        self.ticks += 1
        held = lease_renew(camera_ids=list(self.ingests), worker_id=self.worker_id, now=now)
        for camera_id in [c for c in self.ingests if c not in held]:
            # Lease lost (disabled: license expired, stream removed; or taken after we were stale): stop now.
            logger.info("worker %s: stopping camera %s (lease gone)", self.worker_id, camera_id)
            self.ingests.pop(camera_id).stop()
            lease_release(camera_ids=[camera_id], worker_id=self.worker_id)
        self._follow_settings()
        for camera_id, ingest in list(self.ingests.items()):
            if not ingest.alive():  # the pipeline thread died: restart it (the segmenter backs off itself)
                ingest.stop(timeout=2)
                self._start(camera_id)
        self._resize(load, now)
        self._live(now)
        self._publish_live()
        self._heartbeat(now, load)

    def _resize(self, load: float | None, now: datetime) -> None:
        if self._settle > 0:
            self._settle -= 1
            return
        settled_before = time.monotonic() - self.settle_ticks * conf.tick_seconds()
        step = self.sizing.step(
            load=load,
            cameras=len(self.ingests),
            settled=sum(1 for ingest in self.ingests.values() if ingest.started_at <= settled_before),
            capacity=self.capacity,
            others_have_room=self._others_have_room(now),
        )
        if step < 0:
            self._give_back(-step, load)
            self._settle = self.settle_ticks  # the smoothed load comes down over the next ticks
            return
        recent = time.monotonic() - 3 * conf.lease_seconds()
        self._given_back = {c: t for c, t in self._given_back.items() if t > recent}
        for camera_id in claimable_camera_ids(exclude=set(self.ingests) | set(self._given_back), limit=step):
            if lease_claim(camera_id=camera_id, worker_id=self.worker_id, now=now):
                if not self._start(camera_id):  # no URL to record from (ONVIF refused or unreachable)
                    lease_release(camera_ids=[camera_id], worker_id=self.worker_id, state=IngestLease.State.OUTAGE)

    def _others_have_room(self, now: datetime) -> bool:
        fresh = now - timedelta(seconds=conf.ingest_worker_stale_seconds())
        return (
            IngestWorker.objects.filter(heartbeat_at__gte=fresh, cpu_limit__gt=0)
            .exclude(worker_id=self.worker_id)
            .filter(cpu_load__lte=F("cpu_limit") - self.sizing.hysteresis)
            .exists()
        )

    def _give_back(self, count: int, load: float | None) -> None:
        """Stop the newest cameras and free their leases at once, for a worker with room to take."""
        for camera_id in list(self.ingests)[-count:]:
            logger.info(
                "worker %s: over its CPU share (%.0f %%): giving camera %s back",
                self.worker_id,
                (load or 0) * 100,
                camera_id,
            )
            self.ingests.pop(camera_id).stop()
            lease_release(camera_ids=[camera_id], worker_id=self.worker_id, state=IngestLease.State.WAITING)
            self._given_back[camera_id] = time.monotonic()

    def _start(self, camera_id: int) -> bool:
        camera = camera_by_id(camera_id)
        try:
            url = ingest_url(camera) if camera else ""
        except OnvifError as exc:  # wrong ONVIF password, camera unreachable: say so, retry on a later tick
            _onvif_failed(camera, exc, worker_id=self.worker_id)
            url = ""
        if not url:
            self.ingests.pop(camera_id, None)
            return False
        settings_row = recording_settings_for(camera)
        onvif_events, onvif_motion = motion_from_onvif_events(camera, settings_row.motion_source)
        server_motion = settings_row.motion_source == MotionSource.SERVER or (
            settings_row.motion_source == MotionSource.ONVIF and not onvif_motion
        )
        ingest = self.factory(
            camera_id=camera_id,
            url=url,
            spool=conf.spool_dir() / str(camera_id),
            server_motion=server_motion,
            motion_url=motion_sub_stream_url(camera) if server_motion or onvif_motion else "",
            onvif_events=onvif_events,
            onvif_motion=onvif_motion,
            segment_time=conf.segment_seconds(),
            stall_timeout=conf.stall_seconds(),
            worker_id=self.worker_id,
            audio=settings_row.record_audio,
            source_key=stream_settings_key(camera, settings_row),
        )
        self.ingests[camera_id] = ingest.start()
        return True

    def _follow_settings(self) -> None:
        """A camera whose stream settings changed (RTSP URL, ONVIF host or credentials, its recorder's,
        the sub-stream, the motion source, sound) since its pipeline started is restarted with them now,
        within this tick: recording, motion, live view and the trouble checks all use the new source.
        An ONVIF camera is asked for its stream again (the cached URI was the old host's)."""
        if not self.ingests:
            return
        cameras = cameras_by_id(list(self.ingests))
        rows = {row.camera_id: row for row in CameraRecording.objects.filter(camera_id__in=list(self.ingests))}
        for camera_id, ingest in list(self.ingests.items()):
            camera = cameras.get(camera_id)
            started_with = getattr(ingest, "source_key", "")
            if camera is None or not started_with:
                continue
            row = rows.get(camera_id) or CameraRecording(operator_id=camera.operator_id, camera=camera)  # defaults
            if stream_settings_key(camera, row) == started_with:
                continue
            logger.info("worker %s: camera %s: stream settings changed; restarting", self.worker_id, camera_id)
            self.ingests.pop(camera_id).stop()
            if is_onvif(camera):
                try:
                    ingest_url(camera, refresh=True)
                except OnvifError as exc:  # never the old host's cached URI: say so, retry on a later tick
                    _onvif_failed(camera, exc, worker_id=self.worker_id)
                    lease_release(camera_ids=[camera_id], worker_id=self.worker_id, state=IngestLease.State.OUTAGE)
                    continue
            if not self._start(camera_id):
                lease_release(camera_ids=[camera_id], worker_id=self.worker_id, state=IngestLease.State.OUTAGE)

    def _live(self, now: datetime) -> None:
        since = now - timedelta(seconds=conf.live_idle_seconds())
        wanted = set(
            IngestLease.objects.filter(
                camera_id__in=list(self.ingests), worker_id=self.worker_id, live_requested_at__gte=since
            ).values_list("camera_id", flat=True)
        )
        for camera_id, ingest in self.ingests.items():
            ingest.live(camera_id in wanted)

    def _publish_live(self) -> None:
        """Serve each running camera's live feed on this process's live server (started with the first
        camera that has one; LIVE_FEED_BIND "" turns it off); a camera stopped here is served no more."""
        feeds = {c: ingest.live_feed for c, ingest in self.ingests.items() if getattr(ingest, "live_feed", None)}
        if self.live_hub is None and feeds and not self._live_failed:
            try:
                self.live_hub = live_feed.start_hub()
            except (OSError, ValueError) as exc:
                self._live_failed = True  # said once; live view falls back to HLS
                logger.error("worker %s: the live feed server cannot start on %s: %s", self.worker_id,
                             conf.live_feed_bind(), exc)  # fmt: skip
        hub = self.live_hub
        if hub is None:
            return
        for camera_id, feed in list(self._live_published.items()):
            if feeds.get(camera_id) is not feed:
                hub.unpublish(camera_id, source=feed)
                del self._live_published[camera_id]
        for camera_id, feed in feeds.items():
            if camera_id not in self._live_published:
                hub.publish(camera_id, feed)
                self._live_published[camera_id] = feed

    def _heartbeat(self, now: datetime, load: float | None) -> None:
        IngestWorker.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "hostname": socket.gethostname(),
                "pid": os.getpid(),
                "heartbeat_at": now,
                "cameras": len(self.ingests),
                "capacity": self.capacity,
                "cpu_load": load or 0.0,
                "cpu_limit": self.sizing.limit,
                "cores": max(1, round(self.meter.cores)),
                "live_address": self.live_hub.address if self.live_hub is not None else "",
            },
        )

    def shutdown(self) -> None:
        if self.live_hub is not None:  # its viewers hear "stopped" (and ask again: another worker takes over)
            self.live_hub.close()
            self.live_hub = None
            self._live_published.clear()
        for ingest in self.ingests.values():
            ingest.stop()
        lease_release(camera_ids=None, worker_id=self.worker_id)
        self.ingests.clear()
        IngestWorker.objects.filter(worker_id=self.worker_id).delete()

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    self.tick()
                except Exception:  # the database blinked: keep the cameras running, retry next tick
                    logger.exception("worker %s: tick failed", self.worker_id)
                stop.wait(max(0.0, conf.tick_seconds() - (time.monotonic() - started)))
        finally:
            self.shutdown()
