"""Low-rate grey frames and JPEG snapshots from files and from the loopback RTSP camera."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from demo.rtsp_sim import SimCamera
from tests.waiting import patience, returns_within
from workers.frames import FrameSource, FrameSourceError, SnapshotError, grab_snapshot


def test_a_file_gives_small_grey_frames_at_the_asked_rate(vtest):
    with FrameSource(str(vtest), fps=2, width=320, height=180) as source:
        frames = list(source)
    assert 155 <= len(frames) <= 161  # 79.5 s at 2 fps
    assert frames[0].image.shape == (180, 320) and frames[0].image.dtype == np.uint8
    assert [f.time for f in frames[:3]] == [0.0, 0.5, 1.0]
    assert frames[0].image.std() > 10, "a real picture, not a blank frame"


def test_an_rtsp_camera_gives_live_stamped_frames(camera: SimCamera):
    started = time.time()
    frames = []
    with FrameSource(camera.url("cam1"), fps=5) as source:
        for frame in source:
            frames.append(frame)
            if len(frames) == 5:
                break
    assert [f.image.shape for f in frames] == [(360, 640)] * 5
    assert all(started <= f.time <= time.time() for f in frames)


def test_a_source_that_is_not_there_raises():
    with pytest.raises(FrameSourceError):
        list(FrameSource("rtsp://127.0.0.1:9/none"))


def test_a_snapshot_is_a_jpeg_of_the_camera_picture(camera: SimCamera):
    jpeg = grab_snapshot(camera.url("cam2"), width=384, timeout=patience(10))
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (288, 384, 3)


def test_a_snapshot_of_a_dead_camera_fails_fast():
    # Fast: on the refused connection itself, not when the 60 s deadline runs out (a hang is guarded).
    with pytest.raises(SnapshotError, match="Connection refused"):
        returns_within(lambda: grab_snapshot("rtsp://127.0.0.1:9/none", timeout=60), timeout=60)
