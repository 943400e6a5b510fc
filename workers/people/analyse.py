"""One congestion analysis: grab a frame, detect people, render the public image. Django-free.

The frame goes to the detector only; the renderer gets the background and the people's geometry,
so the public image cannot contain a pixel of the frame (render.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from workers.people.detector import DEFAULT_LEVEL, Detector, Person, confidence_for_level
from workers.people.render import MODES, Mode, decode_jpeg, render_public_image

FrameInput = np.ndarray | bytes | Callable[[], np.ndarray | bytes]


@dataclass(frozen=True)
class Timings:
    grab_ms: float  # calling the frame source and/or decoding a JPEG; 0 for a ready frame
    detect_ms: float
    render_ms: float  # drawing and JPEG encoding

    @property
    def total_ms(self) -> float:
        return self.grab_ms + self.detect_ms + self.render_ms


@dataclass(frozen=True)
class Analysis:
    count: int
    people: list[Person]
    image_jpeg: bytes  # the public image: background + silhouettes only
    frame_size: tuple[int, int]  # (width, height) of the analysed frame and of the public image
    timings: Timings


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def analyse_frame(
    frame: FrameInput,
    detector: Detector,
    background: np.ndarray,
    mode: Mode = "standard",
    level: int = DEFAULT_LEVEL,
) -> Analysis:
    """Count the people in ``frame`` and draw them on ``background``.

    ``frame`` is a decoded BGR image, JPEG bytes (a camera snapshot), or a callable returning
    either (a frame source, so its time is measured as the grab).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    confidence_for_level(level)  # bad input fails before any work

    started = time.perf_counter()
    grabbed = frame() if callable(frame) else frame
    image = decode_jpeg(grabbed) if isinstance(grabbed, bytes | bytearray | memoryview) else grabbed
    grab_ms = _ms(started) if image is not frame else 0.0
    height, width = image.shape[:2]

    started = time.perf_counter()
    people = detector.detect(image, level=level)
    detect_ms = _ms(started)

    started = time.perf_counter()
    jpeg = render_public_image(background, people, mode, (width, height))
    render_ms = _ms(started)
    return Analysis(
        count=len(people),
        people=people,
        image_jpeg=jpeg,
        frame_size=(width, height),
        timings=Timings(grab_ms=grab_ms, detect_ms=detect_ms, render_ms=render_ms),
    )
