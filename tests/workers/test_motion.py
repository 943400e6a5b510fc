"""Server-side motion detection on real footage (people walking) and on synthetic still / moving frames."""

from __future__ import annotations

import numpy as np

from workers.frames import FrameSource
from workers.motion import MotionConfig, MotionDetector, detect_motion


def still_frames(count: int, noise: int = 0, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 200, size=(360, 640), dtype=np.uint8)
    base = np.repeat(np.repeat(base[::20, ::20], 20, axis=0), 20, axis=1)[:360, :640]  # a blocky "scene"
    frames = []
    for _ in range(count):
        jitter = rng.integers(-noise, noise + 1, size=base.shape) if noise else 0
        frames.append(np.clip(base.astype(int) + jitter, 0, 255).astype(np.uint8))
    return frames


def run(detector: MotionDetector, frames: list[np.ndarray], fps: float = 5.0):
    events = []
    for i, frame in enumerate(frames):
        events += detector.update(frame, i / fps)
    return events, detector.flush()


def test_people_walking_in_the_real_footage_fire_motion_early(vtest):
    with FrameSource(str(vtest), fps=5, width=640, height=360) as source:
        events = list(detect_motion(frame for frame in source if frame.time < 20))
    assert events, "people walk through vtest: motion must fire"
    assert events[0].start < 3.0
    assert events[0].peak_score > MotionConfig().start_threshold
    assert events[0].thumbnail is not None and events[0].thumbnail.shape == (360, 640)


def test_a_static_picture_never_fires_even_with_sensor_noise():
    for noise in (0, 6):
        finished, still_open = run(MotionDetector(), still_frames(50, noise=noise))
        assert finished == [] and still_open == []


def test_one_object_crossing_makes_one_event_with_its_times():
    frames = still_frames(60)
    for i in range(20, 35):  # a bright square moves across the scene from t=4.0 s to t=6.8 s
        x = 40 + (i - 20) * 30
        frames[i] = frames[i].copy()
        frames[i][150:230, x : x + 80] = 255
    finished, still_open = run(MotionDetector(MotionConfig(hold_seconds=2.0)), frames)
    events = finished + still_open
    assert len(events) == 1
    assert events[0].start == 4.0
    assert 6.6 <= events[0].end <= 7.2  # the last moving frame, plus the background catching up
    assert finished, "the event ends by itself once the scene is still again"


def test_a_short_flicker_below_start_frames_is_ignored():
    frames = still_frames(30)
    frames[15] = frames[15].copy()
    frames[15][100:300, 100:500] = 255  # one frame of a camera flash
    finished, still_open = run(MotionDetector(MotionConfig(start_frames=2)), frames)
    # The flash frame and the frame after it (background recovering) are both bright: at most 2 frames.
    assert all(e.end - e.start <= 0.4 for e in finished + still_open)
    frames_needed = MotionDetector(MotionConfig(start_frames=3))
    assert run(frames_needed, frames) == ([], [])
