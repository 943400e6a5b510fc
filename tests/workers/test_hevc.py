"""H.265 cameras: the simulated camera's H.265 mount (demo/footage.py's libx265 footage, looped by stream
copy), recorded by stream copy into ``hvc1`` files (Safari and the Chrome builds with HEVC play them),
event clips cut out of them the same, and motion's keyframes decoded from the same ffmpeg."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from demo.footage import hevc_footage
from demo.rtsp_sim import SimCamera
from tests.waiting import patience, wait_for
from workers.frames import KeyframeTap
from workers.segmenter import Segment, Segmenter, make_clip, probe, probe_codecs, segmenter_args, video_tag_args

SEGMENT_SECONDS = 4


@pytest.fixture(scope="module")
def hevc(vtest: Path) -> Path:
    return hevc_footage()


@pytest.fixture(scope="module")
def sim(hevc: Path, vtest: Path, tmp_path_factory: pytest.TempPathFactory):
    """An H.265 camera (with AAC sound) and an H.264 one on one simulated recorder."""
    camera = SimCamera(
        mounts={"h265": hevc, "h264": vtest},
        audio={"h265": "aac"},
        log_path=tmp_path_factory.mktemp("sim") / "sim_camera.log",
    )
    camera.start()
    yield camera
    camera.stop()


def video_stream(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,codec_tag_string,width,height", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)["streams"][0]


def decodes_cleanly(path: Path) -> str:
    """ffmpeg's complaints while decoding every frame of ``path`` ("" when none)."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True, timeout=patience(60), check=False,
    )  # fmt: skip
    return result.stderr.strip() if result.returncode == 0 else result.stderr.strip() or "failed"


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


def test_the_footage_is_h265_tagged_hvc1_with_a_2_s_gop(hevc):
    stream = video_stream(hevc)
    assert (stream["codec_name"], stream["codec_tag_string"]) == ("hevc", "hvc1")
    assert (stream["width"], stream["height"]) == (768, 576)


def test_the_h265_mount_sends_the_file_without_re_encoding(sim: SimCamera, hevc, tmp_path):
    assert probe_codecs(sim.url("h265"), io_timeout=patience(5)) == ("hevc", "aac")
    assert probe_codecs(sim.url("h264"), io_timeout=patience(5)) == ("h264", "")
    out = tmp_path / "grab.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", sim.url("h265"),
         "-t", "3", "-map", "0:v:0", "-c", "copy", str(out)],
        check=True, timeout=patience(20),
    )  # fmt: skip
    assert probe(out).codec_parameters == probe(hevc).codec_parameters


def test_only_h265_is_tagged_hvc1(tmp_path):
    assert video_tag_args("hevc") == ["-tag:v", "hvc1"]
    assert video_tag_args("h264") == video_tag_args("") == video_tag_args(None) == []
    args = segmenter_args(url="rtsp://127.0.0.1:8554/cam1", out_dir=tmp_path, video="hevc")
    assert args[args.index("-tag:v") + 1] == "hvc1"
    assert args.index("-tag:v") < args.index("-f")  # an option of the recording's output
    assert "-tag:v" not in segmenter_args(url="rtsp://127.0.0.1:8554/cam1", out_dir=tmp_path, video="h264")


def test_an_h265_camera_is_recorded_by_stream_copy_as_hvc1_and_its_keyframes_decode(sim, hevc, tmp_path):
    segments: list[Segment] = []
    tap = KeyframeTap(width=480)
    segmenter = Segmenter(
        url=sim.url("h265"), out_dir=tmp_path / "rec", on_segment=segments.append, segment_time=SEGMENT_SECONDS,
        audio=True, keyframes=tap,
    )  # fmt: skip
    frames = []
    with Running(segmenter):
        with tap.subscribe() as subscription:
            for frame in subscription:
                frames.append(frame)
                if len(frames) >= 3:
                    break
        assert wait_for(lambda: sum(s.complete for s in segments) >= 2, timeout=8 * SEGMENT_SECONDS), segments
    assert segmenter.video_codec == "hevc"
    # Motion's keyframes: decoded H.265 pictures of the scene, at the tap's width, in colour.
    assert [f.image.shape for f in frames] == [(360, 480, 3)] * 3
    assert all(float(np.std(f.image)) > 10 for f in frames)  # a picture, not a grey or green field
    for segment in segments:
        stream = video_stream(segment.path)
        assert (stream["codec_name"], stream["codec_tag_string"]) == ("hevc", "hvc1"), segment.path
        assert probe(segment.path).codec_parameters == probe(hevc).codec_parameters  # stream copy
    complete = [s for s in segments if s.complete]
    assert decodes_cleanly(complete[0].path) == ""

    # An event clip across two files: cut by stream copy, hvc1 too, and it plays.
    event = complete[1].start + timedelta(seconds=1)
    clip = make_clip(
        segments=complete, event_start=event, event_end=event, out_path=tmp_path / "clip.mp4",
        pre_roll=3, post_roll=1,
    )  # fmt: skip
    stream = video_stream(clip.path)
    assert (stream["codec_name"], stream["codec_tag_string"]) == ("hevc", "hvc1")
    assert probe(clip.path).codec_parameters == probe(hevc).codec_parameters
    assert clip.duration >= 3
    assert decodes_cleanly(clip.path) == ""


def test_an_h264_camera_is_recorded_untagged_as_before(sim, vtest, tmp_path):
    segments: list[Segment] = []
    segmenter = Segmenter(
        url=sim.url("h264"), out_dir=tmp_path, on_segment=segments.append, segment_time=SEGMENT_SECONDS
    )
    with Running(segmenter):
        assert wait_for(lambda: any(s.complete for s in segments), timeout=6 * SEGMENT_SECONDS)
    assert segmenter.video_codec == "h264"
    stream = video_stream(next(s for s in segments if s.complete).path)
    assert (stream["codec_name"], stream["codec_tag_string"]) == ("h264", "avc1")


def test_a_clip_of_h265_files_recorded_untagged_is_hvc1(hevc, tmp_path):
    """Files an H.265 camera left before tagging (ffmpeg's default hev1) still give a clip Safari plays."""
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(hevc), "-t", "8", "-map", "0:v:0", "-c", "copy",
         "-tag:v", "hev1", "-f", "segment", "-segment_time", "4", "-reset_timestamps", "1",
         "-segment_format", "mp4", "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof",
         str(tmp_path / "seg%d.mp4")],
        check=True, timeout=patience(30),
    )  # fmt: skip
    assert video_stream(tmp_path / "seg0.mp4")["codec_tag_string"] == "hev1"
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, tzinfo=UTC)
    files = [
        Segment(path=tmp_path / f"seg{i}.mp4", start=start + timedelta(seconds=4 * i), duration=4, size=1)
        for i in (0, 1)
    ]
    clip = make_clip(
        segments=files, event_start=start + timedelta(seconds=4), event_end=start + timedelta(seconds=5),
        out_path=tmp_path / "clip.mp4", pre_roll=2, post_roll=1,
    )  # fmt: skip
    assert video_stream(clip.path)["codec_tag_string"] == "hvc1"
    assert decodes_cleanly(clip.path) == ""
