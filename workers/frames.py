"""Low-rate, low-resolution grey frames from an RTSP URL or a file, and JPEG snapshots.

Motion detection needs a few small frames a second, not the camera's full stream, so one ffmpeg
child decodes, drops frames (``fps``) and scales down before anything reaches Python: the numpy
array per frame is W×H bytes. This is the only place in the pipeline that decodes video; recording,
clips and live view copy the camera's packets untouched.

Decoding is what costs (a 1080p30 stream decoded in full is ~20× its stream copy), so a source can
decode its **keyframes only** (``keyframes_only``): the decoder skips every other frame before doing
any work (``-skip_frame nokey``, one thread, no deblocking), and the frames come at the camera's
keyframe interval (GOP) instead of ``fps``: one every 2 s for a camera with a 2 s GOP.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from workers import netpolicy
from workers.redaction import redact, url_secrets


@dataclass(frozen=True)
class Frame:
    index: int
    time: float  # seconds: wall clock (epoch) for live sources, position in the file for files
    image: np.ndarray  # H×W uint8, grey (H×W×3 BGR from a colour source)


class FrameSourceError(RuntimeError):
    pass


def _input_args(url: str, io_timeout: float) -> list[str]:
    """A camera URL through the outbound-connection policy (checked now, pinned to the checked address,
    camera protocols only); a path without a scheme is one of the portal's own files (``file`` only)."""
    return netpolicy.ffmpeg_input(url, io_timeout=io_timeout)


def _error_text(url: str, stderr: bytes, fallback: str) -> str:
    return redact(stderr.decode(errors="replace").strip() or fallback, url_secrets(url))


class FrameSource:
    """Iterate ``Frame`` objects from ``url`` (RTSP or a file) at ``fps``, scaled to ``width``×``height``.

    ``height=0`` keeps the source's aspect ratio (asked once with ffprobe before starting).
    Live sources are stamped with ``clock()`` when the frame arrives; files with their position
    (index / fps, or with ``keyframes_only`` the keyframes' own times), so a file replays the same way
    on every machine. ``close()`` (or leaving the ``with`` block) stops the ffmpeg child; iteration
    ends when the stream ends.
    """

    def __init__(
        self,
        url: str,
        *,
        fps: float = 5.0,
        width: int = 640,
        height: int = 360,
        io_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        ffmpeg: str = "ffmpeg",
        keyframes_only: bool = False,
        colour: bool = False,
    ) -> None:
        self.url = url
        self.fps = fps
        self.keyframes_only = keyframes_only
        self.colour = colour  # BGR frames (H×W×3), good for a thumbnail too; grey otherwise
        self.width = width
        self.height = height
        self.io_timeout = io_timeout
        self.clock = clock
        self.ffmpeg = ffmpeg
        self.live = netpolicy.has_scheme(url)
        self._process: subprocess.Popen | None = None
        self._stderr = b""

    def args(self) -> list[str]:
        if self.keyframes_only:
            # Decoder options before the input: skip non-keyframes unread, one thread (frame threads would
            # only hold keyframes back), no deblocking (motion needs shapes, not a clean picture). No fps
            # filter: it would repeat each keyframe to fill the rate; every decoded frame goes out as it is.
            decode = ["-threads", "1", "-skip_frame", "nokey", "-skip_loop_filter", "all"]
            # -flush_packets: each frame leaves at once (the pipe's 32 KiB buffer would hold a frame's tail
            # back until the next keyframe, two seconds late).
            video = [
                "-vf",
                f"scale={self.width}:{self.height}:flags=area",
                "-fps_mode",
                "passthrough",
                "-flush_packets",
                "1",
            ]
        else:
            decode = []
            video = ["-vf", f"fps={self.fps},scale={self.width}:{self.height}:flags=area"]
        return [
            self.ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            *decode,
            *_input_args(self.url, self.io_timeout),
            "-map",
            "0:v:0",
            *video,
            "-pix_fmt",
            "bgr24" if self.colour else "gray",
            "-f",
            "rawvideo",
            "pipe:1",
        ]

    def _source_height(self) -> int:
        """The height that keeps the source's aspect at ``width`` (even), from ffprobe; 3:4 of it if unknown."""
        try:
            result = subprocess.run(  # noqa: S603
                [
                    self.ffmpeg.replace("ffmpeg", "ffprobe"),
                    "-v",
                    "error",
                    *_input_args(self.url, self.io_timeout),
                    "-select_streams",
                    "v:0",
                    "-show_entries",
                    "stream=width,height",
                    "-of",
                    "csv=p=0",
                ],
                capture_output=True,
                text=True,
                timeout=max(10.0, 3 * self.io_timeout),
                check=False,
            )
            w, h = (int(v) for v in result.stdout.strip().splitlines()[0].split(",")[:2])
            return max(2, round(self.width * h / w / 2) * 2)
        except (subprocess.TimeoutExpired, ValueError, IndexError, ZeroDivisionError):
            return max(2, self.width * 3 // 4 // 2 * 2)

    def _file_times(self) -> list[float]:
        """A file's keyframe times, from its packets' flags (ffprobe demuxes, decodes nothing)."""
        result = subprocess.run(  # noqa: S603
            [
                self.ffmpeg.replace("ffmpeg", "ffprobe"),
                "-v",
                "error",
                *_input_args(self.url, self.io_timeout),
                "-select_streams",
                "v:0",
                "-show_entries",
                "packet=pts_time,flags",
                "-of",
                "csv=p=0",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        times = []
        for line in result.stdout.splitlines():
            pts, _, flags = line.partition(",")
            if "K" in flags:
                try:
                    times.append(float(pts))
                except ValueError:
                    continue
        return sorted(times)

    def __iter__(self) -> Iterator[Frame]:
        try:
            if not self.height:
                self.height = self._source_height()
            args = self.args()
        except netpolicy.Refused as exc:
            raise FrameSourceError(f"refused: {redact(exc.message, url_secrets(self.url))}") from None
        self._process = subprocess.Popen(  # noqa: S603
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        threading.Thread(target=self._drain_stderr, args=(self._process,), daemon=True).start()
        depth = 3 if self.colour else 1
        frame_bytes = self.width * self.height * depth
        key_times = self._file_times() if self.keyframes_only and not self.live else []
        index = 0
        try:
            while True:
                data = self._read_exact(frame_bytes)
                if data is None:
                    break
                shape = (self.height, self.width, 3) if self.colour else (self.height, self.width)
                image = np.frombuffer(data, dtype=np.uint8).reshape(shape)
                if self.live:
                    stamp = self.clock()
                elif self.keyframes_only:
                    stamp = key_times[index] if index < len(key_times) else (key_times or [0.0])[-1]
                else:
                    stamp = index / self.fps
                yield Frame(index=index, time=stamp, image=image)
                index += 1
        finally:
            self.close()
        if index == 0:
            raise FrameSourceError(_error_text(self.url, self._stderr, f"no frames from {self.url}"))

    def _read_exact(self, size: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < size:
            chunk = self._process.stdout.read(size - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def _drain_stderr(self, process: subprocess.Popen) -> None:
        self._stderr = process.stderr.read()[-4000:]

    def close(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=5)

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SnapshotError(RuntimeError):
    pass


def grab_snapshot(
    url: str, *, width: int | None = None, timeout: float = 10.0, quality: int = 4, ffmpeg: str = "ffmpeg"
) -> bytes:
    """One JPEG of the camera's current picture (or a file's first frame); optionally ``width`` pixels wide.

    Raises SnapshotError on a dead camera within ``timeout`` seconds, never hangs.
    """
    vf = ["-vf", f"scale={width}:-2"] if width else []
    try:
        source = _input_args(url, min(timeout, 5.0))
    except netpolicy.Refused as exc:
        raise SnapshotError(f"refused: {redact(exc.message, url_secrets(url))}") from None
    cmd = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        *source,
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        *vf,
        "-q:v",
        str(quality),
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "pipe:1",
    ]
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise SnapshotError(redact(f"no picture from {url} within {timeout}s", url_secrets(url))) from exc
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        raise SnapshotError(_error_text(url, result.stderr, f"no picture from {url}"))
    return result.stdout


# --- keyframes from the recording's own ffmpeg ------------------------------------------------------


class KeyframeTap:
    """The keyframes of a camera's recording ffmpeg, for motion: one camera connection, not two.

    The recorder's ffmpeg (workers.segmenter) stream-copies the camera into segments and, as a second
    output of the same input, decodes the keyframes only (``input_args``: the decoder skips every other
    frame unread; the copy output does not decode, so it keeps every packet) and writes them small, in
    colour, as YUV4MPEG to its stdout (``output_args``; the stream's header says the picture size, so
    nothing has to ask the camera first). ``feed`` reads that pipe in the recorder's own thread, always at
    once, and keeps only the newest ``buffer`` frames: a motion detector that falls behind loses
    keyframes (counted in ``dropped``), never blocks ffmpeg, so it can never stall the recording.

    ``subscribe()`` is the motion side: a frame source like ``FrameSource`` (``with … as frames``, ``for
    frame in frames``, ``close()``) that joins the ffmpeg run going on (or waits for the next one) and ends
    when that run ends (the recorder restarts ffmpeg itself after an outage).
    """

    def __init__(self, *, width: int = 480, buffer: int = 2, clock: Callable[[], float] = time.time) -> None:
        self.width = width
        self.clock = clock
        self.dropped = 0
        self.received = 0
        self._frames: deque[tuple[int, float, bytes]] = deque(maxlen=buffer)
        self._cond = threading.Condition()
        self._run = 0  # the number of the ffmpeg run feeding now (or last)
        self._active = False
        self._started = 0.0  # monotonic: when the current run began
        self.size: tuple[int, int] = (0, 0)  # width, height of the current run's frames

    def input_args(self) -> list[str]:
        """Decoder options, before ``-i``: keyframes only, one thread, no deblocking (as ``FrameSource``)."""
        return ["-threads", "1", "-skip_frame", "nokey", "-skip_loop_filter", "all"]

    def output_args(self) -> list[str]:
        """The second output: each decoded keyframe scaled down (aspect kept), at once, to stdout."""
        return [
            "-map",
            "0:v:0",
            "-vf",
            f"scale={self.width}:-2:flags=area",
            "-fps_mode",
            "passthrough",
            "-pix_fmt",
            "yuv420p",
            "-flush_packets",
            "1",
            "-f",
            "yuv4mpegpipe",
            "pipe:1",
        ]

    def feed(self, stream) -> None:  # noqa: ANN001  (a binary file object: ffmpeg's stdout)
        """Read one ffmpeg run's YUV4MPEG stream to its end (call it in a thread of its own)."""
        with self._cond:
            self._run += 1
            self._active = True
            self._started = time.monotonic()
            self._frames.clear()
            run = self._run
            self._cond.notify_all()
        try:
            header = stream.readline()
            fields = dict((f[:1], f[1:]) for f in header.decode(errors="replace").split()[1:])
            width, height = int(fields.get("W", 0)), int(fields.get("H", 0))
            if not header.startswith(b"YUV4MPEG2") or width <= 0 or height <= 0:
                return
            self.size = (width, height)
            frame_bytes = width * height * 3 // 2
            while True:
                line = stream.readline()
                if not line.startswith(b"FRAME"):
                    return
                data = stream.read(frame_bytes)
                if len(data) < frame_bytes:
                    return
                with self._cond:
                    if len(self._frames) == self._frames.maxlen:
                        self.dropped += 1
                    self._frames.append((run, self.clock(), data))
                    self.received += 1
                    self._cond.notify_all()
        except (OSError, ValueError):
            return
        finally:
            with self._cond:
                if self._run == run:
                    self._active = False
                self._cond.notify_all()

    def subscribe(self, stop: threading.Event | None = None) -> TapSubscription:
        """A watch that ends with the ffmpeg run it joined, on ``close()``, or once ``stop`` is set."""
        return TapSubscription(self, stop)


class TapSubscription:
    """One motion watch on a ``KeyframeTap``: frames of one ffmpeg run, BGR at the tap's width."""

    CONNECT_GRACE = 10.0  # seconds a new run may take to its first keyframe (as FrameSource's watchdog)

    def __init__(self, tap: KeyframeTap, stop: threading.Event | None = None) -> None:
        self.tap = tap
        self.stop = stop or threading.Event()
        self.keyframes_only = True
        self._closed = False
        self._last = time.monotonic()

    def activity(self) -> float:
        """Monotonic time to count a keyframe's absence from: the last frame or the run's start, or now
        while no run is going on (the recorder is between runs: not a camera without keyframes)."""
        tap = self.tap
        with tap._cond:
            if not tap._active:
                return time.monotonic()
            return max(self._last, tap._started + self.CONNECT_GRACE)

    def __iter__(self) -> Iterator[Frame]:
        tap = self.tap
        with tap._cond:
            while not self._done() and not tap._active:
                tap._cond.wait(0.5)
            run = tap._run
        index = 0
        while True:
            with tap._cond:
                while not self._done() and not (tap._frames and tap._frames[0][0] == run):
                    if tap._run != run or not tap._active:
                        return
                    if tap._frames:
                        tap._frames.popleft()  # an earlier run's frame
                        continue
                    tap._cond.wait(0.5)
                if self._done():
                    return
                _, stamp, data = tap._frames.popleft()
                width, height = tap.size
            self._last = time.monotonic()
            yuv = np.frombuffer(data, dtype=np.uint8).reshape(height * 3 // 2, width)
            yield Frame(index=index, time=stamp, image=cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420))
            index += 1

    def _done(self) -> bool:
        return self._closed or self.stop.is_set()

    def close(self) -> None:
        with self.tap._cond:
            self._closed = True
            self.tap._cond.notify_all()

    def __enter__(self) -> TapSubscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
