"""Low-rate, low-resolution grey frames from an RTSP URL or a file, and JPEG snapshots.

Motion detection needs a few small frames a second, not the camera's full stream, so one ffmpeg
child decodes, drops frames (``fps``) and scales down before anything reaches Python: the numpy
array per frame is W×H bytes. This is the only place in the pipeline that decodes video; recording,
clips and live view copy the camera's packets untouched.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from workers import netpolicy
from workers.redaction import redact, url_secrets


@dataclass(frozen=True)
class Frame:
    index: int
    time: float  # seconds: wall clock (epoch) for live sources, position in the file for files
    image: np.ndarray  # H×W uint8, grey


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

    Live sources are stamped with ``clock()`` when the frame arrives; files with their position
    (index / fps), so a file replays the same way on every machine. ``close()`` (or leaving the
    ``with`` block) stops the ffmpeg child; iteration ends when the stream ends.
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
    ) -> None:
        self.url = url
        self.fps = fps
        self.width = width
        self.height = height
        self.io_timeout = io_timeout
        self.clock = clock
        self.ffmpeg = ffmpeg
        self.live = netpolicy.has_scheme(url)
        self._process: subprocess.Popen | None = None
        self._stderr = b""

    def args(self) -> list[str]:
        return [
            self.ffmpeg,
            "-nostdin",
            "-hide_banner",
            "-loglevel",
            "error",
            *_input_args(self.url, self.io_timeout),
            "-map",
            "0:v:0",
            "-vf",
            f"fps={self.fps},scale={self.width}:{self.height}:flags=area",
            "-pix_fmt",
            "gray",
            "-f",
            "rawvideo",
            "pipe:1",
        ]

    def __iter__(self) -> Iterator[Frame]:
        try:
            args = self.args()
        except netpolicy.Refused as exc:
            raise FrameSourceError(f"refused: {redact(exc.message, url_secrets(self.url))}") from None
        self._process = subprocess.Popen(  # noqa: S603
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        threading.Thread(target=self._drain_stderr, args=(self._process,), daemon=True).start()
        frame_bytes = self.width * self.height
        index = 0
        try:
            while True:
                data = self._read_exact(frame_bytes)
                if data is None:
                    break
                image = np.frombuffer(data, dtype=np.uint8).reshape(self.height, self.width)
                stamp = self.clock() if self.live else index / self.fps
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
