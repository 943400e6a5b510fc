"""Person detection behind one small interface: a BGR frame in, people (boxes, optional keypoints) out.

Real detectors run the pinned Ultralytics COCO models exported to ONNX (weights.py, build_models.py)
with onnxruntime on the CPU; ``FakeDetector`` stands in for them in tests of other parts.

Detection level 1–5 (docs/product.md §6.2, default 3) is a minimum confidence; higher levels find more people
and more false positives. Level 3 is 0.25, Ultralytics' own default, at which the sample photos
are counted exactly (bus.jpg 4, zidane.jpg 2). See ``LEVEL_CONFIDENCE``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from workers.people.weights import YOLO11N_POSE, YOLOV8N, WeightsSpec, model_file, model_precision, precision_for

# level -> minimum confidence. 1 = only clear people, 5 = also faint / partly hidden ones.
LEVEL_CONFIDENCE: dict[int, float] = {1: 0.55, 2: 0.40, 3: 0.25, 4: 0.15, 5: 0.08}
DEFAULT_LEVEL = 3
# Wide-area mode detects one level more sensitively than the level it is given (level 3 → level 4's
# 0.15): a small person partly hidden by their neighbours in a crowd scores lower than one seen whole.
# Such a weaker box (below the given level's confidence) is only kept in a crowd, i.e. when at least
# WIDE_WEAK_NEIGHBOUR of its area overlaps another person's box: alone it is mostly a post, a cone or
# a tripod; cut by a tile edge, it is dropped (the tile beside sees that person whole). On the dense
# synthetic crowd this raises the people counted from 83 % to 93 % (found one to one: 81 % → 88 %) at
# no extra cost; the sample photos and the demo footage keep their counts (docs/performance.md
# "Wide-area mode in a dense crowd").
WIDE_LEVEL_SHIFT = 1
WIDE_WEAK_NEIGHBOUR = 0.05
# Adaptive refinement: a tile in which the first pass finds at least WIDE_CROWD_PEOPLE people holds a
# crowd; that region runs again as WIDE_REFINE_TILE px tiles (upscaled to the model's input, so people
# there are seen 1.33× larger) whose results replace that tile's. An ordinary scene (the sample photos,
# the demo footage: at most 7 people in a tile) never reaches it and costs what it did; in the dense
# synthetic crowd every tile does (docs/performance.md "Wide-area mode in a dense crowd").
WIDE_CROWD_PEOPLE = 12
WIDE_REFINE_TILE = 480
NMS_IOU = 0.7  # Ultralytics' default, so counts match its own predict()
KEYPOINT_COUNT = 17  # COCO order: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles
LETTERBOX_GREY = 114


def confidence_for_level(level: int) -> float:
    if level not in LEVEL_CONFIDENCE:
        raise ValueError(f"detection level must be 1 to 5, not {level!r}")
    return LEVEL_CONFIDENCE[level]


@dataclass(frozen=True)
class Person:
    """One detected person, in the pixel coordinates of the analysed frame."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    # (17, 3): x, y, visibility 0–1, COCO keypoint order; None for box-only detection.
    keypoints: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    def scaled(self, sx: float, sy: float) -> Person:
        """The same person on a picture scaled by (sx, sy): the public image is the background's size."""
        kps = None
        if self.keypoints is not None:
            kps = self.keypoints.copy()
            kps[:, 0] *= sx
            kps[:, 1] *= sy
        return replace(self, x1=self.x1 * sx, y1=self.y1 * sy, x2=self.x2 * sx, y2=self.y2 * sy, keypoints=kps)

    def shifted(self, dx: float, dy: float) -> Person:
        kps = None
        if self.keypoints is not None:
            kps = self.keypoints.copy()
            kps[:, 0] += dx
            kps[:, 1] += dy
        return replace(self, x1=self.x1 + dx, y1=self.y1 + dy, x2=self.x2 + dx, y2=self.y2 + dy, keypoints=kps)


class Detector(Protocol):
    def detect(self, frame_bgr: np.ndarray, *, level: int | None = None) -> list[Person]:
        """People in the frame at the given detection level (the detector's own level when None)."""
        ...


def input_size(detector: Detector) -> int | None:
    """The long side the detector scales every frame to, or None when it needs native pixels
    (wide-area tiles, fakes). A camera JPEG need not be decoded larger than this (analyse.py)."""
    return getattr(detector, "input_size", None)


@dataclass(frozen=True)
class _Letterbox:
    scale: float
    left: int
    top: int


def letterbox(frame_bgr: np.ndarray, size: int) -> tuple[np.ndarray, _Letterbox]:
    """Resize keeping the aspect ratio so the long side is ``size``, pad to a multiple of 32.

    Same "rect" letterbox as Ultralytics' predict(): a 16:9 frame becomes 640×384, not 640×640,
    which saves ~40 % of the work and gives the same scores.
    """
    h, w = frame_bgr.shape[:2]
    scale = min(size / h, size / w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    pad_w, pad_h = (-new_w) % 32, (-new_h) % 32
    if (new_w, new_h) == (w, h):
        resized = frame_bgr
    else:
        resized = cv2.resize(frame_bgr, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    left, top = pad_w // 2, pad_h // 2
    padded = cv2.copyMakeBorder(
        resized, top, pad_h - top, left, pad_w - left, cv2.BORDER_CONSTANT, value=(LETTERBOX_GREY,) * 3
    )
    return padded, _Letterbox(scale, left, top)


def nms(people: Sequence[Person], iou: float) -> list[Person]:
    """Greedy non-maximum suppression, best score first."""
    if not people:
        return []
    boxes = [[p.x1, p.y1, p.width, p.height] for p in people]
    keep = cv2.dnn.NMSBoxes(boxes, [p.score for p in people], 0.0, iou)
    return sorted((people[i] for i in np.asarray(keep).ravel()), key=lambda p: -p.score)


_SESSIONS: dict[tuple[Path, int], object] = {}
_SESSIONS_LOCK = threading.Lock()


def _session(onnx: Path, threads: int):
    """One onnxruntime session per (model, threads) and process: loading costs ~100 ms."""
    import onnxruntime as ort  # imported here so render/analyse tests with a fake need no runtime

    key = (onnx, threads)
    with _SESSIONS_LOCK:
        if key not in _SESSIONS:
            options = ort.SessionOptions()
            # A worker process analyses one camera at a time; parallelism comes from processes
            # (one per core), which is faster in total than threads inside one small model.
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            # ORT_ENABLE_ALL (the default, stated here because the bench reports it): the QDQ pairs
            # of the 8-bit model are fused into QLinearConv kernels (MLAS, VNNI where the CPU has it).
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            _SESSIONS[key] = ort.InferenceSession(str(onnx), options, providers=["CPUExecutionProvider"])
        return _SESSIONS[key]


class _OnnxYolo:
    spec: WeightsSpec

    def __init__(
        self,
        *,
        level: int = DEFAULT_LEVEL,
        imgsz: int = 640,
        threads: int = 1,
        models_dir: Path | None = None,
        precision: str | None = None,
    ) -> None:
        confidence_for_level(level)
        self.level = level
        self.imgsz = imgsz
        self.threads = threads
        self.precision = precision_for(self.spec, precision)
        self.onnx = model_file(self.spec, precision=self.precision, directory=models_dir)
        self._session = _session(self.onnx, threads)
        self._input = self._session.get_inputs()[0].name

    @property
    def input_size(self) -> int:
        return self.imgsz

    def runtime(self) -> dict[str, str]:
        """What runs: model file, precision, onnxruntime execution provider and graph optimisation level."""
        import onnxruntime as ort

        options = self._session.get_session_options()
        return {
            "model": self.onnx.name,
            "precision": self.precision,
            "onnxruntime": ort.__version__,
            "provider": self._session.get_providers()[0],
            "graph_optimization_level": str(options.graph_optimization_level).rsplit(".", 1)[-1],
            "threads": str(options.intra_op_num_threads),
        }

    @staticmethod
    def _tensor(images: Sequence[np.ndarray]) -> np.ndarray:
        batch = np.stack([image[:, :, ::-1] for image in images]).transpose(0, 3, 1, 2)
        return np.ascontiguousarray(batch, dtype=np.float32) / np.float32(255)

    def detect(self, frame_bgr: np.ndarray, *, level: int | None = None) -> list[Person]:
        return self.detect_many([frame_bgr], level=level)[0]

    def detect_many(self, frames: Sequence[np.ndarray], *, level: int | None = None) -> list[list[Person]]:
        """People in each frame; frames whose letterbox has the same shape share one inference
        (the exports take a dynamic batch), which is how wide-area tiles are run."""
        threshold = confidence_for_level(self.level if level is None else level)
        boxed = [letterbox(frame, self.imgsz) for frame in frames]
        results: list[list[Person]] = [[] for _ in frames]
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for index, (image, _) in enumerate(boxed):
            by_shape.setdefault(image.shape, []).append(index)
        for indices in by_shape.values():
            raw = self._session.run(None, {self._input: self._tensor([boxed[i][0] for i in indices])})[0]
            for row, index in enumerate(indices):
                results[index] = self._people(raw[row], boxed[index][1], frames[index].shape, threshold)
        return results

    def _people(self, raw: np.ndarray, box: _Letterbox, shape: tuple[int, ...], threshold: float) -> list[Person]:
        """Post-processing of one image's output, (channels, anchors), into people in frame pixels."""
        scores = raw[4]
        chosen = np.flatnonzero(scores >= threshold)
        if chosen.size == 0:
            return []
        cx, cy, bw, bh = (raw[i, chosen] for i in range(4))
        h, w = shape[:2]
        x1 = np.clip((cx - bw / 2 - box.left) / box.scale, 0, w)
        y1 = np.clip((cy - bh / 2 - box.top) / box.scale, 0, h)
        x2 = np.clip((cx + bw / 2 - box.left) / box.scale, 0, w)
        y2 = np.clip((cy + bh / 2 - box.top) / box.scale, 0, h)
        keypoints = self._keypoints(raw, chosen, box)
        people = [
            Person(
                float(x1[i]),
                float(y1[i]),
                float(x2[i]),
                float(y2[i]),
                float(scores[chosen[i]]),
                None if keypoints is None else keypoints[i],
            )
            for i in range(chosen.size)
        ]
        return nms(people, NMS_IOU)

    def _keypoints(self, raw: np.ndarray, chosen: np.ndarray, box: _Letterbox) -> np.ndarray | None:
        return None


class BoxDetector(_OnnxYolo):
    """YOLOv8n (COCO); only class 0, person. Output rows: cx, cy, w, h, 80 class scores."""

    spec = YOLOV8N


class PoseDetector(_OnnxYolo):
    """YOLO11n-pose: persons with 17 keypoints. Output rows: cx, cy, w, h, score, 17 × (x, y, vis)."""

    spec = YOLO11N_POSE

    def _keypoints(self, raw: np.ndarray, chosen: np.ndarray, box: _Letterbox) -> np.ndarray:
        kps = raw[5 : 5 + KEYPOINT_COUNT * 3, chosen].T.reshape(-1, KEYPOINT_COUNT, 3).copy()
        kps[:, :, 0] = (kps[:, :, 0] - box.left) / box.scale
        kps[:, :, 1] = (kps[:, :, 1] - box.top) / box.scale
        return kps


def _tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spaced tile starts, first at 0 and last ending at the frame edge, overlapping ≥ ``overlap``."""
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    count = max(count, 2)
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


class TiledDetector:
    """Wide-area mode: small, distant people are found by running the inner detector on
    overlapping tiles at (close to) native resolution, plus one pass on the whole frame for people
    larger than a tile; the results are merged.

    A person cut by a tile's inner edge shows up as a partial box; such boxes are dropped when
    ``cut_containment`` of them lies inside a box from another tile or from the whole-frame pass, then
    plain NMS at ``merge_iou`` merges the duplicates found in the overlaps. Neighbours in a dense crowd
    overlap far less than that (IoU ~0.3 at 45 % of a width), so the merge does not join them; a higher
    IoU, or merging only boxes from different tiles, only adds duplicates (docs/performance.md).

    The inner detector runs ``level_shift`` levels above the level asked for; what it finds below the
    asked level's confidence counts only next to another person (WIDE_LEVEL_SHIFT, WIDE_WEAK_NEIGHBOUR)
    and never cut by a tile edge (``drop_weak_cut``).
    """

    def __init__(
        self,
        inner: Detector,
        *,
        tile: int = 640,
        overlap: float = 0.25,
        whole_frame_pass: bool = True,
        level: int = DEFAULT_LEVEL,
        merge_iou: float = 0.5,
        cut_containment: float = 0.4,
        edge_margin: float = 0.02,
        level_shift: int = WIDE_LEVEL_SHIFT,
        weak_neighbour: float = WIDE_WEAK_NEIGHBOUR,
        drop_weak_cut: bool = True,
        crowd_people: int | None = WIDE_CROWD_PEOPLE,
        refine_tile: int = WIDE_REFINE_TILE,
        refine_replaces: bool = True,
    ) -> None:
        if not 0 <= overlap < 1:
            raise ValueError("overlap must be in [0, 1)")
        confidence_for_level(level)
        self.inner = inner
        self.tile = tile
        self.overlap = overlap
        self.whole_frame_pass = whole_frame_pass
        self.level = level
        self.merge_iou = merge_iou
        self.cut_containment = cut_containment
        self.level_shift = level_shift
        self.weak_neighbour = weak_neighbour
        self.drop_weak_cut = drop_weak_cut
        self.crowd_people = crowd_people
        self.refine_tile = refine_tile
        self.refine_replaces = refine_replaces
        self.refined = 0  # refinement tiles run by the last detect() (the bench and tests read it)
        # A box this close to a tile edge (share of the tile) counts as cut: the model rarely puts
        # the edge of a partly visible person exactly on the border.
        self.edge_margin = edge_margin

    def tiles(self, width: int, height: int, tile: int | None = None) -> list[tuple[int, int, int, int]]:
        """(x, y, w, h) of every tile; an empty list when the frame fits in one tile."""
        tile = tile or self.tile
        if width <= tile and height <= tile:
            return []
        overlap = int(tile * self.overlap)
        tw, th = min(tile, width), min(tile, height)
        return [(x, y, tw, th) for y in _tile_starts(height, th, overlap) for x in _tile_starts(width, tw, overlap)]

    def refinement_tiles(
        self, width: int, height: int, crowded: Sequence[tuple[int, int, int, int]]
    ) -> list[tuple[int, int, int, int]]:
        """The ``refine_tile`` px tiles of the frame of which at least a quarter lies in a crowded tile."""
        chosen = []
        for x, y, tw, th in self.tiles(width, height, self.refine_tile):
            inside = max(
                max(0, min(x + tw, cx + cw) - max(x, cx)) * max(0, min(y + th, cy + ch) - max(y, cy))
                for cx, cy, cw, ch in crowded
            )
            if inside >= 0.25 * tw * th:
                chosen.append((x, y, tw, th))
        return chosen

    def detect(self, frame_bgr: np.ndarray, *, level: int | None = None) -> list[Person]:
        level = self.level if level is None else level
        asked = confidence_for_level(level)
        inner_level = min(level + self.level_shift, max(LEVEL_CONFIDENCE))
        return _weak_only_in_a_crowd(self._detect(frame_bgr, inner_level, asked), asked, self.weak_neighbour)

    def _run(self, frame_bgr: np.ndarray, crops: list[np.ndarray], level: int, whole: bool):
        many = getattr(self.inner, "detect_many", None)
        if many is not None:  # the tiles (all one shape) in one batched inference, the whole frame in another
            per_crop = many([frame_bgr, *crops] if whole else crops, level=level)
            return (per_crop.pop(0) if whole else []), per_crop
        found = self.inner.detect(frame_bgr, level=level) if whole else []
        return found, [self.inner.detect(crop, level=level) for crop in crops]

    def _detect(self, frame_bgr: np.ndarray, level: int, asked: float) -> list[Person]:
        self.refined = 0
        height, width = frame_bgr.shape[:2]
        tiles = self.tiles(width, height)
        if not tiles:
            return self.inner.detect(frame_bgr, level=level)
        crops = [frame_bgr[y : y + th, x : x + tw] for x, y, tw, th in tiles]
        whole, per_crop = self._run(frame_bgr, crops, level, self.whole_frame_pass)
        crowded = [
            index
            for index, people in enumerate(per_crop)
            if self.crowd_people is not None and len(people) >= self.crowd_people
        ]
        if crowded:
            finer = self.refinement_tiles(width, height, [tiles[i] for i in crowded])
            _, finer_people = self._run(
                frame_bgr, [frame_bgr[y : y + th, x : x + tw] for x, y, tw, th in finer], level, False
            )
            self.refined = len(finer)
            if self.refine_replaces:
                for index in crowded:
                    per_crop[index] = []
            tiles, per_crop = [*tiles, *finer], [*per_crop, *finer_people]
        found: list[tuple[Person, int, bool]] = [(p, -1, False) for p in whole]  # person, source, cut by a tile edge
        for index, ((x, y, tw, th), people) in enumerate(zip(tiles, per_crop, strict=True)):
            margin = self.edge_margin * max(tw, th)
            for p in people:
                cut = _touches_inner_edge(p, x, y, tw, th, width, height, margin=margin)
                found.append((p.shifted(x, y), index, cut))
        # A weak box cut by a tile edge is a fragment: the tile beside it sees that person whole.
        kept = [
            p
            for p, source, cut in found
            if not cut
            or not (
                (self.drop_weak_cut and p.score < asked)
                or any(s != source and _containment(p, q) > self.cut_containment for q, s, _ in found)
            )
        ]
        return nms(kept, self.merge_iou)


def _weak_only_in_a_crowd(people: list[Person], confidence: float, neighbour: float) -> list[Person]:
    """The people scoring at least ``confidence``, and the weaker ones of which at least ``neighbour``
    of the area overlaps another person's box (weak or not)."""
    return [
        p
        for p in people
        if p.score >= confidence or any(q is not p and _containment(p, q) >= neighbour for q in people)
    ]


def _touches_inner_edge(p: Person, x: int, y: int, tw: int, th: int, width: int, height: int, margin: float) -> bool:
    """True when the box reaches a tile edge that is not also an edge of the frame."""
    return (
        (p.x1 <= margin and x > 0)
        or (p.y1 <= margin and y > 0)
        or (p.x2 >= tw - margin and x + tw < width)
        or (p.y2 >= th - margin and y + th < height)
    )


def _containment(inner: Person, outer: Person) -> float:
    """Share of ``inner``'s area that lies inside ``outer``."""
    ix = max(0.0, min(inner.x2, outer.x2) - max(inner.x1, outer.x1))
    iy = max(0.0, min(inner.y2, outer.y2) - max(inner.y1, outer.y1))
    area = max(inner.width * inner.height, 1e-9)
    return ix * iy / area


class FakeDetector:
    """Returns prepared people (or the result of a function of the frame), filtered by level.

    Counts calls and remembers the frame shapes it saw, so tests can check how it was used.
    """

    def __init__(
        self,
        people: Iterable[Person] | Callable[[np.ndarray], Iterable[Person]] = (),
        *,
        level: int = DEFAULT_LEVEL,
    ) -> None:
        self._people = people if callable(people) else list(people)
        self.level = level
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, frame_bgr: np.ndarray, *, level: int | None = None) -> list[Person]:
        self.calls += 1
        self.shapes.append(frame_bgr.shape)
        threshold = confidence_for_level(self.level if level is None else level)
        people = self._people(frame_bgr) if callable(self._people) else self._people
        return [p for p in people if p.score >= threshold]


_BY_MODE: dict[tuple[str, int, Path | None, str], Detector] = {}


def detector_for_mode(
    mode: str, *, threads: int = 1, models_dir: Path | None = None, precision: str | None = None
) -> Detector:
    """The detector a camera's AI mode uses, built once per process (the weights are verified then).

    standard: boxes (YOLOv8n); detailed: pose (YOLO11n-pose); wide: YOLOv8n on overlapping tiles.
    ``precision`` is auto, int8 or float; PEOPLE_MODEL_PRECISION (default auto) when None.
    """
    precision = precision or model_precision()
    key = (mode, threads, models_dir, precision)
    with _SESSIONS_LOCK:
        cached = _BY_MODE.get(key)
    if cached is not None:
        return cached
    options = {"threads": threads, "models_dir": models_dir, "precision": precision}
    if mode == "standard":
        detector: Detector = BoxDetector(**options)
    elif mode == "detailed":
        detector = PoseDetector(**options)
    elif mode == "wide":
        detector = TiledDetector(BoxDetector(**options))
    else:
        raise ValueError(f"unknown mode {mode!r}; expected standard, detailed or wide")
    with _SESSIONS_LOCK:
        return _BY_MODE.setdefault(key, detector)


def standing_keypoints(x1: float, y1: float, x2: float, y2: float, *, arms_spread: bool = False) -> np.ndarray:
    """Keypoints of a person facing the camera, centred in the box and as tall as it (for fakes
    and tests), with arms hanging down or spread out sideways. Proportions are of the height."""
    cx, h = (x1 + x2) / 2, y2 - y1
    # index: (offset across in heights, positive = the person's left = the image's right; down in heights)
    layout = {
        0: (0.0, 0.07), 1: (0.02, 0.055), 2: (-0.02, 0.055), 3: (0.045, 0.065), 4: (-0.045, 0.065),
        5: (0.12, 0.20), 6: (-0.12, 0.20), 11: (0.08, 0.52), 12: (-0.08, 0.52),
        13: (0.08, 0.74), 14: (-0.08, 0.74), 15: (0.08, 0.96), 16: (-0.08, 0.96),
    }  # fmt: skip
    if arms_spread:
        layout |= {7: (0.27, 0.19), 8: (-0.27, 0.19), 9: (0.42, 0.16), 10: (-0.42, 0.16)}
    else:
        layout |= {7: (0.14, 0.36), 8: (-0.14, 0.36), 9: (0.14, 0.50), 10: (-0.14, 0.50)}
    kps = np.zeros((KEYPOINT_COUNT, 3), dtype=np.float32)
    for index, (across, down) in layout.items():
        kps[index] = (cx + across * h, y1 + down * h, 0.95)
    return kps


__all__ = [
    "DEFAULT_LEVEL",
    "LEVEL_CONFIDENCE",
    "WIDE_LEVEL_SHIFT",
    "WIDE_WEAK_NEIGHBOUR",
    "BoxDetector",
    "Detector",
    "FakeDetector",
    "Person",
    "PoseDetector",
    "TiledDetector",
    "confidence_for_level",
    "detector_for_mode",
    "input_size",
    "letterbox",
    "nms",
    "standing_keypoints",
]
