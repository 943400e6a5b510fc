"""The keyframe interval from keyframe arrival times, and a detector tuned to any frame interval."""

import pytest

from workers.motion import GopMeter, MotionConfig


def feed(times: list[float]) -> GopMeter:
    meter = GopMeter()
    for t in times:
        meter.add(t)
    return meter


def test_the_connection_burst_does_not_count_and_the_median_ignores_one_late_keyframe():
    # Keyframes buffered while connecting, then one every 2 s, one of them 1 s late.
    meter = feed([0.0, 0.07, 0.76, 0.8, 0.81, 2.75, 4.75, 7.9, 8.75, 10.75])
    assert meter.seconds == pytest.approx(2.0, abs=0.1)
    assert not meter.too_long(10)


def test_a_long_gop_is_too_long_once_three_intervals_are_seen():
    assert feed([0.0, 0.1, 1.0, 13.0, 25.0]).seconds is None  # two intervals: not known yet
    meter = feed([0.0, 0.1, 1.0, 13.0, 25.0, 25.05, 37.0])  # a burst of two counts as one
    assert meter.seconds == pytest.approx(12.0)
    assert meter.too_long(10)


def test_the_background_forgets_at_the_same_speed_in_seconds_at_any_frame_rate():
    base = MotionConfig()
    slow = base.for_interval(2.0)
    # After 2 s, what is left of the old background is the same: 8 frames at 4 fps or 1 keyframe.
    assert (1 - slow.background_rate) == pytest.approx((1 - base.background_rate) ** 8)
    assert slow.hold_seconds >= 3.0 and slow.frame_interval == 2.0
    assert base.for_interval(0.25).background_rate == pytest.approx(base.background_rate)


def test_an_open_event_starts_at_its_first_moving_frame_not_at_the_one_that_confirmed_it():
    import numpy as np

    from workers.motion import MotionDetector

    detector = MotionDetector(MotionConfig().for_interval(2.0))
    empty, person = np.zeros((180, 320), np.uint8), np.zeros((180, 320), np.uint8)
    person[40:140, 100:160] = 200
    for i, frame in enumerate([empty] * 4 + [person, person]):
        detector.update(frame, i * 2.0)
    assert detector.in_motion and detector.started_at == 8.0  # the keyframe at 8 s showed it; 10 s confirmed
