"""An H.265 camera through the ingest worker, as the product runs it: continuous recording by stream copy
into ``hvc1`` files, server-side motion from the recorder's own H.265 keyframes, and event clips cut out
of the recording, ``hvc1`` too (Safari and the Chrome builds with HEVC play them)."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from demo.footage import hevc_footage
from demo.rtsp_sim import SimCamera
from recording.models import CameraRecording, EventClip, MotionSource
from tests.recording.media import Running, assert_index_matches_playable_files, media_settings, point_at, segments
from tests.recording.media import wait_for as wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.media]


def tagged(path: str) -> tuple[str, str]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,codec_tag_string",
         "-of", "json", path],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    stream = json.loads(result.stdout)["streams"][0]
    return stream["codec_name"], stream["codec_tag_string"]


@pytest.fixture
def h265_camera(tmp_path: Path):
    camera = SimCamera(mounts={"cam1": hevc_footage()}, audio={"cam1": "aac"}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


def test_an_h265_camera_records_hvc1_and_its_motion_makes_hvc1_clips(alpha, settings, tmp_path, h265_camera):
    media_settings(settings, tmp_path)
    settings.RECORDING_MAX_EVENT_SECONDS = 3  # people walk all the time in the footage: report in parts
    # A loaded machine's slow ffmpeg is no outage here: a restart's gap before the motion would leave its
    # clip without the pre-roll asked below (as in test_ingest's clip test).
    settings.RECORDING_STALL_SECONDS = 30
    point_at(alpha.camera, h265_camera.url("cam1"), motion=MotionSource.SERVER)
    worker = Running("w1")
    try:
        worker.tick()

        def clip_with_history():  # a motion 6 s into the recording, so there is pre-roll to cut from
            first = segments(alpha.camera)[:1]
            later = first and EventClip.objects.filter(
                camera=alpha.camera, motion_at__gte=first[0].start + timedelta(seconds=6)
            )
            return later.first() if later else None

        assert wait_for(clip_with_history, timeout=60)
        clip = clip_with_history()
    finally:
        worker.close()
    assert_index_matches_playable_files(alpha.camera)
    for row in segments(alpha.camera):
        assert tagged(default_storage.path(row.storage_name)) == ("hevc", "hvc1"), row.storage_name
    assert tagged(default_storage.path(clip.storage_name)) == ("hevc", "hvc1")
    assert clip.duration >= 5 + 2  # the pre-roll and post-roll (media_settings) around the motion
    assert CameraRecording.objects.get(camera=alpha.camera).thumbnail  # a decoded H.265 keyframe
