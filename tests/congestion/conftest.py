"""Congestion fixtures: alpha holds congestion option licenses and one registered camera."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.conf import settings

from congestion.models import CongestionCamera
from licensing.models import LicenseKind
from tests.factories import CameraFactory
from tests.licensing.factories import give_camera_licenses

ASSETS = Path(settings.BASE_DIR) / "var" / "models" / "assets"


def jpeg(width: int = 64, height: int = 48, colour=(200, 200, 200)) -> bytes:
    image = np.full((height, width, 3), colour, dtype=np.uint8)
    return cv2.imencode(".jpg", image)[1].tobytes()


def give_option(operator, count: int = 2):
    return give_camera_licenses(operator, count=count, kind=LicenseKind.CONGESTION_OPTION)


def register(tenant_or_camera, name: str | None = None) -> CongestionCamera:
    camera = getattr(tenant_or_camera, "camera", tenant_or_camera)
    return CongestionCamera.objects.create(
        operator_id=camera.operator_id, camera=camera, display_name=name or camera.name
    )


@pytest.fixture(autouse=True)
def _media(media_in_tmp):
    """Every test here stores images in its own folder (tests/conftest.py)."""


@pytest.fixture
def cc(alpha):
    give_option(alpha.operator, 2)
    return register(alpha)


@pytest.fixture
def bravo_cc(bravo):
    give_option(bravo.operator, 1)
    return register(bravo)


@pytest.fixture
def second_camera(alpha):
    return CameraFactory(room=alpha.room, name="Alpha Cam 2")


@pytest.fixture
def bus_jpeg() -> bytes:
    return (ASSETS / "bus.jpg").read_bytes()
