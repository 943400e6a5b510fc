"""A camera sending a picture that cannot be analysed: that camera's bad_frame (or zero people),
never a failed task; the next camera is analysed as usual, with the real detector."""

from datetime import datetime, timedelta

import cv2
import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from congestion import services
from congestion.models import Analysis, CongestionCamera, PublicImage, Trouble

from .conftest import give_option, jpeg, register

MINUTE = timezone.make_aware(datetime(2024, 6, 3, 10, 0))  # a Monday, 10:00 Tokyo


def _encoded(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()


def _wide() -> bytes:
    return _encoded(np.full((200, 16000, 3), 128, np.uint8))


def _corrupt(bus_jpeg: bytes) -> bytes:
    broken = bytearray(bus_jpeg)
    broken[2:600] = b"\x00" * 598  # the headers are gone
    return bytes(broken)


def _run(cc, frame: bytes, minute=MINUTE) -> str:
    return services.analysis_run(
        congestion_camera_id=cc.pk,
        minute=minute,
        grab=lambda camera: frame,
        now=lambda: minute + timedelta(seconds=3),
    )  # the real detector of the camera's mode


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("truncated", lambda bus: bus[: len(bus) // 2]),
        ("corrupt", _corrupt),
        ("not_a_jpeg", lambda bus: b"<html>login required</html>"),
        ("empty", lambda bus: b""),
    ],
)
@pytest.mark.parametrize("mode", ["standard", "detailed", "wide"])
def test_a_broken_picture_is_that_cameras_bad_frame_and_the_next_camera_is_analysed(
    alpha, second_camera, bus_jpeg, name, make, mode
):
    give_option(alpha.operator, 2)
    broken, good = register(alpha), register(second_camera)
    CongestionCamera.objects.filter(pk__in=[broken.pk, good.pk]).update(mode=mode)
    assert _run(broken, make(bus_jpeg)) == "bad_frame"
    row = Analysis.objects.get(congestion_camera=broken)
    assert row.status == Analysis.Status.BAD_FRAME and row.count is None
    broken.refresh_from_db()
    assert broken.trouble == Trouble.BAD_FRAME
    assert not PublicImage.objects.filter(congestion_camera=broken).exists()  # the last good image stays

    assert _run(good, bus_jpeg) == "done"
    assert Analysis.objects.get(congestion_camera=good).count == 4
    # The camera's next good picture clears its trouble.
    assert _run(broken, bus_jpeg, minute=MINUTE + timedelta(minutes=1)) == "done"
    broken.refresh_from_db()
    assert broken.trouble == Trouble.NONE


@pytest.mark.parametrize(
    ("name", "frame"),
    [
        ("one_pixel", lambda: jpeg(1, 1)),
        ("16000_wide", _wide),
        ("grey", lambda: jpeg(1920, 1080, (128, 128, 128))),
        ("black", lambda: jpeg(1280, 720, (0, 0, 0))),
    ],
)
@pytest.mark.parametrize("mode", ["standard", "detailed", "wide"])
def test_odd_but_valid_pictures_give_zero_people_and_a_public_image_of_bounded_size(cc, name, frame, mode):
    CongestionCamera.objects.filter(pk=cc.pk).update(mode=mode)
    assert _run(cc, frame()) == "done"
    assert Analysis.objects.get(congestion_camera=cc).count == 0
    public = PublicImage.objects.get(congestion_camera=cc)
    image = cv2.imdecode(np.frombuffer(default_storage.open(public.image).read(), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[1] <= 1920 and image.shape[0] <= 1280
