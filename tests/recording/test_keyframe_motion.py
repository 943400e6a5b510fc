"""Server-side motion from keyframes only, on real footage through the simulated RTSP camera: a person
entering the picture makes an event clip that shows the empty scene first (the pre-roll, cut from the
continuous recording, covers the moment of entry) and then the person. Also the faults: a camera whose
keyframes come too seldom is decoded in full (said on the camera page), and a sub-stream that stops hands
motion to the main stream (noted) while recording goes on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage

from demo.rtsp_sim import SimCamera
from recording.models import CameraRecording, EventClip, MotionSource, RecordingSegment
from tests.recording.media import VTEST, Running, media_settings, point_at, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.media]

# Seconds into the footage when people walk into the empty square (between keyframes 24 and 26). Long
# enough that the motion of the loop before (people vanish when the file starts again) has ended.
ENTRY = 25.3


def _grey(frame: np.ndarray) -> np.ndarray:
    small = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (192, 144), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(small, (5, 5), 0)


def _empty_plate(path: Path, out: Path) -> Path:
    """The square without anybody: the median of frames spread over the real footage (people move on)."""
    capture = cv2.VideoCapture(str(path))
    frames, index = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % 20 == 0:
            frames.append(frame)
        index += 1
    capture.release()
    cv2.imwrite(str(out), np.median(np.stack(frames), axis=0).astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def entering(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """ENTRY seconds of the empty square, then the real footage's people walking in: H.264 768×576 10 fps,
    2 s GOP, like the demo's cameras. Returns the file and the empty scene (grey, small)."""
    folder = tmp_path_factory.mktemp("entering")
    plate = _empty_plate(VTEST, folder / "plate.png")
    out = folder / "entering.mp4"
    subprocess.run(  # noqa: S603
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
            "-loop", "1", "-framerate", "10", "-t", str(ENTRY), "-i", str(plate),
            "-t", "12", "-i", str(VTEST),
            "-filter_complex", "[0:v]format=yuv420p,setsar=1[a];[1:v]format=yuv420p,setsar=1[b];[a][b]concat=n=2:v=1",
            "-c:v", "libx264", "-preset", "veryfast", "-g", "20", "-keyint_min", "20", "-sc_threshold", "0",
            "-bf", "0", "-r", "10", str(out),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    return out, _grey(cv2.imread(str(plate)))


def _changed(frame: np.ndarray, plate: np.ndarray) -> float:
    diff = cv2.absdiff(_grey(frame), plate)
    return float(np.count_nonzero(diff > 30)) / diff.size


def _clip_frames(clip: EventClip) -> list[float]:
    capture = cv2.VideoCapture(default_storage.path(clip.storage_name))
    scores = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        scores.append(frame)
    capture.release()
    return scores


@pytest.fixture
def media(settings, tmp_path):
    media_settings(settings, tmp_path)
    settings.RECORDING_MAX_EVENT_SECONDS = 3  # people keep walking: report in parts, so clips come early
    return tmp_path


@pytest.fixture
def running():
    made = []

    def make(worker_id: str) -> Running:
        made.append(Running(worker_id))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_a_person_entering_makes_a_clip_that_shows_the_empty_scene_then_the_person(
    alpha, media, running, entering, tmp_path
):
    footage, plate = entering
    sim = SimCamera(mounts={"door": footage}, log_path=tmp_path / "sim.log").start()
    try:
        point_at(alpha.camera, sim.url("door"), motion=MotionSource.SERVER)
        running("w1").tick()
        found: list[list[float]] = []

        def clip_with_an_entry() -> bool:
            for clip in EventClip.objects.filter(camera=alpha.camera).order_by("pk"):
                scores = [_changed(frame, plate) for frame in _clip_frames(clip)]
                entered = next((i for i, score in enumerate(scores) if score > 0.01), None)
                if entered is not None and all(score < 0.003 for score in scores[:entered]) and entered >= 10:
                    found.append(scores)
                    return True
            return False

        assert wait_for(clip_with_an_entry, timeout=120)
        scores = found[0]
        entered = next(i for i, s in enumerate(scores) if s > 0.01)
        assert entered >= 10  # at least a second of the empty square before the person: the pre-roll covers it
        assert max(scores[entered:]) > 0.02  # and the person is in the clip
        assert wait_for(lambda: CameraRecording.objects.get(camera=alpha.camera).motion_gop_seconds, timeout=30)
        row = CameraRecording.objects.get(camera=alpha.camera)
        assert (row.motion_decode, row.motion_stream, row.motion_note) == ("keyframes", "main", "")
        # Measured from the keyframes' arrival (2 s in the footage; a busy test machine delays some), and far
        # from the 10 s that would switch the camera to a full decode.
        assert 1.0 <= row.motion_gop_seconds < 10
    finally:
        sim.kill()


@pytest.fixture(scope="module")
def long_gop(tmp_path_factory) -> Path:
    """The real footage with a keyframe every 4 s (the tests' limit is 3 s; the product's is 10 s)."""
    out = tmp_path_factory.mktemp("long-gop") / "long-gop.mp4"
    subprocess.run(  # noqa: S603
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-t", "40", "-i", str(VTEST),
            "-vf", "scale=384:288", "-c:v", "libx264", "-preset", "veryfast", "-g", "40", "-keyint_min", "40",
            "-sc_threshold", "0", "-bf", "0", str(out),
        ],
        check=True,
        timeout=300,
    )  # fmt: skip
    return out


def test_a_camera_whose_keyframes_come_too_seldom_is_decoded_in_full_and_the_camera_page_says_so(
    alpha, media, running, long_gop, tmp_path, settings
):
    from django.urls import reverse

    from tests.conftest import client_for

    settings.RECORDING_MOTION_MAX_GOP_SECONDS = 3
    sim = SimCamera(mounts={"slow": long_gop}, log_path=tmp_path / "sim.log").start()
    try:
        point_at(alpha.camera, sim.url("slow"), motion=MotionSource.SERVER)
        running("w1").tick()

        def decoded_in_full() -> bool:
            row = CameraRecording.objects.get(camera=alpha.camera)
            return row.motion_decode == "full" and row.motion_note == "long_gop"

        assert wait_for(decoded_in_full, timeout=60)
        row = CameraRecording.objects.get(camera=alpha.camera)
        assert row.motion_gop_seconds >= 3
        page = client_for(alpha.admin).get(reverse("devices:detail", kwargs={"device_id": alpha.camera.pk}))
        text = page.content.decode()
        assert "motion-note" in text and "every frame of it is decoded" in text
    finally:
        sim.kill()


def test_a_sub_stream_that_stops_hands_motion_to_the_main_stream_and_recording_goes_on(alpha, media, running, tmp_path):
    main = SimCamera(mounts={"main": VTEST}, log_path=tmp_path / "main.log").start()
    sub = SimCamera(mounts={"sub": VTEST}, log_path=tmp_path / "sub.log").start()
    try:
        point_at(alpha.camera, main.url("main"), motion=MotionSource.SERVER)
        CameraRecording.objects.filter(camera=alpha.camera).update(motion_sub_stream_url=sub.url("sub"))
        running("w1").tick()
        row = lambda: CameraRecording.objects.get(camera=alpha.camera)  # noqa: E731
        assert wait_for(lambda: row().motion_stream == "sub" and row().motion_decode == "keyframes", timeout=60)
        sub.kill()  # the sub-stream dies; the main one goes on
        assert wait_for(lambda: row().motion_stream == "main" and row().motion_note == "sub_stream_down", timeout=60)
        before = RecordingSegment.objects.filter(camera=alpha.camera).count()
        assert wait_for(lambda: RecordingSegment.objects.filter(camera=alpha.camera).count() >= before + 2, timeout=30)
    finally:
        main.kill()
        sub.kill()
