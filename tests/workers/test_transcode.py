"""The opt-in H.264 live view of an H.265 camera (workers/transcode.py): one transcode per camera however
many viewers ask for the variant "h264", started by the first and stopped after the last, made from the
camera's source feed (not a second camera connection), with the sound copied."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from demo.footage import hevc_footage
from tests.waiting import patience, wait_for
from workers import fmp4, live, transcode

KEY = b"k" * 32
CAMERA = 7


def source_feed_args(path: Path) -> list[str]:
    """What the recorder's live output gives for an H.265 camera with AAC sound: hvc1 + mp4a, one
    fragment per frame, in real time (the footage looped, a tone as the microphone)."""
    return [
        "ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(path),
        "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000",
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-tag:v", "hvc1", "-c:a", "aac", "-b:a", "32k",
        "-f", "mp4", "-movflags", transcode.LIVE_FMP4, "-flush_packets", "1", "pipe:1",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def hevc(vtest: Path) -> Path:
    return hevc_footage()


class Camera:
    """The recorder's side: an ffmpeg run writing the camera's source feed; ``restart()`` is a new run
    (what the recorder does after an outage), on the same published FeedSource."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.source = live.FeedSource()
        self.runs: list[tuple[subprocess.Popen, threading.Thread]] = []

    def start(self) -> None:
        process = subprocess.Popen(source_feed_args(self.path), stdout=subprocess.PIPE)  # noqa: S603
        pump = threading.Thread(target=self.source.feed, args=(process.stdout,), daemon=True)
        pump.start()
        self.runs.append((process, pump))

    def stop(self) -> None:
        for process, pump in self.runs:
            process.kill()
            process.wait(timeout=5)
            pump.join(timeout=5)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def camera(hevc: Path) -> Iterator[Camera]:
    camera = Camera(hevc)
    camera.start()
    yield camera
    camera.stop()


@pytest.fixture
def hub(camera: Camera) -> Iterator[live.LiveHub]:
    """A live server with one H.265 camera's source feed published, as the ingest process has it."""
    transcode.register()
    hub = live.LiveHub(key=KEY).start()
    hub.publish(CAMERA, camera.source)
    assert wait_for(lambda: camera.source.snapshot().init is not None, timeout=10)
    yield hub
    hub.close()


def transcoders() -> list[psutil.Process]:
    """This test process's ffmpeg children that encode H.264."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "libx264" in child.cmdline():
                found.append(child)
        except psutil.Error:
            continue
    return found


def first_frames(connection: live.FeedConnection, count: int) -> list[tuple[str, bytes]]:
    frames = []
    for kind, payload in connection:
        frames.append((kind, payload))
        if len(frames) >= count or kind == "end":
            break
    return frames


def test_the_transcode_args_are_a_live_h264_encode_with_the_audio_copied():
    args = transcode.transcode_args()
    assert args[args.index("-i") + 1] == "pipe:0"
    assert args[args.index("-c:v") + 1] == "libx264"
    assert args[args.index("-preset") + 1] == "veryfast"
    assert args[args.index("-tune") + 1] == "zerolatency"
    assert args[args.index("-c:a") + 1] == "copy"
    assert "frag_every_frame" in args[args.index("-movflags") + 1]


def test_three_h264_viewers_share_one_transcode_that_stops_after_the_last_leaves(hub: live.LiveHub):
    assert transcoders() == []
    viewers = [
        live.FeedConnection(hub.address, live.sub_line(KEY, CAMERA, "h264"), timeout=patience(20)) for _ in range(3)
    ]
    try:
        for viewer in viewers:
            frames = first_frames(viewer, 3)
            assert [kind for kind, _ in frames] == ["meta", "init", "key"], frames[-1]
            meta = json.loads(frames[0][1])
            assert meta["video"] == "h264" and meta["audio"] is True, meta
            assert "avc1." in meta["mime"] and "mp4a.40.2" in meta["mime"]
            init = fmp4.parse_init(frames[1][1])
            assert init.video.codec.startswith("avc1.") and init.audio is not None
        assert len(transcoders()) == 1  # one ffmpeg for the camera, whatever the number of viewers
        assert [(job.camera_id, job.transcodes) for job in transcode.jobs()] == [(CAMERA, 1)]
        assert hub.subscribers(CAMERA, "h264") == 3

        # Keyframes about every second of the camera's time: 80 fragments are ~3 s of video and sound.
        kinds = [kind for kind, _ in first_frames(viewers[0], 80)]
        video_keys = [i for i, kind in enumerate(kinds) if kind == "key"]
        assert len(video_keys) >= 2, kinds

        viewers.pop().close()
        viewers.pop().close()
        assert wait_for(lambda: hub.subscribers(CAMERA, "h264") == 1, timeout=5)
        assert len(transcoders()) == 1  # one viewer left: it goes on
    finally:
        for viewer in viewers:
            viewer.close()
    assert wait_for(lambda: transcoders() == [] and transcode.jobs() == [], timeout=10), transcoders()


def test_source_viewers_start_no_transcode(hub: live.LiveHub):
    with live.FeedConnection(hub.address, live.sub_line(KEY, CAMERA), timeout=patience(20)) as viewer:
        frames = first_frames(viewer, 3)
        assert json.loads(frames[0][1])["video"] == "hevc"
        assert fmp4.parse_init(frames[1][1]).video.codec.startswith("hvc1.")
        assert transcoders() == [] and transcode.jobs() == []


def test_a_viewer_that_comes_back_gets_a_new_transcode(hub: live.LiveHub):
    for _ in range(2):
        with live.FeedConnection(hub.address, live.sub_line(KEY, CAMERA, "h264"), timeout=patience(20)) as viewer:
            assert [kind for kind, _ in first_frames(viewer, 3)] == ["meta", "init", "key"]
            assert len(transcoders()) == 1
        assert wait_for(lambda: transcoders() == [], timeout=10)


def test_a_transcode_that_falls_behind_skips_to_the_newest_keyframe():
    """A machine too busy for the transcode: fragments that waited over max_lag are dropped up to the next
    keyframe (the picture stays live, with a gap), never queued without end."""
    now = [0.0]
    written: list[bytes] = []

    class Stdin:
        def write(self, data: bytes) -> None:
            written.append(data)

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    job = transcode.H264Transcode(on_piece=lambda piece: None, clock=lambda: now[0], max_lag=1.0)

    class Process:  # an ffmpeg that has exited once the test is done with it
        stdin = Stdin()

        def poll(self) -> int:
            return 0

        def wait(self, timeout: float) -> int:
            return 0

    job.process = Process()
    job._queue.append((b"init", True, float("inf")))
    for data, keyframe in ((b"k1", True), (b"f1", False), (b"f2", False)):
        job.feed(data, keyframe=keyframe)
    now[0] = 5.0  # ffmpeg took nothing for 5 s
    for data, keyframe in ((b"k2", True), (b"f3", False)):
        job.feed(data, keyframe=keyframe)
    writer = threading.Thread(target=job._write, daemon=True)
    writer.start()
    assert wait_for(lambda: len(written) == 3, timeout=5), written
    job.stop()
    writer.join(timeout=5)
    assert written == [b"init", b"k2", b"f3"]
    assert job.dropped == 3


def test_a_recorder_restart_restarts_the_transcode_on_the_new_run(hub: live.LiveHub, camera: Camera):
    with live.FeedConnection(hub.address, live.sub_line(KEY, CAMERA, "h264"), timeout=patience(20)) as viewer:
        assert [kind for kind, _ in first_frames(viewer, 3)] == ["meta", "init", "key"]
        first = transcoders()
        assert len(first) == 1
        camera.restart()  # a new ffmpeg run: a new init on the source feed
        kinds = []
        for kind, payload in viewer:
            kinds.append(kind)
            if kind == "meta":
                assert json.loads(payload)["video"] == "h264"
            if kind == "key" and "init" in kinds:
                break
        assert kinds[kinds.index("meta") + 1] == "init"  # M + I again, then the new run's keyframe
        assert [job.transcodes for job in transcode.jobs()] == [2]
        assert len(transcoders()) == 1 and transcoders()[0].pid != first[0].pid
    assert wait_for(lambda: transcoders() == [], timeout=10)
