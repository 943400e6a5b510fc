"""One congestion analysis: grab a frame, detect people, render the public image. Django-free.

The frame goes to the detector only; the renderer gets the background and the people's geometry,
so the public image cannot contain a pixel of the frame (render.py).

A camera JPEG is decoded no larger than the detector needs (libjpeg's DCT scaling: a 1080p
snapshot is decoded at 960×540 for a detector that sees 640 px), and the public image is drawn at
the background's size, with the people's geometry scaled from the frame to it
(docs/performance.md, "Congestion analysis").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from workers.people.detector import DEFAULT_LEVEL, Detector, Person, confidence_for_level, input_size
from workers.people.render import MODES, FrameError, Mode, decode_jpeg, jpeg_size, render_public_image

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
    people: list[Person]  # in public-image (background) pixels, as drawn
    image_jpeg: bytes  # the public image: background + silhouettes only
    frame_size: tuple[int, int]  # (width, height) of the camera's frame, whatever size it was decoded at
    image_size: tuple[int, int]  # (width, height) of the public image: the background's size
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
    either (a frame source, so its time is measured as the grab). A picture that cannot be
    analysed (not a JPEG, corrupt, truncated, too large, not a colour image) raises FrameError.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    confidence_for_level(level)  # bad input fails before any work

    started = time.perf_counter()
    grabbed = frame() if callable(frame) else frame
    if isinstance(grabbed, bytes | bytearray | memoryview):
        frame_size = jpeg_size(grabbed)
        image = decode_jpeg(bytes(grabbed), needed_long_side=input_size(detector))
    else:
        image = grabbed
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.size == 0:
            raise FrameError("the camera's picture is not a colour image")
        frame_size = (image.shape[1], image.shape[0])
    grab_ms = _ms(started) if image is not frame else 0.0

    started = time.perf_counter()
    people = detector.detect(image, level=level)
    detect_ms = _ms(started)

    started = time.perf_counter()
    image_size = (background.shape[1], background.shape[0])
    sx, sy = image_size[0] / image.shape[1], image_size[1] / image.shape[0]
    drawn = people if (sx, sy) == (1.0, 1.0) else [p.scaled(sx, sy) for p in people]
    jpeg = render_public_image(background, drawn, mode, image_size)
    render_ms = _ms(started)
    return Analysis(
        count=len(people),
        people=drawn,
        image_jpeg=jpeg,
        frame_size=frame_size,
        image_size=image_size,
        timings=Timings(grab_ms=grab_ms, detect_ms=detect_ms, render_ms=render_ms),
    )
