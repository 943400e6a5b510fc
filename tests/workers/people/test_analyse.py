"""A whole analysis, and the privacy proof: no pixel of the camera frame reaches the public image."""

import cv2
import numpy as np
import pytest

from workers.people.analyse import analyse_frame
from workers.people.detector import FakeDetector, Person, detector_for_mode, standing_keypoints
from workers.people.render import decode_jpeg, render_public_frame, render_public_image

MARKER = np.array((1, 254, 3), dtype=np.uint8)  # a colour found nowhere in the photos or the drawing


def _near_marker(image: np.ndarray, tolerance: int = 40) -> int:
    return int(np.all(np.abs(image.astype(int) - MARKER.astype(int)) <= tolerance, axis=2).sum())


@pytest.mark.parametrize(("mode", "detector_fixture"), [("standard", "box_detector"), ("detailed", "pose_detector")])
@pytest.mark.parametrize(("photo", "expected"), [("bus", 4), ("zidane", 2)])
def test_analysis_counts_the_sample_photos_exactly(request, mode, detector_fixture, photo, expected, empty_background):
    frame = request.getfixturevalue(photo)
    analysis = analyse_frame(frame, request.getfixturevalue(detector_fixture), empty_background, mode)
    assert analysis.count == expected == len(analysis.people)
    # The public image has the background's size, not the frame's.
    assert decode_jpeg(analysis.image_jpeg).shape == empty_background.shape
    assert analysis.image_size == (empty_background.shape[1], empty_background.shape[0])
    assert analysis.frame_size == (frame.shape[1], frame.shape[0])


@pytest.mark.parametrize(("mode", "detector_fixture"), [("standard", "box_detector"), ("detailed", "pose_detector")])
def test_a_unique_colour_painted_on_a_person_never_reaches_the_public_image(
    request, bus, empty_background, mode, detector_fixture
):
    detector = request.getfixturevalue(detector_fixture)
    assert _near_marker(bus) == 0 and _near_marker(empty_background) == 0  # the marker is unique
    # Paint the marker over the torso of every clearly seen person.
    painted = detector.detect(bus, level=1)
    for p in painted:
        cx, cy = int((p.x1 + p.x2) / 2), int(p.y1 + 0.4 * p.height)
        half = int(0.15 * p.width)
        bus[cy - half : cy + half, cx - half : cx + half] = MARKER
    assert _near_marker(bus) > 3000

    analysis = analyse_frame(bus, detector, empty_background, mode)
    # The painted people are still found and drawn (bus.jpg's fourth person, cut by the edge at a
    # score of 0.26, may fall under the threshold on the painted photo with the 8-bit model).
    assert analysis.count >= len(painted) == 3
    output = decode_jpeg(analysis.image_jpeg)
    assert _near_marker(output) == 0

    # The public image is exactly what the background and the geometry alone give ...
    size = analysis.image_size
    assert analysis.image_jpeg == render_public_image(empty_background, analysis.people, mode, size)
    expected, mask = render_public_frame(empty_background, analysis.people, mode, size)
    # ... which outside the silhouettes is the background, and nothing of the frame.
    background = empty_background
    assert np.array_equal(expected[mask == 0], background[mask == 0])
    # Away from the silhouettes (beyond JPEG's 16×16 blocks) the JPEG is the background's own JPEG.
    far = cv2.dilate(mask, np.ones((33, 33), np.uint8)) == 0
    assert far.mean() > 0.5
    background_jpeg = decode_jpeg(cv2.imencode(".jpg", background, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    assert np.abs(output[far].astype(int) - background_jpeg[far].astype(int)).max() <= 2
    frame_there = cv2.resize(bus, size, interpolation=cv2.INTER_AREA)
    assert np.abs(output[far].astype(int) - frame_there[far].astype(int)).mean() > 30


def test_the_image_depends_on_the_people_found_not_on_the_frame_pixels(empty_background):
    people = [Person(100, 60, 250, 480, 0.9, standing_keypoints(100, 60, 250, 480))]
    detector = FakeDetector(people)
    rng = np.random.default_rng(4)
    noise = rng.integers(0, 256, (540, 960, 3), dtype=np.uint8)
    black = np.zeros((540, 960, 3), dtype=np.uint8)
    for mode in ("standard", "detailed", "wide"):
        a = analyse_frame(noise, detector, empty_background, mode)
        b = analyse_frame(black, detector, empty_background, mode)
        assert a.image_jpeg == b.image_jpeg
        assert a.count == b.count == 1


def test_the_frame_may_be_jpeg_bytes_or_a_source_and_every_step_is_timed(empty_background, zidane):
    detector = detector_for_mode("standard")
    jpeg = cv2.imencode(".jpg", zidane)[1].tobytes()
    calls = []

    def source() -> bytes:
        calls.append(1)
        return jpeg

    for frame in (jpeg, source):
        analysis = analyse_frame(frame, detector, empty_background, "standard")
        assert analysis.count == 2
        assert analysis.timings.grab_ms > 0
        assert analysis.timings.detect_ms > 0 and analysis.timings.render_ms > 0
        assert analysis.timings.total_ms == pytest.approx(
            analysis.timings.grab_ms + analysis.timings.detect_ms + analysis.timings.render_ms
        )
    assert calls == [1]
    ready = analyse_frame(zidane, detector, empty_background, "standard")
    assert ready.timings.grab_ms == 0


def test_the_level_is_applied_and_bad_input_fails_before_any_detection(empty_background):
    detector = FakeDetector([Person(0, 0, 10, 30, 0.9), Person(20, 0, 30, 30, 0.1)])
    frame = np.zeros((100, 100, 3), dtype=np.uint8)
    assert analyse_frame(frame, detector, empty_background, "standard", level=3).count == 1
    assert analyse_frame(frame, detector, empty_background, "standard", level=5).count == 2
    calls = detector.calls
    with pytest.raises(ValueError, match="unknown mode"):
        analyse_frame(frame, detector, empty_background, "xray")
    with pytest.raises(ValueError, match="1 to 5"):
        analyse_frame(frame, detector, empty_background, "standard", level=9)
    assert detector.calls == calls
