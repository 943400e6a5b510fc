"""The public congestion image: the registered empty background plus one drawn silhouette per person.

Privacy is absolute (docs/product.md §6.1): nothing here receives the analysed camera frame. The public image is
made only from a copy of the background and the people's geometry (boxes, keypoints), so no pixel
of the frame can reach it. ``blur_background`` is the one function that takes a frame: it makes
the background itself, on purpose, when an admin captures one (people in it are not masked).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Literal

import cv2
import numpy as np

from workers.people.detector import Person

Mode = Literal["standard", "detailed", "wide"]
MODES: tuple[Mode, ...] = ("standard", "detailed", "wide")
SILHOUETTE_BGR = (176, 112, 48)  # one flat colour for every person: a calm blue
JPEG_QUALITY = 85
KEYPOINT_MIN_VISIBILITY = 0.5  # as Ultralytics draws them
DAY_STARTS, NIGHT_STARTS = time(8, 0), time(17, 0)
BLUR_LEVELS = (1, 2, 3, 4, 5)

# The fixed person icon, in fractions of the box (u across, v down): shoulders, arms down the
# sides, torso and two legs with a gap; the head is a circle on top.
ICON_BODY = np.array(
    [
        (0.30, 0.25), (0.70, 0.25), (0.86, 0.31), (0.94, 0.60), (0.82, 0.62), (0.76, 0.40),
        (0.72, 0.62), (0.70, 1.00), (0.54, 1.00), (0.50, 0.66), (0.46, 1.00), (0.30, 1.00),
        (0.28, 0.62), (0.24, 0.40), (0.18, 0.62), (0.06, 0.60), (0.14, 0.31),
    ],
    dtype=np.float64,
)  # fmt: skip
ICON_HEAD_CENTRE_V, ICON_HEAD_RADIUS_V = 0.11, 0.095

# Pose skeleton, COCO keypoint indices.
NOSE, EYES_EARS = 0, (1, 2, 3, 4)
L_SHOULDER, R_SHOULDER, L_HIP, R_HIP = 5, 6, 11, 12
ARMS = ((5, 7), (7, 9), (6, 8), (8, 10))
LEGS = ((11, 13), (13, 15), (12, 14), (14, 16))


def _pt(x: float, y: float) -> tuple[int, int]:
    return round(x), round(y)


def _draw_icon(mask: np.ndarray, p: Person) -> None:
    if p.width < 1 or p.height < 1:
        return
    body = np.column_stack([p.x1 + ICON_BODY[:, 0] * p.width, p.y1 + ICON_BODY[:, 1] * p.height])
    cv2.fillPoly(mask, [np.round(body).astype(np.int32)], 255, cv2.LINE_AA)
    # A circle, not an ellipse: a cut-off (wide) box must not give a flat, stretched head.
    radius = max(1.0, min(ICON_HEAD_RADIUS_V * p.height, 0.3 * p.width))
    centre = _pt((p.x1 + p.x2) / 2, p.y1 + max(radius, ICON_HEAD_CENTRE_V * p.height))
    cv2.circle(mask, centre, round(radius), 255, -1, cv2.LINE_AA)


def _draw_pose(mask: np.ndarray, p: Person) -> bool:
    """Silhouette following the keypoints; False when too few are visible (caller draws the icon)."""
    kps = p.keypoints
    if kps is None or len(kps) < 17:
        return False
    seen = kps[:, 2] >= KEYPOINT_MIN_VISIBILITY
    if not (seen[L_SHOULDER] and seen[R_SHOULDER]):
        return False
    xy = kps[:, :2].astype(np.float64)
    shoulder_mid = (xy[L_SHOULDER] + xy[R_SHOULDER]) / 2
    # Body proportions follow the shoulder width, but a side view has narrow shoulders: fall back
    # on the box height so the limbs never become hairlines.
    shoulders = float(np.linalg.norm(xy[L_SHOULDER] - xy[R_SHOULDER]))
    scale = max(shoulders, 0.16 * p.height, 4.0)
    arm, leg = max(2, round(0.30 * scale)), max(2, round(0.38 * scale))

    if seen[L_HIP] and seen[R_HIP]:
        hips = [xy[R_HIP], xy[L_HIP]]
    elif seen[L_HIP] or seen[R_HIP]:
        hip = xy[L_HIP] if seen[L_HIP] else xy[R_HIP]
        hips = [hip - (xy[L_SHOULDER] - xy[R_SHOULDER]) / 2 * 0.8, hip + (xy[L_SHOULDER] - xy[R_SHOULDER]) / 2 * 0.8]
        hips.sort(key=lambda q: q[0])
    else:  # hips out of the frame (a close-up): the torso runs to the box's bottom
        down = np.array([0.0, max(p.y2 - shoulder_mid[1], scale)])
        hips = [xy[R_SHOULDER] + down, xy[L_SHOULDER] + down]
    torso = np.array([xy[R_SHOULDER], xy[L_SHOULDER], *sorted(hips, key=lambda q: -q[0])])
    cv2.fillPoly(mask, [np.round(torso).astype(np.int32)], 255, cv2.LINE_AA)
    # A thick shoulder line rounds the shoulders, so the arms join the torso without notches.
    cv2.line(mask, _pt(*xy[R_SHOULDER]), _pt(*xy[L_SHOULDER]), 255, arm, cv2.LINE_AA)
    for limbs, thickness in ((ARMS, arm), (LEGS, leg)):
        for a, b in limbs:
            if seen[a] and seen[b]:
                cv2.line(mask, _pt(*xy[a]), _pt(*xy[b]), 255, thickness, cv2.LINE_AA)

    face = [xy[i] for i in (NOSE, *EYES_EARS) if seen[i]]
    head_radius = 0.36 * scale
    if face:
        head = np.mean(face, axis=0)
        if seen[3] and seen[4]:  # both ears: the real head width
            head_radius = max(head_radius, 0.6 * float(np.linalg.norm(xy[3] - xy[4])))
    else:
        head = shoulder_mid - np.array([0.0, 0.55 * scale])
    cv2.line(mask, _pt(*shoulder_mid), _pt(*head), 255, max(2, round(0.32 * scale)), cv2.LINE_AA)
    cv2.circle(mask, _pt(*head), max(1, round(head_radius)), 255, -1, cv2.LINE_AA)
    return True


def silhouette_mask(people: Sequence[Person], mode: Mode, frame_size: tuple[int, int]) -> np.ndarray:
    """Coverage (0–255, anti-aliased edges) of the silhouettes on a frame of ``(width, height)``."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    width, height = frame_size
    mask = np.zeros((height, width), dtype=np.uint8)
    for p in people:
        if mode == "detailed" and _draw_pose(mask, p):
            continue
        _draw_icon(mask, p)  # standard, wide-area (approximate size), and the detailed fallback
    return mask


def render_public_frame(
    background: np.ndarray, people: Sequence[Person], mode: Mode, frame_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(image, mask): a COPY of the background at ``frame_size`` with the silhouettes composited in.

    Outside the mask the image equals the (resized) background exactly.
    """
    width, height = frame_size
    if background.ndim != 3 or background.shape[2] != 3:
        raise ValueError("background must be a BGR image")
    if background.shape[:2] == (height, width):
        canvas = background.copy()
    else:
        canvas = cv2.resize(background, (width, height), interpolation=cv2.INTER_AREA)
    mask = silhouette_mask(people, mode, frame_size)
    x, y, w, h = cv2.boundingRect(mask)  # blend only where something is drawn: ~15× faster at 1080p
    if w and h:
        roi = canvas[y : y + h, x : x + w]
        alpha = mask[y : y + h, x : x + w].astype(np.float32) * np.float32(1 / 255)
        colour = np.empty_like(roi)
        colour[:] = SILHOUETTE_BGR
        # Where alpha is 0 this returns the background byte for byte (rounding error < 0.5).
        canvas[y : y + h, x : x + w] = cv2.blendLinear(colour, roi, alpha, 1 - alpha)
    return canvas, mask


def encode_jpeg(image: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


class FrameError(ValueError):
    """The camera's picture cannot be analysed (not a JPEG, corrupt, truncated, absurdly large)."""


MAX_DECODED_SIDE = 8192  # no camera sends more; a bigger picture is decoded reduced (or refused)
MAX_DECODED_PIXELS = 40_000_000
_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """(width, height) from a JPEG's frame header, read before anything is decoded.

    Raises FrameError for anything that is not a complete baseline/progressive JPEG: a camera
    answering with HTML, a corrupt header, or a file cut short (no end-of-image marker).
    """
    view = memoryview(data)
    if len(view) < 4 or view[0] != 0xFF or view[1] != 0xD8:
        raise FrameError("the camera's picture is not a JPEG")
    if bytes(view[-2:]) != b"\xff\xd9" and b"\xff\xd9" not in bytes(view[-64:]):
        raise FrameError("the camera's picture is truncated (no end-of-image marker)")
    pos = 2
    while pos + 4 <= len(view):
        if view[pos] != 0xFF:
            raise FrameError("the camera's picture is a corrupt JPEG (bad marker)")
        marker = view[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(view[pos + 2 : pos + 4], "big")
        if marker in _SOF_MARKERS:
            if length < 8 or pos + 9 > len(view):
                break
            height = int.from_bytes(view[pos + 5 : pos + 7], "big")
            width = int.from_bytes(view[pos + 7 : pos + 9], "big")
            if not width or not height:
                raise FrameError("the camera's picture has no size")
            return width, height
        if marker == 0xDA or length < 2:  # start of scan before any frame header
            break
        pos += 2 + length
    raise FrameError("the camera's picture is a corrupt JPEG (no frame header)")


def reduction_for(size: tuple[int, int], needed_long_side: int | None) -> int:
    """The JPEG DCT scaling (1, 2, 4 or 8) to decode a picture of ``size`` at: the largest that
    still gives at least ``needed_long_side`` pixels (None: full size), then at least enough to stay
    within MAX_DECODED_SIDE / MAX_DECODED_PIXELS."""
    width, height = size
    factor = 1
    if needed_long_side:
        while factor < 8 and max(width, height) / (factor * 2) >= needed_long_side:
            factor *= 2
    while factor < 8 and (
        max(width, height) / factor > MAX_DECODED_SIDE or width * height / factor**2 > MAX_DECODED_PIXELS
    ):
        factor *= 2
    if max(width, height) / factor > MAX_DECODED_SIDE or width * height / factor**2 > MAX_DECODED_PIXELS:
        raise FrameError(f"the camera's picture is too large ({width}×{height})")
    return factor


def decode_jpeg(data: bytes, *, needed_long_side: int | None = None) -> np.ndarray:
    """Decode a JPEG, checked and bounded first (jpeg_size, reduction_for).

    With ``needed_long_side`` (the detector's input size) a large snapshot is decoded at 1/2, 1/4 or
    1/8 scale by libjpeg's DCT scaling, which costs a fraction of a full decode and resize.
    """
    size = jpeg_size(data)
    factor = reduction_for(size, needed_long_side)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), _REDUCED[factor])
    if image is None:
        raise FrameError("the camera's picture is a corrupt JPEG")
    return image


def render_public_image(
    background: np.ndarray,
    people: Sequence[Person],
    mode: Mode,
    frame_size: tuple[int, int],
    *,
    quality: int = JPEG_QUALITY,
) -> bytes:
    """JPEG of the public image; takes the background and geometry only, never the camera frame."""
    image, _ = render_public_frame(background, people, mode, frame_size)
    return encode_jpeg(image, quality)


def blur_background(frame: np.ndarray, level: int) -> np.ndarray:
    """A blurred copy of a captured frame, to register as the empty background.

    Level 1 (light) to 5 (strong); the sigma grows with the image size so a level looks the same
    on every resolution: level × 0.4 % of the long side (1920 px: 7.7 px … 38 px).
    """
    if level not in BLUR_LEVELS:
        raise ValueError(f"blur level must be 1 to 5, not {level!r}")
    sigma = level * 0.004 * max(frame.shape[:2])
    # Blurring a 4× smaller copy and scaling back gives the same look at 1/16 of the cost.
    small = cv2.resize(frame, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(sigma / 4, 0.5))
    return cv2.resize(small, (frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_LINEAR)


def day_or_night(now: datetime | time) -> Literal["day", "night"]:
    """Day background from 08:00 to 17:00 (17:00 itself is night), night background otherwise."""
    moment = now.time() if isinstance(now, datetime) else now
    return "day" if DAY_STARTS <= moment < NIGHT_STARTS else "night"


def choose_background(now: datetime | time, day: np.ndarray, night: np.ndarray | None = None) -> np.ndarray:
    """The fixed background (no night one registered) or the day/night one for ``now``."""
    if night is None:
        return day
    return day if day_or_night(now) == "day" else night
