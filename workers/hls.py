"""Live view: an HLS stream made from the camera's RTSP stream by stream copy (no decode, no encode).

The playlist keeps the last ``list_size`` segments and ffmpeg deletes older ones, so the folder
stays a few seconds of video. Segments are cut on the camera's keyframes: a 2 s GOP with
``hls_time 1`` gives 2 s segments, which hls.js plays ~4 s behind real time (liveSyncDurationCount 1).

Never stale: a stream that stops takes its playlist and segments with it (``HlsStream.stop``, and
``start`` clears what a killed process left), and the web serves a folder only while ffmpeg is
writing it (``live_playlist``: the playlist was rewritten within its target duration plus
``FRESH_SLACK`` seconds, and it lists a segment). A folder a dead worker left behind, or a stream
whose camera stopped sending, is a 404, never the last minutes' video shown as live.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from workers import netpolicy
from workers.redaction import redact, url_secrets
from workers.segmenter import audio_args

PLAYLIST = "index.m3u8"
FRESH_SLACK = 2.0  # seconds past its target duration that a live playlist may go without a new segment


def hls_args(
    *,
    url: str,
    out_dir: Path,
    segment_seconds: int = 1,
    list_size: int = 6,
    io_timeout: float = 5.0,
    ffmpeg: str = "ffmpeg",
    audio: str = "",
) -> list[str]:
    """Raises netpolicy.Refused when the outbound-connection policy refuses ``url`` now. ``audio`` is the
    recorder's plan for the camera's sound (workers.segmenter.audio_plan): "copy" (AAC), "aac" (G.711 and
    others transcoded, the video still copied) or "" (none, or video only)."""
    audio_map = ["-map", "0:a:0?"] if audio else []
    return [
        ffmpeg,
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-fflags",
        "+genpts",
        *netpolicy.ffmpeg_input(url, io_timeout=io_timeout),
        "-map",
        "0:v:0",
        *audio_map,
        *audio_args(audio),
        "-f",
        "hls",
        "-hls_time",
        str(segment_seconds),
        "-hls_list_size",
        str(list_size),
        "-hls_flags",
        "delete_segments+independent_segments+temp_file",
        "-hls_segment_filename",
        str(out_dir / "seg%06d.ts"),
        str(out_dir / PLAYLIST),
    ]


@dataclass
class HlsStream:
    """Start/stop one camera's live HLS output into ``out_dir`` (``index.m3u8`` + ``seg*.ts``)."""

    url: str
    out_dir: Path
    segment_seconds: int = 1
    list_size: int = 6
    ffmpeg: str = "ffmpeg"
    audio: str = ""  # workers.segmenter.audio_plan of the camera's sound
    process: subprocess.Popen | None = field(default=None, init=False)
    refused: str = field(default="", init=False)

    @property
    def playlist(self) -> Path:
        return self.out_dir / PLAYLIST

    def args(self) -> list[str]:
        return hls_args(
            url=self.url,
            out_dir=self.out_dir,
            segment_seconds=self.segment_seconds,
            list_size=self.list_size,
            ffmpeg=self.ffmpeg,
            audio=self.audio,
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> HlsStream:
        """Start ffmpeg; a URL the outbound-connection policy refuses now starts nothing (``refused``)."""
        if self.running:
            return self
        try:
            args = self.args()
        except netpolicy.Refused as exc:
            self.refused = redact(exc.message, url_secrets(self.url))
            return self
        self.out_dir.mkdir(parents=True, exist_ok=True)
        clear(self.out_dir)  # an old playlist would show the last session's video as live
        self.process = subprocess.Popen(  # noqa: S603
            args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return self

    def wait_ready(self, timeout: float = 15.0, segments: int = 1) -> bool:
        """True once the playlist lists ``segments`` segments; False on timeout or if ffmpeg died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return False
            if self.playlist.exists() and self.playlist.read_text().count("#EXTINF") >= segments:
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """Stop ffmpeg and delete the playlist and segments: nobody may be shown them as live later."""
        if self.running:
            with contextlib.suppress(OSError):
                self.process.stdin.write(b"q")
                self.process.stdin.flush()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        clear(self.out_dir)

    def error(self) -> str:
        if self.process is None or self.running or self.process.stderr is None:
            return self.refused
        return redact(self.process.stderr.read().decode(errors="replace").strip(), url_secrets(self.url))


def clear(out_dir: Path) -> None:
    """Delete a live folder's playlist and segments (and ffmpeg's half-written ``.tmp`` files)."""
    for path in [*out_dir.glob("seg*.ts"), *out_dir.glob("*.tmp"), out_dir / PLAYLIST]:
        path.unlink(missing_ok=True)


def _target_duration(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("#EXT-X-TARGETDURATION:"):
            with contextlib.suppress(ValueError):
                return float(line.partition(":")[2])
    return 0.0


def live_playlist(out_dir: Path, *, now: float | None = None, max_bytes: int = 64 * 1024) -> bytes | None:
    """The playlist of ``out_dir`` if it is live now, else None (the web answers 404).

    Live: ffmpeg rewrote it within its target duration + FRESH_SLACK seconds (it does on every new
    segment) and it lists at least one segment that exists. A folder whose ffmpeg died, whose camera
    stopped sending or that a killed worker left behind fails the first test within seconds."""
    path = out_dir / PLAYLIST
    now = time.time() if now is None else now
    try:
        stat = path.stat()
        if stat.st_size > max_bytes:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    text = data.decode("ascii", errors="replace")
    target = _target_duration(text)
    if not target or now - stat.st_mtime > target + FRESH_SLACK:
        return None
    listed = [line for line in text.splitlines() if line and not line.startswith("#")]
    if not listed or not (out_dir / listed[-1]).is_file():
        return None
    return data


def live_segment(out_dir: Path, name: str, *, now: float | None = None) -> Path | None:
    """Segment ``name`` of ``out_dir`` if its stream is live now (``live_playlist``), else None: the
    segments of a stopped stream are not served either, even while their files are still there."""
    path = out_dir / name
    if not path.is_file() or live_playlist(out_dir, now=now) is None:
        return None
    return path
