"""Server-side motion detection for cameras without their own motion sensor.

Frame differencing against a slowly-updated background on a small blurred grey frame (≤ 640×360):
the score is the fraction of pixels that changed. Hysteresis turns scores into events: motion
starts after ``start_frames`` frames at or above ``start_threshold`` and ends once the score has
stayed below ``stop_threshold`` for ``hold_seconds``, so a person pausing mid-frame does not split
one event into many and sensor noise never starts one.

The detector works at any frame rate: a few frames a second from a full decode, or the keyframes only
(one per GOP, usually every 1–2 s). ``MotionConfig.for_interval`` keeps the background's memory the
same in seconds whatever the rate, and ``GopMeter`` tells from the keyframes' times when they come too
seldom for keyframe-only motion (docs/user-guide.md, "Server-side motion").
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

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
    frame_interval: float = 0.25  # seconds between frames the defaults above are tuned for (4 fps)

    def for_interval(self, seconds: float) -> MotionConfig:
        """The same detector for frames ``seconds`` apart: the background forgets at the same speed in
        seconds (a parked car fades in ~5 s either way), and an event stays open across at least one
        quiet frame, so keyframes 2 s apart do not split a person's walk into pieces."""
        seconds = max(0.01, float(seconds))
        keep = (1.0 - self.background_rate) ** (seconds / self.frame_interval)
        return replace(
            self,
            background_rate=min(0.9, 1.0 - keep),
            hold_seconds=max(self.hold_seconds, 1.5 * seconds),
            frame_interval=seconds,
        )


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

    @property
    def started_at(self) -> float | None:
        """When the open event began: its first moving frame (not the later frame that confirmed it)."""
        return self._active_start

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


class GopMeter:
    """The keyframe interval (GOP) of a live stream, from the times its keyframes arrive.

    ``add`` each keyframe's time; ``seconds`` is the median of the last few intervals (one late packet
    does not make a long GOP), known from the third interval on. The first ``skip`` keyframes do not
    count, nor keyframes closer than ``BURST`` seconds: a stream's first keyframes arrive in a burst,
    buffered while connecting, and a late packet lets two through at once (a camera sending nothing but
    keyframes has no interval to worry about). ``too_long(limit)`` is the question the recorder asks:
    would motion from keyframes alone come too late?
    """

    BURST = 0.2

    def __init__(self, window: int = 5, skip: int = 2) -> None:
        self._skip = skip
        self._last: float | None = None
        self._intervals: deque[float] = deque(maxlen=window)

    def restart(self, skip: int = 1) -> None:
        """The stream was reconnected: keep the intervals measured, skip the new connection's burst."""
        self._skip = skip
        self._last = None

    def add(self, t: float) -> None:
        if self._skip > 0:
            self._skip -= 1
            return
        if self._last is not None and t - self._last >= self.BURST:
            self._intervals.append(t - self._last)
        self._last = t

    @property
    def seconds(self) -> float | None:
        return statistics.median(self._intervals) if len(self._intervals) >= 3 else None

    def too_long(self, limit: float) -> bool:
        gop = self.seconds
        return gop is not None and gop >= limit
