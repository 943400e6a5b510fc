"""A synthetic dense crowd for measuring wide-area mode (tests and bench/crowd_bench.py).

The person crops of the shipped sample photos (bus.jpg, zidane.jpg, found by the box detector) are
pasted at varied scales onto a plain, people-free background, in rows from the back (small, far) to the
front (large, near), each overlapping its neighbours. Each crop is pasted through a feathered elliptical
mask, so what hides a person is another person rather than the rectangle of a crop's own background.
Deterministic for a given seed. Every pasted person stays at least `min_visible` visible (checked
against the people pasted later in front of it), so the number pasted is the number a viewer counts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Crowd:
    frame: np.ndarray
    boxes: list[tuple[int, int, int, int]]  # x1, y1, x2, y2 of each person pasted

    @property
    def people(self) -> int:
        return len(self.boxes)


def person_crops(photos: list[np.ndarray], detector, *, side_cut: bool = False) -> list[np.ndarray]:
    """The people the detector finds clearly (level 1) in the photos, as crops, tallest first.

    A person cut by the photo's left or right edge is left out unless ``side_cut``: what shows of
    them is at one side of their crop, which the elliptical paste mask fades out (bus.jpg's man at
    the right edge keeps his legs and a strip of coat, well under the crowd's ``min_visible``).
    """
    crops = []
    for photo in photos:
        width = photo.shape[1]
        for p in detector.detect(photo, level=1):
            if not side_cut and (p.x1 <= 1 or p.x2 >= width - 1):
                continue
            crop = photo[int(p.y1) : int(p.y2), int(p.x1) : int(p.x2)]
            if crop.shape[0] >= 64 and crop.shape[1] >= 24 and p.height / max(p.width, 1) >= 1.2:
                crops.append(crop)
    return sorted(crops, key=lambda c: -c.shape[0])


def _mask(height: int, width: int) -> np.ndarray:
    mask = np.zeros((height, width), np.float32)
    cv2.ellipse(mask, (width // 2, height // 2), (max(width // 2 - 1, 1), max(height // 2 - 1, 1)), 0, 0, 360, 1.0, -1)
    blur = max(3, (min(height, width) // 8) | 1)
    return cv2.GaussianBlur(mask, (blur, blur), 0)[:, :, None]


def _visible_share(box, later) -> float:
    """Share of `box` not covered by the (elliptical, so ~78 % of the box) people pasted after it."""
    x1, y1, x2, y2 = box
    covered = np.zeros((y2 - y1, x2 - x1), bool)
    for a1, b1, a2, b2 in later:
        ix1, iy1, ix2, iy2 = max(x1, a1), max(y1, b1), min(x2, a2), min(y2, b2)
        if ix1 < ix2 and iy1 < iy2:
            covered[iy1 - y1 : iy2 - y1, ix1 - x1 : ix2 - x1] = True
    return 1.0 - covered.mean()


def dense_crowd(
    crops: list[np.ndarray],
    *,
    size: tuple[int, int] = (1920, 1080),
    rows: int = 5,
    seed: int = 17,
    spacing: float = 0.55,
    min_visible: float = 0.55,
) -> Crowd:
    """People in `rows` rows, each a bit larger than the one behind it, spaced `spacing` of a person's
    width apart (so neighbours overlap by ~45 % of their width), rows overlapping vertically."""
    rng = random.Random(seed)
    width, height = size
    canvas = np.full((height, width, 3), (118, 124, 121), np.uint8)
    cv2.randn(noise := np.zeros((height, width, 3), np.int16), 0, 6)
    canvas = np.clip(canvas.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    placed: list[tuple[np.ndarray, tuple[int, int, int, int]]] = []
    for row in range(rows):
        person_h = round(height * (0.08 + 0.04 * row))  # 86 px at the back … 259 px in front (1080 p)
        foot = round(height * (0.24 + 0.18 * row))
        x = rng.randint(0, person_h // 4)
        while x < width - person_h // 4:
            crop = crops[rng.randrange(len(crops))]
            scale = person_h * rng.uniform(0.88, 1.12) / crop.shape[0]
            w, h = max(8, round(crop.shape[1] * scale)), max(16, round(crop.shape[0] * scale))
            y = min(height - h, max(0, foot - h + rng.randint(-person_h // 12, person_h // 12)))
            if x + w > width:
                break
            placed.append((cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA), (x, y, x + w, y + h)))
            x += max(4, round(w * spacing * rng.uniform(0.9, 1.1)))
    # Keep only people a viewer still sees well enough, then paste back to front.
    boxes = [box for _, box in placed]
    kept = [(image, box) for i, (image, box) in enumerate(placed) if _visible_share(box, boxes[i + 1 :]) >= min_visible]
    for image, (x1, y1, x2, y2) in kept:
        mask = _mask(y2 - y1, x2 - x1)
        region = canvas[y1:y2, x1:x2].astype(np.float32)
        canvas[y1:y2, x1:x2] = (image * mask + region * (1 - mask)).astype(np.uint8)
    return Crowd(canvas, [box for _, box in kept])
