"""The opt-in H.264 live view of an H.265 camera: one transcode per camera, however many viewers.

Most cameras send H.265, which the live path carries as it is (``hvc1`` fragments, no decode on the
server); a browser without HEVC (most desktop Chrome and Firefox builds) cannot play it. Such a viewer may
ask for the live feed's variant "h264" (the page says that it costs server CPU). ``H264Transcode`` is that
variant for one camera: one ffmpeg reading the camera's *source* feed (the fragmented MP4 the recorder's
one camera connection already makes, from the last keyframe on) on its stdin, decoding it, encoding
H.264 for live (``-preset veryfast -tune zerolatency``, a keyframe every second, no B-frames), the audio
copied (the feed's audio is AAC already), and writing fragmented MP4 again, one fragment per frame, which
``workers.fmp4`` splits into the init segment and fragments that viewers get like the source's.

It is started when the first "h264" viewer of the camera arrives and stopped when the last one leaves
(the live server's variant hook); the video is never decoded for anybody else. A transcode that cannot
keep up falls behind in its own input queue (bounded: it drops to the next keyframe), never the
recording's ffmpeg. Django-free.
"""

from __future__ import annotations

import collections
import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterable

from workers import fmp4, live

VARIANT = "h264"
QUEUE_BYTES = 8 * 1024 * 1024  # of source fragments not yet written to ffmpeg (several seconds of 4K)
MAX_LAG = 1.0  # seconds a source fragment may wait for ffmpeg before the transcode skips to a keyframe
LIVE_FMP4 = "empty_moov+default_base_moof+frag_every_frame"


def transcode_args(*, ffmpeg: str = "ffmpeg", keyframe_seconds: float = 1.0) -> list[str]:
    """ffmpeg: fragmented MP4 (the source feed) on stdin, H.264 fragmented MP4 on stdout.

    Decoded on one thread: frame threading would hold back a frame per thread (latency); the stream copy
    of the audio keeps the camera's sound as the source feed carries it. ``-force_key_frames`` makes a
    keyframe every ``keyframe_seconds`` of the camera's own timestamps (``-g`` of the frame rate, for any
    frame rate the camera has), so a viewer joins within a second.
    """
    return [
        ffmpeg,
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-nostdin",
        "-fflags",
        "+nobuffer",
        "-probesize",
        "32",
        "-analyzeduration",
        "0",
        "-threads",
        "1",
        "-f",
        "mov",
        "-i",
        "pipe:0",
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-tune",
        "zerolatency",
        "-pix_fmt",
        "yuv420p",
        "-force_key_frames",
        f"expr:gte(t,n_forced*{keyframe_seconds:g})",
        "-c:a",
        "copy",
        "-f",
        "mp4",
        "-movflags",
        LIVE_FMP4,
        "-flush_packets",
        "1",
        "pipe:1",
    ]


class H264Transcode:
    """One camera's H.264 variant: ``start(init)``, then ``feed(fragment)`` for each source fragment;
    ``on_piece`` gets the transcode's ``fmp4.Init`` and ``fmp4.Fragment`` s (in ffmpeg's reader thread);
    ``stop()`` ends it. ``process`` is the ffmpeg (one per camera: the tests count them)."""

    def __init__(
        self,
        *,
        on_piece: Callable[[fmp4.Init | fmp4.Fragment], None],
        on_end: Callable[[], None] | None = None,
        ffmpeg: str = "ffmpeg",
        queue_bytes: int = QUEUE_BYTES,
        max_lag: float = MAX_LAG,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.on_piece = on_piece
        self.on_end = on_end or (lambda: None)
        self.ffmpeg = ffmpeg
        self.queue_bytes = queue_bytes
        self.max_lag = max_lag
        self.clock = clock
        self.process: subprocess.Popen | None = None
        self.dropped = 0  # source fragments dropped because ffmpeg fell behind
        self._queue: collections.deque[tuple[bytes, bool, float]] = collections.deque()  # data, keyframe, queued at
        self._queued = 0
        self._skipping = False  # dropping until the next keyframe
        self._cond = threading.Condition()
        self._stopped = False
        self._threads: list[threading.Thread] = []
        self._stderr: collections.deque[str] = collections.deque(maxlen=10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, init: bytes, fragments: Iterable[tuple[bytes, bool]] = ()) -> H264Transcode:
        """Start ffmpeg on the source's init segment and the fragments since its last keyframe."""
        self.process = subprocess.Popen(  # noqa: S603
            transcode_args(ffmpeg=self.ffmpeg),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._queue.append((init, True, float("inf")))  # the init segment is never dropped
        self._queued = len(init)
        for data, keyframe in fragments:
            self.feed(data, keyframe=keyframe)
        for target, name in ((self._write, "writer"), (self._read, "reader"), (self._drain, "stderr")):
            thread = threading.Thread(target=target, name=f"h264-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def feed(self, data: bytes, *, keyframe: bool) -> None:
        """Queue one source fragment. Never blocks: past ``queue_bytes``, or when ffmpeg has not taken a
        fragment within ``max_lag`` seconds (the machine cannot keep up), it skips to the next keyframe,
        so the H.264 picture stays live (with gaps) instead of falling further and further behind."""
        with self._cond:
            if self._stopped:
                return
            if self._skipping and not keyframe:
                self.dropped += 1
                return
            if self._queued + len(data) > self.queue_bytes:
                self._skipping = True
                self.dropped += 1
                return
            self._skipping = False
            self._queue.append((data, keyframe, self.clock()))
            self._queued += len(data)
            self._cond.notify()

    def _write(self) -> None:
        stdin = self.process.stdin
        try:
            while True:
                with self._cond:
                    while not self._queue and not self._stopped:
                        self._cond.wait(0.5)
                    if self._stopped:
                        return
                    data, keyframe, queued_at = self._queue.popleft()
                    self._queued -= len(data)
                    late = self.clock() - queued_at > self.max_lag
                    if late and (not keyframe or any(later for _, later, _ in self._queue)):
                        self._skip_to_keyframe()  # a newer keyframe waits, or this is no start at all
                        continue
                stdin.write(data)
                stdin.flush()
        except (OSError, ValueError):
            return
        finally:
            with contextlib.suppress(OSError, ValueError):
                stdin.close()

    def _skip_to_keyframe(self) -> None:
        """Drop the queued fragments up to the next keyframe (the caller holds the lock)."""
        self.dropped += 1
        while self._queue and not self._queue[0][1]:
            data, _, _ = self._queue.popleft()
            self._queued -= len(data)
            self.dropped += 1
        if not self._queue:
            self._skipping = True  # and what comes until the next keyframe

    def _read(self) -> None:
        try:
            for piece in fmp4.split(self.process.stdout):
                self.on_piece(piece)
        except (fmp4.Fmp4Error, OSError, ValueError):
            pass
        finally:
            if not self._stopped:
                self.on_end()

    def _drain(self) -> None:
        for raw in self.process.stderr:
            line = raw.decode(errors="replace").strip()
            if line:
                self._stderr.append(line)

    def error(self) -> str:
        return self._stderr[-1] if self._stderr else ""

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._queued = 0
            self._cond.notify_all()
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.kill()  # a live transcode has nothing to finish: its viewers are gone
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=timeout)


# --- the live server's variant "h264" (workers.live.register_variant) ------------------------------------


class TranscodeJob:
    """The variant "h264" of one camera on one hub: a thread reads the camera's source feed (a
    ``FeedReader``, bounded like a viewer's queue) and runs one ``H264Transcode`` per run of the source
    (a recorder restart restarts it on the new init), publishing its output as ``out``. A source that is
    H.264 already is passed through as it is (no decode)."""

    def __init__(self, hub: live.LiveHub, camera_id: int, source: live.FeedSource, *, ffmpeg: str = "ffmpeg") -> None:
        self.hub = hub
        self.camera_id = camera_id
        self.source = source
        self.ffmpeg = ffmpeg
        self.out = live.FeedSource()
        self.transcodes = 0  # ffmpeg processes started (one per source run)
        self.transcode: H264Transcode | None = None
        self._reader: live.FeedReader | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, name=f"h264-{camera_id}", daemon=True)

    def start(self) -> TranscodeJob:
        self.hub.publish(self.camera_id, self.out, variant=VARIANT)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._lock:
            reader = self._reader
        if reader is not None:
            reader.close()
        self._end_run()
        self._thread.join(timeout=timeout)
        self.hub.unpublish(self.camera_id, variant=VARIANT, source=self.out)

    def _pump(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if self._stop.is_set():
                    return
                self._reader = reader = self.source.reader()
            passthrough = False
            try:
                for kind, data in reader:
                    if kind == "init":
                        self._end_run()
                        init = fmp4.parse_init(data)
                        passthrough = init.meta()["video"] == "h264"
                        self.out.begin()
                        if passthrough:
                            self.out.push(init)
                        else:
                            self._start_run(data)
                    elif kind in ("key", "fragment"):
                        keyframe = kind == "key"
                        if passthrough:
                            self.out.push(fmp4.Fragment(data=data, keyframe=keyframe, video=True))
                        elif self.transcode is not None:
                            self.transcode.feed(data, keyframe=keyframe)
                    elif kind == "end":
                        break
            finally:
                reader.close()
                self._end_run()

    def _start_run(self, init: bytes) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            self.transcode = H264Transcode(on_piece=self.out.push, ffmpeg=self.ffmpeg).start(init)
            self.transcodes += 1

    def _end_run(self) -> None:
        with self._lock:
            transcode, self.transcode = self.transcode, None
        if transcode is not None:
            transcode.stop()
        if self.out.snapshot().running:
            self.out.end()


_jobs: dict[tuple[int, int], TranscodeJob] = {}
_jobs_lock = threading.Lock()


def start_variant(hub: live.LiveHub, camera_id: int) -> None:
    """The first "h264" viewer of the camera arrived: start its one transcode (none if it runs already)."""
    source = hub.source(camera_id)
    if source is None:
        return  # not recorded by this worker: the viewer hears camera-offline after the hub's grace
    key = (id(hub), camera_id)
    with _jobs_lock:
        if key in _jobs:
            return
        _jobs[key] = TranscodeJob(hub, camera_id, source).start()
    if hub.subscribers(camera_id, VARIANT) == 0:
        stop_variant(hub, camera_id)  # the viewer left while this started (the hub's stop ran first)


def stop_variant(hub: live.LiveHub, camera_id: int) -> None:
    """The last "h264" viewer left (or the hub closes): stop the camera's transcode."""
    with _jobs_lock:
        job = _jobs.pop((id(hub), camera_id), None)
    if job is not None:
        job.stop()


def jobs() -> list[TranscodeJob]:
    with _jobs_lock:
        return list(_jobs.values())


def register() -> None:
    """Offer the variant "h264" on every live hub of this process (the ingest process calls it)."""
    live.register_variant(VARIANT, start=start_variant, stop=stop_variant)
