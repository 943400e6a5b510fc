"""Real models and photos, loaded once per test session (each ONNX session costs ~100 ms to open)."""

import cv2
import numpy as np
import pytest

from workers.people.detector import BoxDetector, PoseDetector
from workers.people.weights import sample_photo


@pytest.fixture(scope="session")
def box_detector() -> BoxDetector:
    return BoxDetector()


@pytest.fixture(scope="session")
def pose_detector() -> PoseDetector:
    return PoseDetector()


def _photo(name: str) -> np.ndarray:
    image = cv2.imread(str(sample_photo(name)), cv2.IMREAD_COLOR)
    assert image is not None
    return image


@pytest.fixture(scope="session")
def _bus() -> np.ndarray:
    return _photo("bus.jpg")


@pytest.fixture(scope="session")
def _zidane() -> np.ndarray:
    return _photo("zidane.jpg")


@pytest.fixture
def bus(_bus: np.ndarray) -> np.ndarray:
    """bus.jpg from the ultralytics wheel: 4 people. A fresh copy, so a test may paint on it."""
    return _bus.copy()


@pytest.fixture
def zidane(_zidane: np.ndarray) -> np.ndarray:
    """zidane.jpg from the ultralytics wheel: 2 people."""
    return _zidane.copy()


@pytest.fixture
def empty_background() -> np.ndarray:
    """A registered 'empty' background: a smooth gradient with no colour near the privacy marker."""
    height, width = 540, 960
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[..., 0] = 90 + (xs * 60 // width)
    image[..., 1] = 100 + (ys * 50 // height)
    image[..., 2] = 110
    return image
