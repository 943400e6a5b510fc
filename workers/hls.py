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
import json
import logging
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from workers import netpolicy
from workers.redaction import redact, url_secrets
from workers.segmenter import audio_args, video_tag_args

logger = logging.getLogger(__name__)

PLAYLIST = "index.m3u8"
FEED_INIT = "init.mp4"  # a feed stream's fMP4 segments: this init, then seg<N>.m4s
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
    for path in [*out_dir.glob("seg*.ts"), *out_dir.glob("seg*.m4s"), *out_dir.glob("*.tmp")]:
        path.unlink(missing_ok=True)
    (out_dir / FEED_INIT).unlink(missing_ok=True)
    (out_dir / PLAYLIST).unlink(missing_ok=True)


def feed_hls_args(
    *, out_dir: Path, video: str = "", segment_seconds: int = 1, list_size: int = 6, start_number: int = 0,
    ffmpeg: str = "ffmpeg",
) -> list[str]:  # fmt: skip
    """ffmpeg reading the recorder's live feed (fragmented MP4, video and the recording's sound already as
    AAC) on stdin and writing HLS by stream copy. fMP4 segments, which carry H.265 (hvc1) as well as
    H.264; ``start_number`` keeps segment numbers rising across the camera's runs."""
    return [
        ffmpeg,
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-f",
        "mp4",
        "-i",
        "pipe:0",
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-c",
        "copy",
        *video_tag_args(video),
        "-f",
        "hls",
        "-hls_time",
        str(segment_seconds),
        "-hls_list_size",
        str(list_size),
        "-hls_flags",
        "delete_segments+independent_segments+temp_file",
        "-hls_segment_type",
        "fmp4",
        "-hls_fmp4_init_filename",
        FEED_INIT,
        "-start_number",
        str(start_number),
        "-hls_segment_filename",
        str(out_dir / "seg%d.m4s"),
        str(out_dir / PLAYLIST),
    ]


@dataclass
class FeedHls:
    """One camera's live HLS made from the recorder's live feed (a workers.live.FeedSource), so the
    camera has one connection however many watch: the same interface as HlsStream.

    A thread reads the feed (a bounded FeedReader: a stalled ffmpeg loses fragments up to the next
    keyframe, never the recording) and pipes each run of the recorder into an ffmpeg of its own: a new
    run (the recorder restarted) has a new init segment, which one mp4 demuxer cannot take mid-stream.
    Between runs, and after ``stop``, the folder is empty (never stale)."""

    feed: object  # workers.live.FeedSource
    out_dir: Path
    segment_seconds: int = 1
    list_size: int = 6
    ffmpeg: str = "ffmpeg"
    process: subprocess.Popen | None = field(default=None, init=False)
    refused: str = field(default="", init=False)  # (HlsStream's interface: a feed is never refused)
    runs: int = field(default=0, init=False)  # ffmpeg runs started (one per recorder run watched)
    _reader: object = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _errors: list[str] = field(default_factory=list, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def playlist(self) -> Path:
        return self.out_dir / PLAYLIST

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> FeedHls:
        if self.running:
            return self
        self.out_dir.mkdir(parents=True, exist_ok=True)
        clear(self.out_dir)
        self._stop.clear()
        self._thread = threading.Thread(target=self._pump, name=f"hls-{self.out_dir.name}", daemon=True)
        self._thread.start()
        return self

    def wait_ready(self, timeout: float = 15.0, segments: int = 1) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                return False
            with contextlib.suppress(OSError):
                if self.playlist.read_text().count("#EXTINF") >= segments:
                    return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        self._stop.set()
        reader = self._reader
        if reader is not None:
            reader.close()  # ends the pump's iteration, which then ends its ffmpeg
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._finish()
        clear(self.out_dir)

    def error(self) -> str:
        return "; ".join(self._errors[-3:])

    def _pump(self) -> None:
        while not self._stop.is_set():
            self._reader = reader = self.feed.reader()
            video = ""
            try:
                for kind, data in reader:
                    if self._stop.is_set():
                        break
                    if kind == "meta":
                        with contextlib.suppress(ValueError, AttributeError):
                            video = str(json.loads(data).get("video", ""))
                    elif kind == "init":
                        self._finish()  # a new run: a new ffmpeg (its init cannot follow the old one's)
                        self._begin(video)
                        self._write(data)
                    elif kind in ("key", "fragment"):
                        self._write(data)
                    elif kind == "end":
                        break
            finally:
                reader.close()
                self._finish()
                clear(self.out_dir)  # between runs nothing is live

    def _begin(self, video: str) -> None:
        args = feed_hls_args(
            out_dir=self.out_dir,
            video=video,
            segment_seconds=self.segment_seconds,
            list_size=self.list_size,
            start_number=int(time.time()) % 10**9,
            ffmpeg=self.ffmpeg,
        )
        clear(self.out_dir)
        self.process = subprocess.Popen(  # noqa: S603
            args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.runs += 1

    def _write(self, data: bytes) -> None:
        process = self.process
        if process is None or process.stdin is None:
            return
        try:
            process.stdin.write(data)
            process.stdin.flush()
        except (OSError, ValueError):  # ffmpeg died: the next run's init starts another
            self._finish()

    def _finish(self) -> None:
        with self._lock:  # the pump and stop() may both end a run
            process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            process.stdin.close()  # end of input: ffmpeg writes its last segment and exits
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.returncode and process.stderr is not None:
            message = process.stderr.read().decode(errors="replace").strip()
            if message:
                self._errors.append(message[-500:])
                logger.info("live HLS from the feed: ffmpeg exited %s: %s", process.returncode, message[-300:])


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
