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


@dataclass(frozen=True)
class Frame:
    index: int
    time: float  # seconds: wall clock (epoch) for live sources, position in the file for files
    image: np.ndarray  # H×W uint8, grey


class FrameSourceError(RuntimeError):
    pass


def _input_args(url: str, io_timeout: float) -> list[str]:
    if url.startswith(("rtsp://", "rtsps://")):
        return ["-rtsp_transport", "tcp", "-timeout", str(int(io_timeout * 1_000_000)), "-i", url]
    return ["-i", url]


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
        self.live = url.startswith(("rtsp://", "rtsps://"))
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
        self._process = subprocess.Popen(  # noqa: S603
            self.args(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
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
            raise FrameSourceError(self._stderr.decode(errors="replace").strip() or f"no frames from {self.url}")

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
    cmd = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        *_input_args(url, min(timeout, 5.0)),
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
        raise SnapshotError(f"no picture from {url} within {timeout}s") from exc
    if result.returncode != 0 or not result.stdout.startswith(b"\xff\xd8"):
        raise SnapshotError(result.stderr.decode(errors="replace").strip() or f"no picture from {url}")
    return result.stdout
