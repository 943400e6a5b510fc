"""One ffmpeg per camera: the recording's stream copy also feeds motion its keyframes, and keeps the
camera's audio (copied when players play it, transcoded to AAC otherwise; the video never re-encoded)."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from demo.rtsp_sim import SimCamera
from tests.waiting import patience, wait_for
from workers.frames import KeyframeTap
from workers.segmenter import Segmenter, audio_plan, probe, segmenter_args

SEGMENT_SECONDS = 4


@pytest.fixture(scope="module")
def sim(vtest: Path, tmp_path_factory: pytest.TempPathFactory):
    """Three mounts of the real footage: without audio, with AAC, and with G.711 μ-law."""
    camera = SimCamera(
        mounts={"plain": vtest, "aac": vtest, "g711": vtest},
        audio={"aac": "aac", "g711": "pcmu"},
        log_path=tmp_path_factory.mktemp("sim") / "sim_camera.log",
    )
    camera.start()
    yield camera
    camera.stop()


class Running:
    def __init__(self, segmenter: Segmenter) -> None:
        self.segmenter = segmenter
        self.stop = threading.Event()
        self.thread = threading.Thread(target=segmenter.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=patience(20))
        assert not self.thread.is_alive()


def recorder(url: str, out: Path, **options: object) -> tuple[Segmenter, list]:
    segments: list = []
    segmenter = Segmenter(url=url, out_dir=out, on_segment=segments.append, segment_time=SEGMENT_SECONDS, **options)
    return segmenter, segments


def streams(path: Path) -> list[dict]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-show_entries",
         "stream=codec_type,codec_name,sample_rate,nb_read_packets", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)["streams"]


def test_the_shared_command_decodes_keyframes_only_and_copies_the_video(tmp_path):
    tap = KeyframeTap(width=480)
    args = segmenter_args(url="rtsp://127.0.0.1:8554/cam1", out_dir=tmp_path, keyframes=tap)
    i = args.index("-i")
    assert args[args.index("-skip_frame") + 1] == "nokey" and args.index("-skip_frame") < i  # a decoder option
    assert args.count("-i") == 1  # one camera connection
    segment_out = args.index("-segment_list")
    assert args[args.index("-c") + 1] == "copy" and args.index("-c") < segment_out
    assert "-vf" not in args[:segment_out]  # no filter on the recording
    assert args[-1] == "pipe:1" and args[args.index("-f", segment_out) + 1] == "yuv4mpegpipe"


def test_one_ffmpeg_records_every_frame_and_hands_motion_the_keyframes(sim: SimCamera, vtest, tmp_path):
    tap = KeyframeTap(width=480)
    segmenter, segments = recorder(sim.url("plain"), tmp_path, keyframes=tap)
    frames = []
    stop = threading.Event()

    def watch() -> None:
        with tap.subscribe(stop) as source:
            for frame in source:
                frames.append(frame)

    watcher = threading.Thread(target=watch, daemon=True)
    with Running(segmenter):
        watcher.start()
        assert wait_for(lambda: len([s for s in segments if s.complete]) >= 2, timeout=6 * SEGMENT_SECONDS)
        assert wait_for(lambda: len(frames) >= 4, timeout=20)
        process = segmenter.process
        stop.set()
    watcher.join(timeout=5)
    assert frames[0].image.shape == (360, 480, 3)  # colour, the camera's aspect, 480 wide
    # The copy output keeps every frame: ~10 packets a second of video, the camera's own codec.
    source = probe(vtest)
    recorded = 0
    for segment in segments:
        info = probe(segment.path)
        assert info.codec_parameters == source.codec_parameters
        recorded += info.packets
        if segment.complete:
            assert info.packets >= 8 * info.duration, (info.packets, info.duration)
    # Keyframes only (one in 20 frames of the footage) went to motion, not every frame.
    assert 0 < tap.received < recorded / 10, (tap.received, recorded)
    assert process.args.count("-i") == 1


def test_a_motion_reader_that_stops_reading_never_stalls_the_recording(sim: SimCamera, tmp_path):
    tap = KeyframeTap(width=480)
    segmenter, segments = recorder(sim.url("plain"), tmp_path, keyframes=tap)
    with Running(segmenter):
        subscription = tap.subscribe()
        iterator = iter(subscription)
        next(iterator)  # one frame taken, then nobody reads for several segments
        assert wait_for(lambda: len([s for s in segments if s.complete]) >= 3, timeout=8 * SEGMENT_SECONDS)
        assert tap.dropped > 0  # the frames nobody took were dropped, not queued in ffmpeg's pipe
        assert segmenter.state.value == "recording"
        subscription.close()
    assert all(probe(s.path).ok for s in segments)


def test_audio_plan_copies_aac_only():
    assert audio_plan("aac") == "copy"
    assert audio_plan("pcm_mulaw") == "aac"
    assert audio_plan("pcm_alaw") == "aac"
    assert audio_plan("adpcm_g726") == "aac"
    assert audio_plan("") == ""
    assert audio_plan(None) == ""


@pytest.mark.parametrize(
    ("mount", "plan", "sample_rate"),
    [("aac", "copy", "16000"), ("g711", "aac", "8000")],
)
def test_the_cameras_audio_is_recorded_as_aac_and_the_video_is_copied(sim, vtest, tmp_path, mount, plan, sample_rate):
    segmenter, segments = recorder(sim.url(mount), tmp_path, audio=True, keyframes=KeyframeTap())
    with Running(segmenter):
        assert wait_for(lambda: any(s.complete for s in segments), timeout=6 * SEGMENT_SECONDS)
    assert segmenter.audio_plan == plan
    complete = next(s for s in segments if s.complete)
    kinds = {s["codec_type"]: s for s in streams(complete.path)}
    assert kinds["audio"]["codec_name"] == "aac"
    assert kinds["audio"]["sample_rate"] == sample_rate  # the camera's own rate (copied or transcoded)
    assert int(kinds["audio"]["nb_read_packets"]) > 0
    assert probe(complete.path).codec_parameters == probe(vtest).codec_parameters  # video: stream copy


def test_video_only_leaves_the_audio_out(sim, tmp_path):
    segmenter, segments = recorder(sim.url("g711"), tmp_path, audio=False)
    with Running(segmenter):
        assert wait_for(lambda: any(s.complete for s in segments), timeout=6 * SEGMENT_SECONDS)
    complete = next(s for s in segments if s.complete)
    assert [s["codec_type"] for s in streams(complete.path)] == ["video"]


def test_a_camera_without_audio_records_video_when_audio_is_wanted(sim, tmp_path):
    segmenter, segments = recorder(sim.url("plain"), tmp_path, audio=True)
    with Running(segmenter):
        assert wait_for(lambda: any(s.complete for s in segments), timeout=6 * SEGMENT_SECONDS)
    assert segmenter.audio_plan == ""
    assert [s["codec_type"] for s in streams(next(s for s in segments if s.complete).path)] == ["video"]
