"""Server-side motion detection for cameras without their own motion sensor.

Frame differencing against a slowly-updated background on a small blurred grey frame (≤ 640×360):
the score is the fraction of pixels that changed. Hysteresis turns scores into events: motion
starts after ``start_frames`` frames at or above ``start_threshold`` and ends once the score has
stayed below ``stop_threshold`` for ``hold_seconds``, so a person pausing mid-frame does not split
one event into many and sensor noise never starts one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from workers.frames import Frame


@dataclass(frozen=True)
class MotionConfig:
    max_width: int = 320  # frames are shrunk to this width first: motion needs shapes, not detail
    blur: int = 5  # Gaussian kernel (odd); removes sensor noise and compression shimmer
    pixel_threshold: int = 25  # grey-level change that counts a pixel as changed
    background_rate: float = 0.05  # how fast the background follows the scene (lighting drift)
    start_threshold: float = 0.01  # fraction of changed pixels that is motion
    stop_threshold: float = 0.004
    start_frames: int = 2
    hold_seconds: float = 3.0
    warmup_frames: int = 3  # frames used to learn the background before anything can fire


@dataclass(frozen=True)
class MotionEvent:
    start: float  # frame time of the first moving frame
    end: float  # frame time of the last moving frame
    peak_score: float  # highest fraction of changed pixels seen during the event
    thumbnail: np.ndarray | None = field(default=None, compare=False, repr=False)  # frame at the peak


class MotionDetector:
    """Feed grey frames in time order with ``update``; it returns the events that just finished."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._background: np.ndarray | None = None
        self._frames = 0
        self._above = 0
        self._first_above = 0.0
        self._active_start: float | None = None
        self._last_motion = 0.0
        self._peak = 0.0
        self._peak_image: np.ndarray | None = None
        self.last_score = 0.0

    @property
    def in_motion(self) -> bool:
        return self._active_start is not None

    def prepare(self, image: np.ndarray) -> np.ndarray:
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        h, w = image.shape
        if w > self.config.max_width:
            image = cv2.resize(
                image, (self.config.max_width, h * self.config.max_width // w), interpolation=cv2.INTER_AREA
            )
        k = self.config.blur
        return cv2.GaussianBlur(image, (k, k), 0) if k > 1 else image

    def score(self, image: np.ndarray) -> float:
        """Fraction of pixels that differ from the background; also updates the background."""
        small = self.prepare(image)
        if self._background is None or self._background.shape != small.shape:
            self._background = small.astype(np.float32)
            return 0.0
        diff = cv2.absdiff(small, cv2.convertScaleAbs(self._background))
        _, mask = cv2.threshold(diff, self.config.pixel_threshold, 255, cv2.THRESH_BINARY)
        cv2.accumulateWeighted(small, self._background, self.config.background_rate)
        return cv2.countNonZero(mask) / mask.size

    def update(self, image: np.ndarray, t: float) -> list[MotionEvent]:
        c = self.config
        score = self.score(image)
        self._frames += 1
        self.last_score = score
        if self._frames <= c.warmup_frames:
            return []
        finished: list[MotionEvent] = []
        if self._active_start is None:
            if score >= c.start_threshold:
                if self._above == 0:
                    self._first_above = t
                self._above += 1
            else:
                self._above = 0
            if self._above >= c.start_frames:
                self._active_start = self._first_above
                self._last_motion = t
                self._peak, self._peak_image = score, image
        else:
            if score >= c.stop_threshold:
                self._last_motion = t
                if score > self._peak:
                    self._peak, self._peak_image = score, image
            elif t - self._last_motion >= c.hold_seconds:
                finished.append(self._close())
        return finished

    def flush(self) -> list[MotionEvent]:
        """End an event still open when the stream ends."""
        return [self._close()] if self._active_start is not None else []

    def _close(self) -> MotionEvent:
        event = MotionEvent(
            start=self._active_start, end=self._last_motion, peak_score=self._peak, thumbnail=self._peak_image
        )
        self._active_start = None
        self._above = 0
        self._peak, self._peak_image = 0.0, None
        return event


def detect_motion(frames: Iterable[Frame], detector: MotionDetector | None = None) -> Iterator[MotionEvent]:
    """Run a detector over a frame source, yielding each motion event when it ends."""
    detector = detector or MotionDetector()
    for frame in frames:
        yield from detector.update(frame.image, frame.time)
    yield from detector.flush()
