"""Untrusted image uploads (alert, off-hours, background) are bounded before anything is decoded:
a few hundred bytes declaring 12000×12000 pixels are refused from the JPEG header alone."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from congestion import services
from congestion.models import AlertSetting
from tests.conftest import client_for

from .conftest import jpeg


def bomb(width: int = 12000, height: int = 12000, *, progressive: bool = False) -> bytes:
    """A real, tiny JPEG whose frame header (SOF0, or SOF2 when progressive) claims width × height."""
    image = np.full((16, 16, 3), (120, 120, 120), dtype=np.uint8)
    data = bytearray(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)])[1].tobytes())
    at = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[at + 5 : at + 7] = height.to_bytes(2, "big")
    data[at + 7 : at + 9] = width.to_bytes(2, "big")
    return bytes(data)


@pytest.fixture
def no_decoding(monkeypatch):
    """Any decode of an upload fails the test: the refusal must come before it."""

    def refuse(*args, **kwargs):
        raise AssertionError("an oversize upload was decoded")

    monkeypatch.setattr(cv2, "imdecode", refuse)


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def url(name: str, cc) -> str:
    return reverse(f"congestion:{name}", kwargs={"congestion_camera_id": cc.pk})


def test_the_header_gives_the_declared_size_without_decoding(no_decoding):
    assert services.jpeg_dimensions(jpeg(64, 48)) == (64, 48)
    assert services.jpeg_dimensions(bomb()) == (12000, 12000)
    assert services.jpeg_dimensions(bomb(progressive=True)) == (12000, 12000)
    assert len(bomb()) < 1000
    for broken in (b"", b"\xff\xd8", b"\xff\xd8\xff\xda\x00\x02", b"\x89PNG\r\n\x1a\n", bomb()[:20]):
        assert services.jpeg_dimensions(broken) is None


@pytest.mark.parametrize("progressive", [False, True])
def test_a_decompression_bomb_is_refused_on_every_upload_page_and_nothing_is_stored(
    cc, alpha, settings, no_decoding, progressive
):
    admin = client_for(alpha.admin)
    data = bomb(progressive=progressive)
    message = "The image is 12000×12000 pixels; at most 1920×1280 pixels are allowed."

    response = admin.post(
        url("camera_alerts", cc),
        {
            "steps": 2,
            "threshold_1": 5,
            "image_enabled": "on",
            "image_action_1": "upload",
            "image_file_1": SimpleUploadedFile("a.jpg", data, "image/jpeg"),
            "image_action_2": "keep",
            "image_action_3": "keep",
        },
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not AlertSetting.objects.exists()

    response = admin.post(
        url("camera_hours", cc), {"action": "offhours", "image": SimpleUploadedFile("b.jpg", data, "image/jpeg")}
    )
    assert response.status_code == 400 and message in response.content.decode()

    response = admin.post(
        url("camera_background", cc),
        {"which": "day", "source": "upload", "blur_level": 3, "image": SimpleUploadedFile("c.jpg", data)},
    )
    assert response.status_code == 400
    assert "The image is 12000×12000 pixels; at most 3840×2160 pixels are allowed." in response.content.decode()

    cc.refresh_from_db()
    assert (cc.offhours_image, cc.background_day, cc.background_night) == ("", "", "")
    assert stored_files(settings) == []


def test_the_services_check_the_header_before_decoding(cc, alpha, settings, no_decoding):
    """A camera's snapshot (background capture) and any other caller of the services get the same check."""
    with pytest.raises(ValidationError, match="12000×12000"):
        services.background_set(user=alpha.admin, congestion_camera=cc, which="day", jpeg=bomb())
    with pytest.raises(ValidationError, match="12000×12000"):
        services.offhours_image_set(user=alpha.admin, congestion_camera=cc, jpeg=bomb())
    with pytest.raises(ValidationError, match="12000×12000"):
        services.alert_update(
            user=alpha.admin, congestion_camera=cc, steps=2, thresholds=[5], image_enabled=True,
            images=[bomb(), None], mail_enabled=False, recipients=[],
        )  # fmt: skip
    assert stored_files(settings) == []


class CountingUpload:
    """An upload that records how much was read from it."""

    def __init__(self, data: bytes, size: int | None = None):
        self.data, self.size, self.reads = data, len(data) if size is None else size, []

    def seek(self, offset: int) -> None:
        pass

    def read(self, n: int = -1) -> bytes:
        self.reads.append(n)
        return self.data if n < 0 else self.data[:n]


def test_an_upload_larger_than_allowed_is_refused_before_it_is_read():
    upload = CountingUpload(b"\xff\xd8\xff", size=50 * 1024 * 1024)
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        services.jpeg_upload_read(upload)
    assert upload.reads == []
    # A file whose reported size is wrong is still read only up to the bound plus one byte.
    upload = CountingUpload(b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024), size=10)
    with pytest.raises(ValidationError, match="larger than 1 MB"):
        services.jpeg_upload_read(upload)
    assert upload.reads == [1024 * 1024 + 1]


def test_the_refusal_is_translated(no_decoding):
    with translation.override("ja"), pytest.raises(ValidationError) as caught:
        services.check_jpeg_header(bomb())
    assert "12000×12000" in caught.value.messages[0] and "pixels" not in caught.value.messages[0]
