"""Continuous recording of an RTSP camera into wall-clock-aligned MP4 segments, by stream copy only.

``Segmenter`` runs one ffmpeg per camera that copies the camera's H.264 packets into fragmented MP4
files cut on clock boundaries (every minute in production). The video is never decoded or re-encoded
for it, so a camera costs well under 1% of a core; the camera's audio is copied too (transcoded to AAC,
audio only, when it is G.711 or another codec players cannot play). For server-side motion the same
ffmpeg also decodes the keyframes, and only those, into a second output (``workers.frames.KeyframeTap``),
so a camera has one connection and one process, not a second receive for motion.

Fragmented MP4 (``frag_keyframe+empty_moov``) means a file is
playable up to its last complete fragment at every instant: a camera or worker dying mid-minute leaves
a playable partial segment, and ``repair_fragmented_mp4`` trims a fragment cut in half by a kill.

Also here: ``probe`` (is this file a playable video, and with which codec parameters) and
``make_clip`` (an event clip with pre- and post-roll, cut out of the segments by stream copy).
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from workers import netpolicy
from workers.frames import KeyframeTap
from workers.live import FeedSource
from workers.redaction import redact, url_secrets

SEGMENT_NAME_FORMAT = "%Y%m%dT%H%M%SZ"  # strftime pattern of segment files; UTC, sorts by time
# Options of the inner MP4 muxer. flush_packets=1 writes each fragment (one GOP) to disk as soon as it is
# complete; without it a 256 KiB buffer holds several seconds that a crash would lose.
FRAGMENTED_MP4 = "movflags=+frag_keyframe+empty_moov+default_base_moof:flush_packets=1"
LIST_NAME = ".segments.csv"
# The live output (workers.live): one fragment per frame, each flushed to the pipe at once, so a viewer
# is one frame behind the camera, not one GOP; an init segment (ftyp + moov) before the first fragment.
LIVE_MOVFLAGS = "+empty_moov+default_base_moof+frag_every_frame"
LIVE_PIPE_BYTES = 1024 * 1024  # the live pipe's buffer (Linux's default unprivileged maximum)


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_segment_start(path: Path) -> datetime:
    """The wall-clock start of a segment, from its file name (written by ffmpeg's -strftime in UTC)."""
    return datetime.strptime(path.stem, SEGMENT_NAME_FORMAT).replace(tzinfo=UTC)


# --- probing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaInfo:
    """What ffprobe says about a file. ``ok`` means: a video stream, packets, and no demuxing errors."""

    ok: bool
    duration: float = 0.0
    codec: str = ""
    profile: str = ""
    level: int | None = None
    width: int = 0
    height: int = 0
    pix_fmt: str = ""
    packets: int = 0
    error: str = ""

    @property
    def codec_parameters(self) -> tuple:
        """The parameters a stream copy must preserve exactly (a re-encode would change some of them)."""
        return (self.codec, self.profile, self.level, self.width, self.height, self.pix_fmt)


def probe(path: Path | str, *, ffprobe: str = "ffprobe", timeout: float = 20.0) -> MediaInfo:
    """Check that ``path`` is a playable video file: demux every packet (cheap, no decode) and report.

    Any error ffprobe prints while reading (a truncated fragment, broken NAL units) makes it not ok:
    a file a player would choke on is not a recording.
    """
    cmd = [
        ffprobe,
        "-v",
        "error",
        "-count_packets",
        "-select_streams",
        "v:0",
        "-show_entries",
        "format=duration:stream=codec_name,profile,level,width,height,pix_fmt,nb_read_packets",
        "-of",
        "json",
        "-protocol_whitelist",
        netpolicy.FILE_PROTOCOLS,
        str(path),
    ]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        return MediaInfo(ok=False, error=f"ffprobe timed out after {timeout}s")
    error = result.stderr.strip()
    try:
        data = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        data = {}
    streams = data.get("streams") or []
    if result.returncode != 0 or not streams:
        return MediaInfo(ok=False, error=error or "no video stream")
    stream = streams[0]
    packets = int(stream.get("nb_read_packets") or 0)
    try:
        duration = float(data.get("format", {}).get("duration") or 0.0)
    except ValueError:
        duration = 0.0
    return MediaInfo(
        ok=packets > 0 and not error,
        duration=duration,
        codec=stream.get("codec_name", ""),
        profile=stream.get("profile", ""),
        level=stream.get("level"),
        width=int(stream.get("width") or 0),
        height=int(stream.get("height") or 0),
        pix_fmt=stream.get("pix_fmt", ""),
        packets=packets,
        error=error if error else ("" if packets else "no packets"),
    )


def repair_fragmented_mp4(path: Path) -> bool:
    """Trim a fragmented MP4 to its last complete fragment (moof + mdat). True when something was cut.

    A SIGKILL while ffmpeg writes a fragment leaves half a fragment at the end; everything before it
    is intact, so cutting at the last whole box boundary gives a playable file instead of losing it.
    """
    size = path.stat().st_size
    good_end = 0  # end of the last box after which the file is consistent
    pending_moof_start: int | None = None
    with path.open("rb") as f:
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            header = f.read(16)
            box_size = int.from_bytes(header[:4], "big")
            box_type = header[4:8]
            if box_size == 1 and len(header) >= 16:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8 or offset + box_size > size:
                break
            offset += box_size
            if box_type == b"moof":
                pending_moof_start = offset - box_size
            elif box_type == b"mdat":
                pending_moof_start = None
                good_end = offset
            elif pending_moof_start is None:
                good_end = offset
    if pending_moof_start is not None:
        good_end = min(good_end, pending_moof_start)
    if good_end >= size:
        return False
    with path.open("r+b") as f:
        f.truncate(good_end)
    return True


# --- continuous recording ----------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    path: Path
    start: datetime  # wall clock (UTC) when the segment began, from its file name
    duration: float  # seconds of video in the file
    size: int  # bytes
    complete: bool = True  # False: cut short by an outage or a stop (still playable)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration)


class RecorderState(StrEnum):
    STARTING = "starting"
    RECORDING = "recording"
    OUTAGE = "outage"  # the camera cannot be recorded: ffmpeg exited, refused, or stopped getting data
    STOPPED = "stopped"


@dataclass(frozen=True)
class StateChange:
    state: RecorderState
    at: datetime
    message: str = ""


# The recorder's restart rule (docs/user-guide.md, "Live view"; issue #18: the live view must resume within
# seconds of a camera coming back). After a run that recorded nothing the recorder waits 1, 2, 4 s, ...:
# - the camera is gone (refused or unanswered connection, a stall, the stream ended): at most GONE_RETRY_MAX
#   between tries, so a camera back from a reboot or a pulled cable records (and plays live) again within
#   about that long. A try at a camera whose port is closed or silent is one TCP connection attempt
#   (``Segmenter._unreachable``), no ffprobe or ffmpeg (about 0.2 s of CPU together); one that takes no
#   connection at all spends the I/O timeout per try, so its tries come further apart by themselves.
# - the camera answers, with an error (an RTSP 4xx/5xx status: a wrong password or path, a stream that does
#   not exist), or the address policy refuses the address: up to REJECTED_RETRY_MAX. Waiting does not mend
#   these; the operator's fix (new stream settings) restarts the recorder within one tick whatever the
#   delay, and many cameras lock an account out after repeated failed logins.
# The count starts again when the kind of failure changes (a rebooting camera that answers 503 before its
# encoder is ready gets 1 s, 2 s, ... again) and after any run that recorded.
GONE_RETRY_MAX = 5.0
REJECTED_RETRY_MAX = 30.0
RTSP_ERROR_ANSWER = re.compile(r"method [A-Z_]+ failed: [45]\d\d|Server returned [45](?:\d\d|XX)")


def restart_delay(
    failures: int,
    *,
    rejected: bool = False,
    initial: float = 1.0,
    factor: float = 2.0,
    gone_max: float = GONE_RETRY_MAX,
    rejected_max: float = REJECTED_RETRY_MAX,
) -> float:
    """Seconds to wait before the next try after ``failures`` failed runs in a row of one kind (1: the
    first), ``rejected`` when the camera answered with an error. Never under 1 s: a restarted ffmpeg never
    opens a file with the same second-resolution name as the partial file the previous run left."""
    cap = rejected_max if rejected else gone_max
    steps = min(max(failures, 1) - 1, 64)  # a camera gone for days must not overflow the float
    return max(1.0, min(cap, initial * factor**steps))


def rejected_by_camera(reason: str, stderr: Iterable[str]) -> bool:
    """Whether a failed run was an answer, not silence: an RTSP error status in ffmpeg's output (libavformat
    prints "method DESCRIBE failed: 401 Unauthorized", then "Server returned 404 Not Found" or "Server
    returned 5XX Server Error reply"), or the address policy's refusal (``_run_once``'s "refused: ...")."""
    if reason.startswith("refused:"):
        return True
    return any(RTSP_ERROR_ANSWER.search(line) for line in stderr)


@dataclass
class Backoff:
    """The restart delays of one recorder, by ``restart_delay`` (``maximum``: a camera that is gone;
    ``rejected_maximum``: one that answers with an error)."""

    initial: float = 1.0
    maximum: float = GONE_RETRY_MAX
    factor: float = 2.0
    rejected_maximum: float = REJECTED_RETRY_MAX
    _failures: int = field(default=0, init=False)
    _rejected: bool = field(default=False, init=False)

    def next(self, rejected: bool = False) -> float:
        if rejected != self._rejected:
            self._failures, self._rejected = 0, rejected
        self._failures += 1
        return restart_delay(
            self._failures,
            rejected=rejected,
            initial=self.initial,
            factor=self.factor,
            gone_max=self.maximum,
            rejected_max=self.rejected_maximum,
        )

    def reset(self) -> None:
        self._failures, self._rejected = 0, False


# Audio codecs that MP4 files and HLS players (browsers, hls.js) play as they are: recorded by stream copy.
# Any other (G.711 μ-law / A-law, G.726, PCM …) is transcoded to AAC; the video is never re-encoded.
AUDIO_COPY_CODECS = frozenset({"aac"})
AUDIO_BITRATE = "64k"


def audio_plan(codec: str | None) -> str:
    """How to record a camera's audio: "copy", "aac" (transcode the audio only) or "" (it has none)."""
    if not codec:
        return ""
    return "copy" if codec in AUDIO_COPY_CODECS else "aac"


def audio_args(plan: str) -> list[str]:
    """The output options of a stream-copied video with the audio as ``plan`` says (after its -map)."""
    if plan == "copy":
        return ["-c", "copy"]
    if plan == "aac":
        return ["-c:v", "copy", "-c:a", "aac", "-b:a", AUDIO_BITRATE]
    return ["-c", "copy"]


def video_tag_args(codec: str | None) -> list[str]:
    """The MP4 tag of a stream-copied video, after its codec options: H.265 as ``hvc1`` (parameter sets in
    the file's header), which Safari and the Chrome builds with HEVC play; ffmpeg's default for a copied
    camera stream, ``hev1``, Safari refuses. H.264 keeps ffmpeg's ``avc1``."""
    return ["-tag:v", "hvc1"] if codec == "hevc" else []


def probe_codecs(url: str, *, ffprobe: str = "ffprobe", io_timeout: float = 5.0) -> tuple[str, str] | None:
    """The codecs of the camera's first video and first audio stream ("" for none), from its stream
    description alone (no packets read: about one connection's time); None when it could not be asked."""
    try:
        source = netpolicy.ffmpeg_input(url, io_timeout=io_timeout)
    except netpolicy.Refused:
        return None
    cmd = [ffprobe, "-v", "error", "-analyzeduration", "0", "-probesize", "32", *source]
    cmd += ["-show_entries", "stream=codec_type,codec_name", "-of", "csv=p=0"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=3 * io_timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        return None
    found: dict[str, str] = {}
    for line in result.stdout.strip().splitlines():  # "h264,video" (ffprobe's order of the entries)
        name, _, kind = line.strip().strip(",").partition(",")
        found.setdefault(kind, name)
    return found.get("video", ""), found.get("audio", "")


def probe_audio_codec(url: str, *, ffprobe: str = "ffprobe", io_timeout: float = 5.0) -> str | None:
    """The codec of the camera's first audio stream ("" for none); None when the camera could not be asked."""
    codecs = probe_codecs(url, ffprobe=ffprobe, io_timeout=io_timeout)
    return None if codecs is None else codecs[1]


def segmenter_args(
    *,
    url: str,
    out_dir: Path,
    segment_time: int = 60,
    io_timeout: float = 5.0,
    ffmpeg: str = "ffmpeg",
    audio: str = "",
    keyframes: KeyframeTap | None = None,
    live: str = "",
    video: str = "",
) -> list[str]:
    """The ffmpeg command line of continuous recording: the video by stream copy, never a decoder or an
    encoder for it, tagged for players as its codec (``video``: "hevc" is ``hvc1``, ``video_tag_args``);
    the audio as ``audio_plan`` says ("" leaves it out). With ``keyframes``, the same
    process also decodes the keyframes for motion into a second output (``KeyframeTap``): one camera
    connection for both. The camera URL goes through the outbound-connection policy now (netpolicy.Refused)."""
    args = [ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error", "-fflags", "+genpts"]
    if keyframes is not None:
        args += keyframes.input_args()
    args += [*netpolicy.ffmpeg_input(url, io_timeout=io_timeout), "-map", "0:v:0"]
    if audio:
        args += ["-map", "0:a:0?"]
    args += [
        *audio_args(audio),
        *video_tag_args(video),
        "-f",
        "segment",
        "-segment_atclocktime",
        "1",
        "-segment_time",
        str(segment_time),
        "-reset_timestamps",
        "1",
        "-strftime",
        "1",
        "-segment_format",
        "mp4",
        "-segment_format_options",
        FRAGMENTED_MP4,
        "-segment_list",
        str(out_dir / LIST_NAME),
        "-segment_list_type",
        "csv",
        str(out_dir / f"{SEGMENT_NAME_FORMAT}.mp4"),
    ]
    if keyframes is not None:
        args += keyframes.output_args()
    if live:
        args += live_output_args(live, audio=audio, video=video)
    return args


def live_output_args(target: str, *, audio: str = "", video: str = "") -> list[str]:
    """The live output of the recorder's ffmpeg: the same stream copy (the sound as the recording's, the
    video tagged as its codec) as fragmented MP4, one fragment per frame, to ``target`` (``pipe:N``)."""
    args = ["-map", "0:v:0"]
    if audio:
        args += ["-map", "0:a:0?"]
    args += [*audio_args(audio), *video_tag_args(video), "-f", "mp4", "-movflags", LIVE_MOVFLAGS]
    return [*args, "-flush_packets", "1", target]


@dataclass(frozen=True)
class Packet:
    """A video packet as the recorder's ffmpeg handles it: when (wall clock, Unix seconds) and whether it
    is a keyframe. Only for stating the cutting rule; ffmpeg itself applies it."""

    at: float
    keyframe: bool


def clock_cuts(packets: Iterable[Packet], segment_time: int) -> list[int]:
    """The indices of the packets that start a new file under ``-segment_atclocktime``.

    ffmpeg's segment muxer (libavformat/segment.c) reads the wall clock on every packet it handles; when
    the clock's position in the ``segment_time`` grid is lower than at the previous packet, a boundary
    has passed and a cut is pending, made at the next keyframe, which opens the new file (named by the
    second it is handled). Hence the alignment the product promises (docs/user-guide.md): a file starts at
    the first keyframe handled after its boundary, less than one keyframe interval late while video flows
    evenly, later by as long as the video paused around the boundary; a pause over several boundaries
    makes one cut, and the first packet never cuts.
    """
    cuts: list[int] = []
    pending = False
    last_position = 0.0
    for index, packet in enumerate(packets):
        position = packet.at % segment_time
        if position < last_position:
            pending = True
        last_position = position
        if pending and packet.keyframe:
            cuts.append(index)
            pending = False
    return cuts


class Segmenter:
    """Keeps one camera recorded: runs ffmpeg, reports each finished segment, restarts after outages.

    ``run(stop)`` blocks until ``stop`` is set. ``on_segment`` gets every segment file once, complete
    or (after an outage or stop) partial-but-playable; a file that cannot be made playable is deleted
    and never reported, so the caller's index always matches the files. ``on_state`` gets each state
    transition once (recording → outage → recording …), with ffmpeg's last error as the message.
    """

    def __init__(
        self,
        *,
        url: str,
        out_dir: Path,
        on_segment: Callable[[Segment], None],
        on_state: Callable[[StateChange], None] | None = None,
        segment_time: int = 60,
        stall_timeout: float = 10.0,
        connect_timeout: float = 15.0,
        io_timeout: float = 5.0,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        poll_interval: float = 0.2,
        ffmpeg: str = "ffmpeg",
        ffprobe: str = "ffprobe",
        audio: bool = False,
        keyframes: KeyframeTap | None = None,
        live: FeedSource | None = None,
    ) -> None:
        self.url = url
        self.out_dir = Path(out_dir)
        self.on_segment = on_segment
        self.on_state = on_state or (lambda change: None)
        self.segment_time = segment_time
        self.stall_timeout = stall_timeout
        self.connect_timeout = connect_timeout
        self.io_timeout = io_timeout
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.now = now
        self.poll_interval = poll_interval
        self.ffmpeg = ffmpeg
        self.ffprobe = ffprobe
        self.audio = audio  # record the camera's audio (copied, or transcoded to AAC when players need it)
        self.audio_plan: str | None = None  # as chosen for the camera's codec; None: not asked yet
        self.video_codec: str | None = None  # the camera's ("h264", "hevc"), asked with the audio; None: not yet
        self.keyframes = keyframes
        self.live = live  # gets each run's live output (fMP4 on a pipe of its own), read always
        self.state = RecorderState.STOPPED
        self.runs = 0
        self.process: subprocess.Popen | None = None
        self._reported: set[str] = set()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)

    def args(self, live_fd: int | None = None) -> list[str]:
        return segmenter_args(
            url=self.url,
            out_dir=self.out_dir,
            segment_time=self.segment_time,
            io_timeout=self.io_timeout,
            ffmpeg=self.ffmpeg,
            audio=self.audio_plan or "",
            keyframes=self.keyframes,
            live=f"pipe:{live_fd}" if live_fd is not None else "",
            video=self.video_codec or "",
        )

    def _choose_audio(self) -> None:
        """Ask the camera for its video and audio codecs once (again after a run that recorded nothing: the
        camera may have been reconfigured); a camera that cannot be asked is recorded without audio, and
        its video untagged (ffmpeg's default), this run."""
        if not self.audio:
            self.audio_plan = ""
        if self.audio_plan is None or self.video_codec is None:
            codecs = probe_codecs(self.url, ffprobe=self.ffprobe, io_timeout=self.io_timeout)
            if codecs is not None:
                self.video_codec = codecs[0]
                if self.audio_plan is None:
                    self.audio_plan = audio_plan(codecs[1])

    # The loop --------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._set_state(RecorderState.STARTING)
        while not stop.is_set():
            reason = self._run_once(stop)
            if stop.is_set():
                break
            self._set_state(RecorderState.OUTAGE, reason)
            stop.wait(self.backoff.next(rejected=rejected_by_camera(reason, list(self._stderr))))
        self._set_state(RecorderState.STOPPED)

    def _run_once(self, stop: threading.Event) -> str:
        """One ffmpeg run, from start to exit. Returns why it ended (unless ``stop`` ended it)."""
        self.runs += 1
        list_path = self.out_dir / LIST_NAME
        list_path.unlink(missing_ok=True)
        before = {p.name for p in self.out_dir.glob("*.mp4")}
        self._stderr.clear()
        gone = self._unreachable()
        if gone:
            return gone
        self._choose_audio()
        live_read, live_write = os.pipe() if self.live is not None else (None, None)
        if live_write is not None:
            # Room for a few seconds of video in the pipe itself: a reader thread held up for a moment (a
            # busy machine) must not hold up ffmpeg, whose recording waits on every output.
            with contextlib.suppress(OSError):
                fcntl.fcntl(live_write, fcntl.F_SETPIPE_SZ, LIVE_PIPE_BYTES)
        started_process = None
        try:
            args = self.args(live_fd=live_write)  # every (re)start checks the camera's address again
            self.process = subprocess.Popen(  # noqa: S603
                args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE if self.keyframes is not None else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env={**os.environ, "TZ": "UTC"},  # file names are UTC wall-clock times
                pass_fds=(live_write,) if live_write is not None else (),  # the live output's pipe
            )
            started_process = self.process
        except netpolicy.Refused as exc:
            return f"refused: {redact(exc.message, url_secrets(self.url))}"
        finally:
            if live_write is not None:
                os.close(live_write)  # ffmpeg holds the only write end: its exit is the reader's EOF
            if live_read is not None and started_process is None:
                os.close(live_read)
        reader = threading.Thread(target=self._read_stderr, args=(self.process,), daemon=True)
        reader.start()
        tap_reader = None
        if self.keyframes is not None:  # read at once, always: a full pipe would stall the recording
            tap_reader = threading.Thread(target=self.keyframes.feed, args=(self.process.stdout,), daemon=True)
            tap_reader.start()
        live_reader = None
        if live_read is not None:  # read at once, always, like the keyframes
            live_reader = threading.Thread(target=self._read_live, args=(live_read,), daemon=True)
            live_reader.start()
        recorded = False
        list_offset = 0
        started = self.clock()
        last_growth = started
        last_progress: tuple[str, int] = ("", 0)
        reason = ""
        try:
            while True:
                if stop.wait(self.poll_interval):
                    break
                code = self.process.poll()
                if code is not None:
                    reason = self._last_error() or f"ffmpeg exited with status {code} (stream ended)"
                    break
                list_offset = self._collect_listed(list_offset)
                current = self._newest_file(exclude=before)
                progress = (current.name, self._size(current)) if current else ("", 0)
                if progress != last_progress:
                    last_progress, last_growth = progress, self.clock()
                    if progress[1] > 0 and self.state != RecorderState.RECORDING:
                        recorded = True
                        self.backoff.reset()
                        self._set_state(RecorderState.RECORDING)
                idle = self.clock() - last_growth
                limit = self.stall_timeout if self.state == RecorderState.RECORDING else self.connect_timeout
                if idle > limit:
                    reason = self._last_error() or f"no video data for {idle:.0f} s"
                    break
        finally:
            self._end_process(graceful=stop.is_set())
            reader.join(timeout=2)
            if tap_reader is not None:
                tap_reader.join(timeout=2)
            if live_reader is not None:
                live_reader.join(timeout=2)
            if not recorded:
                self.audio_plan = None if self.audio else ""
                self.video_codec = None
            self._collect_listed(list_offset, final=True)
            self._collect_leftovers(exclude=before)
        return reason

    def _unreachable(self) -> str:
        """Why the camera cannot be connected to at all (its port refuses, or no connection within the I/O
        timeout), or "" (it takes a connection, or it is not a network URL). Asked before each run, so a
        try at a camera that is gone is one TCP connection attempt, not an ffprobe and an ffmpeg (about
        0.2 s of CPU): the restart rule can try such a camera every few seconds. The connection goes only
        to the addresses the policy checked; a refusal by the policy is left to the run to report."""
        if not netpolicy.has_scheme(self.url):
            return ""
        try:
            target = netpolicy.current().connect(self.url, schemes=netpolicy.STREAM_SCHEMES)
        except netpolicy.Refused:
            return ""
        error: OSError | None = None
        for address in target.addresses:
            try:
                with socket.create_connection((address, target.port), timeout=self.io_timeout):
                    return ""
            except OSError as exc:
                error = exc
        reason = getattr(error, "strerror", None) or error or "no address"
        return f"cannot connect to {target.host}:{target.port}: {reason}"

    def _read_live(self, fd: int) -> None:
        with open(fd, "rb") as stream:
            self.live.feed(stream)

    def _end_process(self, *, graceful: bool) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        if graceful:
            # "q" lets ffmpeg finish the current segment cleanly and list it.
            with contextlib.suppress(OSError):
                process.stdin.write(b"q")
                process.stdin.flush()
            try:
                process.wait(timeout=5)
                return
            except subprocess.TimeoutExpired:
                pass
        process.kill()
        process.wait(timeout=5)

    # Reporting ------------------------------------------------------------------------------

    def _collect_listed(self, offset: int, *, final: bool = False) -> int:
        """Report segments ffmpeg has closed (it appends one CSV line per closed file); returns the new offset.

        While ffmpeg runs, a listed file counts as complete only once the next file exists: ffmpeg also
        lists the file it closes early on its way out (camera gone, "q"), and that one is partial.
        With ``final`` (ffmpeg has exited), the last listed file is that early-closed one.
        """
        list_path = self.out_dir / LIST_NAME
        try:
            with list_path.open("rb") as f:
                f.seek(offset)
                chunk = f.read()
        except FileNotFoundError:
            return offset
        lines = chunk[: chunk.rfind(b"\n") + 1].splitlines(keepends=True)
        newest = self._newest_file(exclude=set())
        for i, line in enumerate(lines):
            name = Path(line.decode().split(",", 1)[0].strip()).name
            if not final and (newest is None or newest.name <= name):
                break  # no newer file yet: could be an exit, decide later
            offset += len(line)
            if name:
                self._report(self.out_dir / name, complete=not (final and i == len(lines) - 1))
        return offset

    def _collect_leftovers(self, *, exclude: set[str]) -> None:
        """After ffmpeg ended: keep the partial file if it plays (trimming a torn fragment), else delete it."""
        for path in sorted(self.out_dir.glob("*.mp4")):
            if path.name in exclude or path.name in self._reported:
                continue
            info = probe(path, ffprobe=self.ffprobe)
            if not info.ok and path.stat().st_size > 0 and repair_fragmented_mp4(path):
                info = probe(path, ffprobe=self.ffprobe)
            if info.ok:
                self._report(path, complete=False, info=info)
            else:
                path.unlink(missing_ok=True)
                self._reported.add(path.name)

    def _report(self, path: Path, *, complete: bool, info: MediaInfo | None = None) -> None:
        if path.name in self._reported or not path.exists():
            return
        self._reported.add(path.name)
        info = info or probe(path, ffprobe=self.ffprobe)
        if not info.ok:
            # Listed as closed yet unreadable: never index a file a player cannot play.
            if repair_fragmented_mp4(path):
                info = probe(path, ffprobe=self.ffprobe)
            if not info.ok:
                path.unlink(missing_ok=True)
                return
        segment = Segment(
            path=path,
            start=parse_segment_start(path),
            duration=info.duration,
            size=path.stat().st_size,
            complete=complete,
        )
        self.on_segment(segment)

    # Helpers ----------------------------------------------------------------------------------

    def _newest_file(self, *, exclude: set[str]) -> Path | None:
        candidates = [p for p in self.out_dir.glob("*.mp4") if p.name not in exclude]
        return max(candidates, key=lambda p: p.name) if candidates else None

    @staticmethod
    def _size(path: Path) -> int:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return 0

    def _read_stderr(self, process: subprocess.Popen) -> None:
        for raw in process.stderr:
            line = raw.decode(errors="replace").strip()
            if line:
                self._stderr.append(line)

    def _last_error(self) -> str:
        """ffmpeg's last error line, without the camera's credentials (it prints the URL in full)."""
        return redact(self._stderr[-1], url_secrets(self.url)) if self._stderr else ""

    def _set_state(self, state: RecorderState, message: str = "") -> None:
        if state == self.state:
            return
        self.state = state
        self.on_state(StateChange(state=state, at=self.now(), message=message))

    def current_file(self) -> Path | None:
        """The file being written now (retention must never delete it)."""
        if self.state != RecorderState.RECORDING:
            return None
        return self._newest_file(exclude=self._reported)


class SegmenterThread:
    """Convenience: run a Segmenter in a daemon thread with its own stop event."""

    def __init__(self, segmenter: Segmenter) -> None:
        self.segmenter = segmenter
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=segmenter.run, args=(self.stop_event,), daemon=True)

    def start(self) -> SegmenterThread:
        self.thread.start()
        return self

    def stop(self, timeout: float = 20.0) -> None:
        self.stop_event.set()
        self.thread.join(timeout=timeout)


# --- event clips -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    path: Path
    start: datetime  # approximate wall-clock start (the cut snaps back to the keyframe before)
    duration: float
    size: int


class ClipError(RuntimeError):
    pass


def covering_segments(segments: Sequence[Segment], start: datetime, end: datetime) -> list[Segment]:
    return sorted((s for s in segments if s.start < end and s.end > start), key=lambda s: s.start)


def make_clip(
    *,
    segments: Sequence[Segment],
    event_start: datetime,
    event_end: datetime,
    out_path: Path,
    pre_roll: float = 5.0,
    post_roll: float = 5.0,
    ffmpeg: str = "ffmpeg",
    ffprobe: str = "ffprobe",
    timeout: float = 60.0,
) -> Clip:
    """Cut [event_start - pre_roll, event_end + post_roll] out of the recorded segments by stream copy.

    The concat demuxer joins the covering files and the cut snaps back to the keyframe before the
    requested start, so the pre-roll is never shorter than asked. Gaps (an outage) are joined over.
    An H.265 recording gives an ``hvc1`` clip (``video_tag_args``), also from files recorded untagged.
    """
    want_start = event_start - timedelta(seconds=pre_roll)
    want_end = event_end + timedelta(seconds=post_roll)
    covering = covering_segments(segments, want_start, want_end)
    if not covering:
        raise ClipError(f"no recorded segment covers {want_start.isoformat()} – {want_end.isoformat()}")
    offset = max(0.0, (want_start - covering[0].start).total_seconds())
    length = (want_end - max(want_start, covering[0].start)).total_seconds()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        for segment in covering:
            escaped = str(segment.path.resolve()).replace("'", "'\\''")
            listing.write(f"file '{escaped}'\n")
    partial = out_path.with_name(out_path.name + ".part.mp4")
    video = probe(covering[0].path, ffprobe=ffprobe).codec
    cmd = [
        ffmpeg,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "concat",
        "-safe",
        "0",
        "-protocol_whitelist",
        netpolicy.FILE_PROTOCOLS,
        "-ss",
        f"{offset:.3f}",
        "-i",
        listing.name,
        "-t",
        f"{length:.3f}",
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",  # the camera's audio, when it was recorded
        "-c",
        "copy",
        *video_tag_args(video),
        "-movflags",
        "+faststart",
        str(partial),
    ]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    finally:
        os.unlink(listing.name)
    info = probe(partial, ffprobe=ffprobe) if partial.exists() else MediaInfo(ok=False)
    if result.returncode != 0 or not info.ok:
        partial.unlink(missing_ok=True)
        raise ClipError(result.stderr.strip() or info.error or "clip could not be written")
    partial.replace(out_path)  # the final name appears only once the clip is whole
    clip_start = max(want_start, covering[0].start) - timedelta(seconds=max(0.0, info.duration - length))
    return Clip(path=out_path, start=clip_start, duration=info.duration, size=out_path.stat().st_size)
