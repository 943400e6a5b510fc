"""Live view: an HLS stream made from the camera's RTSP stream by stream copy (no decode, no encode).

The playlist keeps the last ``list_size`` segments and ffmpeg deletes older ones, so the folder
stays a few seconds of video. Segments are cut on the camera's keyframes: a 2 s GOP with
``hls_time 1`` gives 2 s segments, which hls.js plays ~4 s behind real time (liveSyncDurationCount 1).
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
        for stale in [*self.out_dir.glob("seg*.ts"), self.playlist]:
            stale.unlink(missing_ok=True)  # an old playlist would show the last session's video as live
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
        if not self.running:
            return
        with contextlib.suppress(OSError):
            self.process.stdin.write(b"q")
            self.process.stdin.flush()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def error(self) -> str:
        if self.process is None or self.running or self.process.stderr is None:
            return self.refused
        return redact(self.process.stderr.read().decode(errors="replace").strip(), url_secrets(self.url))
