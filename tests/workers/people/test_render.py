"""The public image is the background plus flat silhouettes; detailed silhouettes follow the pose."""

from datetime import datetime, time

import cv2
import numpy as np
import pytest

from workers.people.detector import Person, standing_keypoints
from workers.people.render import (
    SILHOUETTE_BGR,
    blur_background,
    choose_background,
    day_or_night,
    decode_jpeg,
    render_public_frame,
    render_public_image,
    silhouette_mask,
)

FRAME = (960, 540)


def _person(x1, y1, x2, y2, *, arms_spread=False, keypoints=True) -> Person:
    kps = standing_keypoints(x1, y1, x2, y2, arms_spread=arms_spread) if keypoints else None
    return Person(x1, y1, x2, y2, 0.9, kps)


def test_an_empty_scene_is_exactly_the_background(empty_background):
    image, mask = render_public_frame(empty_background, [], "standard", FRAME)
    assert not mask.any()
    assert np.array_equal(image, empty_background)


@pytest.mark.parametrize("mode", ["standard", "detailed", "wide"])
def test_outside_the_silhouettes_the_image_is_the_background_untouched(empty_background, mode):
    people = [_person(100, 100, 220, 460), _person(500, 80, 900, 500, arms_spread=True)]
    before = empty_background.copy()
    image, mask = render_public_frame(empty_background, people, mode, FRAME)
    assert np.array_equal(empty_background, before)  # drawn on a copy, never on the registered one
    assert np.array_equal(image[mask == 0], empty_background[mask == 0])
    solid = mask == 255
    assert solid.sum() > 0.05 * mask.size
    assert (image[solid] == SILHOUETTE_BGR).all()  # one flat colour, no texture
    # The JPEG is that image, within compression noise.
    decoded = decode_jpeg(render_public_image(empty_background, people, mode, FRAME)).astype(int)
    assert np.abs(decoded - image.astype(int)).mean() < 2


def test_the_standard_icon_is_a_person_shape_scaled_to_each_box():
    small, large = Person(10, 10, 50, 110, 0.9), Person(200, 50, 360, 450, 0.9)
    mask = silhouette_mask([small, large], "standard", FRAME)
    small_area = (mask[:, :100] > 127).sum()
    large_area = (mask[:, 150:] > 127).sum()
    assert large_area == pytest.approx(small_area * 16, rel=0.1)  # 4× the width and height
    # Head on top, gap between the legs, nothing outside the box.
    assert mask[50 + 40, 280] == 255  # head centre
    assert mask[50 + 390, 280] == 0  # between the feet
    assert mask[440, 261] == 255  # a leg
    ys, xs = np.nonzero(mask[:, 150:])
    assert xs.min() + 150 >= 199 and xs.max() + 150 <= 361 and ys.min() >= 49 and ys.max() <= 451


def test_detailed_silhouettes_follow_spread_arms_unlike_the_icon():
    box = (300, 60, 700, 480)
    spread = _person(*box, arms_spread=True)
    icon = silhouette_mask([spread], "standard", FRAME)
    pose = silhouette_mask([spread], "detailed", FRAME)
    wrists = [tuple(np.round(spread.keypoints[i, :2]).astype(int)) for i in (9, 10)]
    elbows = [tuple(np.round(spread.keypoints[i, :2]).astype(int)) for i in (7, 8)]
    for x, y in wrists + elbows:
        assert pose[y, x] == 255, "the arm is drawn where the keypoints are"
        assert icon[y, x] == 0, "the icon has no arm there"
    overlap = np.logical_and(icon > 127, pose > 127).sum() / np.logical_or(icon > 127, pose > 127).sum()
    assert overlap < 0.6
    down = silhouette_mask([_person(*box)], "detailed", FRAME)
    assert not np.array_equal(down, pose)  # the same person with arms down looks different


def test_detailed_mode_falls_back_to_the_icon_without_usable_keypoints():
    no_keypoints = _person(100, 50, 260, 500, keypoints=False)
    hidden = _person(100, 50, 260, 500)
    hidden.keypoints[:, 2] = 0.1  # shoulders not visible
    icon = silhouette_mask([no_keypoints], "standard", FRAME)
    assert np.array_equal(silhouette_mask([no_keypoints], "detailed", FRAME), icon)
    assert np.array_equal(silhouette_mask([hidden], "detailed", FRAME), icon)


def test_detailed_silhouettes_from_the_real_pose_model_differ_from_icons(pose_detector, bus):
    people = pose_detector.detect(bus)
    size = (bus.shape[1], bus.shape[0])
    icon, pose = silhouette_mask(people, "standard", size), silhouette_mask(people, "detailed", size)
    overlap = np.logical_and(icon > 127, pose > 127).sum() / np.logical_or(icon > 127, pose > 127).sum()
    assert 0.2 < overlap < 0.85  # the same people, drawn differently


def test_a_background_of_another_size_is_scaled_to_the_frame(empty_background):
    jpeg = render_public_image(empty_background, [Person(10, 10, 100, 300, 0.9)], "standard", (1280, 720))
    assert decode_jpeg(jpeg).shape == (720, 1280, 3)


def test_an_unknown_mode_or_a_grey_background_is_refused(empty_background):
    with pytest.raises(ValueError, match="unknown mode"):
        render_public_image(empty_background, [], "xray", FRAME)
    with pytest.raises(ValueError, match="BGR"):
        render_public_image(empty_background[:, :, 0], [], "standard", FRAME)


def _sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_background_blur_grows_with_the_level(bus):
    levels = [blur_background(bus, level) for level in range(1, 6)]
    assert all(image.shape == bus.shape for image in levels)
    sharpness = [_sharpness(bus)] + [_sharpness(image) for image in levels]
    assert sharpness == sorted(sharpness, reverse=True)
    assert sharpness[5] < sharpness[0] / 20
    with pytest.raises(ValueError, match="1 to 5"):
        blur_background(bus, 0)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (time(7, 59), "night"),
        (time(8, 0), "day"),
        (time(16, 59, 59), "day"),
        (time(17, 0), "night"),
        (time(0, 0), "night"),
    ],
)
def test_day_background_from_8_to_17(moment, expected):
    assert day_or_night(moment) == expected
    assert day_or_night(datetime(2026, 11, 22, moment.hour, moment.minute)) == expected


def test_choose_background_uses_the_fixed_one_or_day_and_night(empty_background):
    night = 255 - empty_background
    assert choose_background(time(12), empty_background) is empty_background
    assert choose_background(time(22), empty_background) is empty_background
    assert choose_background(time(12), empty_background, night) is empty_background
    assert choose_background(time(22), empty_background, night) is night
