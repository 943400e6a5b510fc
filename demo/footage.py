"""The H.265 (HEVC) test footage: bin/setup's H.264 footage encoded once more with libx265, on first use.

Most cameras sold today send H.265, so the simulated camera has H.265 mounts too (``SimCamera(mounts=
{"cam1": hevc_footage()})``). The files are made the first time a test or bench asks for them (like
bin/setup's footage, a present file is kept) under var/media-fixtures/, by Debian's ffmpeg with libx265:

- ``vtest-hevc.mp4``: 768×576, 10 fps, 40 s, a keyframe every 2 s (as the H.264 footage: every minute and
  every 2 s segment starts on one), no B-frames, the parameter sets repeated at each keyframe as a camera
  sends them; tagged ``hvc1``. About 30 s of one core to make.
- ``vtest-1080p30-hevc.mp4``: the 1080p30 footage the same way, 30 s, for the transcode bench.

Several test processes may ask at once: one encodes (under a lock file), the others wait for it, and
the file appears under its final name only once it is whole.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "var" / "media-fixtures"
VTEST = FIXTURES / "vtest.mp4"
VTEST_1080P = FIXTURES / "vtest-1080p30.mp4"


def encode_hevc(
    source: Path, dest: Path, *, seconds: int, gop: int, preset: str = "fast", ffmpeg: str = "ffmpeg"
) -> Path:
    """``dest``: ``seconds`` of ``source``'s video as H.265 with a keyframe every ``gop`` frames (kept if present)."""
    if dest.exists():
        return dest
    if not source.exists():
        raise FileNotFoundError(f"{source} is missing: run bin/setup (it encodes the test footage once)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest.with_name(dest.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process encoding it: wait, then find it made
        if dest.exists():
            return dest
        partial = dest.with_name(f"{dest.stem}.{os.getpid()}.tmp.mp4")
        x265 = f"log-level=error:keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:repeat-headers=1"
        subprocess.run(  # noqa: S603
            [
                ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(source), "-an", "-t", str(seconds),
                "-c:v", "libx265", "-preset", preset, "-x265-params", x265, "-pix_fmt", "yuv420p",
                "-tag:v", "hvc1", "-movflags", "+faststart", str(partial),
            ],
            check=True,
            timeout=900,
        )  # fmt: skip
        partial.replace(dest)
    return dest


def hevc_footage() -> Path:
    """768×576 H.265, 10 fps, 2 s GOP, 40 s of people walking (the H.264 test footage, re-encoded once)."""
    return encode_hevc(VTEST, FIXTURES / "vtest-hevc.mp4", seconds=40, gop=20)


def hevc_footage_1080p() -> Path:
    """1920×1080 H.265, 30 fps, 2 s GOP, 30 s (the 1080p30 H.264 footage, re-encoded once: a few minutes)."""
    return encode_hevc(VTEST_1080P, FIXTURES / "vtest-1080p30-hevc.mp4", seconds=30, gop=60, preset="veryfast")
