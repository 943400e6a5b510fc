"""Continuous recording against a real RTSP server on loopback, with real ffmpeg and 5 s segments."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo.rtsp_sim import SimCamera
from tests.waiting import patience, wait_for
from workers.segmenter import (
    Backoff,
    RecorderState,
    Segment,
    Segmenter,
    StateChange,
    make_clip,
    parse_segment_start,
    probe,
    repair_fragmented_mp4,
    segmenter_args,
)

SEGMENT_SECONDS = 5
FOOTAGE_GOP_SECONDS = 2  # vtest as the simulated camera sends it: a keyframe every 2 s
ALIGNED_SEGMENT_SECONDS = 10  # the alignment test's files: long enough that a file cut by duration shows


class Recorder:
    """Collects what a Segmenter reports, and runs it in a thread."""

    def __init__(self, url: str, out_dir: Path, **options: object) -> None:
        self.segments: list[Segment] = []
        self.states: list[StateChange] = []
        self.segmenter = Segmenter(
            url=url,
            out_dir=out_dir,
            on_segment=self.segments.append,
            on_state=self.states.append,
            **{"segment_time": SEGMENT_SECONDS, **options},
        )
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.segmenter.run, args=(self.stop_event,), daemon=True)

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=patience(20))
        assert not self.thread.is_alive(), "the segmenter did not stop"

    def state_names(self) -> list[str]:
        return [change.state.value for change in self.states]


class FileWrites:
    """When each MP4 file of a folder was written to, by polling the kernel's modification times: a poll that
    comes late (a loaded machine) still reads when the last write happened; one that misses a write altogether
    only makes the writes seen sparser. The recorder writes a file at its opening, once per keyframe (the
    fragment of the GOP before it: frag_keyframe) and at its closing, nothing between."""

    def __init__(self, folder: Path, interval: float = 0.02) -> None:
        self.folder = folder
        self.interval = interval
        self.seen: dict[str, set[int]] = defaultdict(set)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> FileWrites:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join(timeout=patience(5))

    def _watch(self) -> None:
        while not self.stop_event.wait(self.interval):
            for path in self.folder.glob("*.mp4"):
                with contextlib.suppress(FileNotFoundError):
                    self.seen[path.name].add(path.stat().st_mtime_ns)

    def times(self, path: Path) -> list[float]:
        """When ``path`` was written (Unix seconds), as far as seen, its last write included."""
        return sorted(ns / 1e9 for ns in {*self.seen[path.name], path.stat().st_mtime_ns})


def test_the_ffmpeg_command_copies_streams_and_never_decodes(tmp_path):
    args = segmenter_args(url="rtsp://127.0.0.1:8554/cam1", out_dir=tmp_path, segment_time=60)
    joined = " ".join(args)
    assert args[args.index("-c") + 1] == "copy"
    for decoder_or_encoder in ("-vf", "-filter", "-c:v", "-vcodec", "libx264", "-s ", "-r "):
        assert decoder_or_encoder not in joined
    assert args[args.index("-segment_atclocktime") + 1] == "1"
    assert args[args.index("-segment_time") + 1] == "60"
    assert "frag_keyframe" in args[args.index("-segment_format_options") + 1]
    assert args[args.index("-rtsp_transport") + 1] == "tcp"


def test_it_records_clock_aligned_segments_identical_in_codec_to_the_camera(camera: SimCamera, vtest, tmp_path):
    source = probe(vtest)
    period = ALIGNED_SEGMENT_SECONDS
    # Start 4 s into a slot, so that the first file opens late in it (ffmpeg probes the stream for ~3.5 s):
    # files cut by duration instead of by the clock would then all start late in their slots and fail
    # below. It costs nothing: the second boundary comes as soon as from any other start.
    assert wait_for(lambda: 3.5 <= time.time() % period < 4.5, timeout=period, interval=0.05)
    with FileWrites(tmp_path) as writes, Recorder(camera.url("cam1"), tmp_path, segment_time=period) as recorder:
        assert wait_for(lambda: len(recorder.segments) >= 2, timeout=3 * period), recorder.states
    finished = [s for s in recorder.segments if s.complete]
    assert len(finished) >= 2
    assert recorder.state_names()[:2] == ["starting", "recording"]
    for segment in recorder.segments:
        info = probe(segment.path)
        assert info.ok, info.error
        assert info.codec_parameters == source.codec_parameters  # stream copy: same codec, profile, level, size
        assert segment.size == segment.path.stat().st_size
        assert segment.start == parse_segment_start(segment.path)
    # Files are cut on the wall clock's 10 s grid (workers.segmenter.clock_cuts, docs/user-guide.md): each in
    # a later slot of it than the one before (one file per boundary), at the first keyframe handled after
    # the boundary. That is one GOP (2 s) late at most while the video flows evenly, later by as long as the
    # video paused around the boundary (a loaded machine), so no fixed allowance is asserted: what is, is
    # that the file closed at the cut got no keyframe after the boundary before the one it was closed at
    # (a file cut by duration gets several), and that the next file is named by the cut's second. The rule
    # itself, to the packet, is tested on synthetic timestamps in tests/workers/test_clock_cuts.py.
    slots = [int(s.start.timestamp()) // period for s in recorder.segments]
    assert slots == sorted(set(slots)), [s.start for s in recorder.segments]
    for closed, following in itertools.pairwise(recorder.segments):
        if not closed.complete:
            continue  # a stop or an outage closed it, not the clock
        boundary = (int(closed.start.timestamp()) // period + 1) * period
        *before, cut = writes.times(closed.path)  # the last write is its closing, at the cut
        # Half a GOP: a closing in several write calls, and the moment between ffmpeg reading the clock on
        # a keyframe and writing the fragment; a keyframe after the boundary comes later than that.
        kept = [at for at in before if at < cut - FOOTAGE_GOP_SECONDS / 2]
        assert all(at < boundary + FOOTAGE_GOP_SECONDS / 2 for at in kept), (closed.path.name, boundary, kept, cut)
        assert boundary <= following.start.timestamp() <= cut + 1, (following.path.name, boundary, cut)
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == sorted(s.path.name for s in recorder.segments)


def test_killing_the_camera_mid_segment_leaves_no_corrupt_file_and_recording_resumes(own_camera: SimCamera, tmp_path):
    # The kill ends ffmpeg's connection at once; the stall and I/O deadlines only back that up.
    options = {"stall_timeout": patience(4), "io_timeout": patience(3), "backoff": Backoff(initial=1.0, maximum=2.0)}
    with Recorder(own_camera.url("cam1"), tmp_path, **options) as recorder:
        assert wait_for(lambda: any(s.complete for s in recorder.segments), timeout=25)
        # Mid-segment: the current file has data but is not finished.
        assert wait_for(lambda: recorder.segmenter.current_file() is not None, timeout=5)
        own_camera.kill()
        assert wait_for(lambda: recorder.segmenter.state == RecorderState.OUTAGE, timeout=10)
        outage = recorder.states[-1]
        assert outage.state == RecorderState.OUTAGE and outage.message
        reported_during_outage = list(recorder.segments)
        for path in tmp_path.glob("*.mp4"):
            assert probe(path).ok, f"{path.name} is corrupt after the camera died"
        # The partial segment of the dying minute was kept (playable) and reported once.
        assert not reported_during_outage[-1].complete

        own_camera.start()
        count = len(recorder.segments)
        assert wait_for(lambda: recorder.segmenter.state == RecorderState.RECORDING, timeout=20)
        assert wait_for(lambda: len(recorder.segments) > count, timeout=20)
    assert recorder.state_names().count("outage") == 1
    assert recorder.state_names()[-3:] == ["outage", "recording", "stopped"]
    names = [s.path.name for s in recorder.segments]
    assert len(names) == len(set(names)), "a segment was reported twice"
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == sorted(names)
    assert all(probe(s.path).ok for s in recorder.segments)


def test_a_recorder_killed_mid_segment_leaves_a_playable_partial_file(camera: SimCamera, tmp_path):
    with Recorder(camera.url("cam2"), tmp_path, backoff=Backoff(initial=30, maximum=30)) as recorder:
        assert wait_for(lambda: recorder.segmenter.state == RecorderState.RECORDING, timeout=20)
        assert wait_for(lambda: (recorder.segmenter.current_file() or tmp_path).stat().st_size > 100_000, timeout=10)
        victim = recorder.segmenter.current_file()
        os.kill(recorder.segmenter.process.pid, signal.SIGKILL)  # the worker process dies, no clean-up
        assert wait_for(lambda: recorder.segmenter.state == RecorderState.OUTAGE, timeout=10)
    left = [s for s in recorder.segments if s.path == victim]
    assert len(left) == 1 and not left[0].complete
    assert probe(victim).ok and probe(victim).duration > 0


def test_an_unreachable_camera_is_an_outage_not_a_hang(tmp_path):
    url = "rtsp://127.0.0.1:9/nothing"  # the discard port: nothing listens on loopback
    with Recorder(url, tmp_path, backoff=Backoff(initial=1.0, maximum=1.0)) as recorder:
        assert wait_for(lambda: recorder.segmenter.state == RecorderState.OUTAGE, timeout=10)
        assert wait_for(lambda: recorder.segmenter.runs >= 2, timeout=10), "it must keep retrying"
    assert recorder.segments == []
    assert "outage" in recorder.state_names() and "recording" not in recorder.state_names()


def test_a_torn_last_fragment_is_trimmed_to_a_playable_file(fragmented_segments, tmp_path):
    whole = fragmented_segments[0]
    torn = tmp_path / "torn.mp4"
    data = whole.read_bytes()
    torn.write_bytes(data[: len(data) - 30_000])  # a kill in the middle of writing the last fragment
    assert not probe(torn).ok
    assert repair_fragmented_mp4(torn)
    repaired = probe(torn)
    assert repaired.ok, repaired.error
    assert 0 < repaired.packets < probe(whole).packets
    assert not repair_fragmented_mp4(torn), "a whole file must be left alone"


def test_probe_rejects_files_that_are_not_video(tmp_path):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(50_000))
    assert not probe(garbage).ok
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    assert not probe(empty).ok


def _as_recorded(paths: list[Path], start: datetime) -> list[Segment]:
    segments, at = [], start
    for path in paths:
        info = probe(path)
        segments.append(Segment(path=path, start=at, duration=info.duration, size=path.stat().st_size))
        at += timedelta(seconds=info.duration)
    return segments


def test_an_event_clip_has_its_pre_roll_and_post_roll_and_is_not_re_encoded(fragmented_segments, vtest, tmp_path):
    t0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    segments = _as_recorded(fragmented_segments, t0)
    event_start, event_end = t0 + timedelta(seconds=12), t0 + timedelta(seconds=14)
    clip = make_clip(segments=segments, event_start=event_start, event_end=event_end, out_path=tmp_path / "clip.mp4")
    info = probe(clip.path)
    assert info.ok, info.error
    assert info.codec_parameters == probe(vtest).codec_parameters
    assert clip.start <= event_start - timedelta(seconds=5), "at least 5 s of pre-roll"
    assert clip.start + timedelta(seconds=clip.duration) >= event_end + timedelta(seconds=4.9)
    assert 12 <= clip.duration <= 16
    assert not list(tmp_path.glob("*.part.mp4"))


def test_a_clip_outside_the_recordings_is_refused(fragmented_segments, tmp_path):
    from workers.segmenter import ClipError

    t0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    segments = _as_recorded(fragmented_segments[:1], t0)
    with pytest.raises(ClipError):
        make_clip(
            segments=segments,
            event_start=t0 + timedelta(hours=1),
            event_end=t0 + timedelta(hours=1, seconds=2),
            out_path=tmp_path / "clip.mp4",
        )
    assert not (tmp_path / "clip.mp4").exists()
