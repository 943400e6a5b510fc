"""Wide-area mode on a synthetic dense crowd (workers/people/crowd.py): how many of the people pasted it
counts and finds, with the shipped settings and the alternatives measured for docs/performance.md
"Wide-area mode in a dense crowd".

"counted" is what wide-area mode reports; "matched" the pasted people some detection overlaps at IoU ≥ 0.4;
"found" the pasted people matched one to one (each detection to at most one person, best IoU first), so
neither duplicates nor a box across two people can raise it; "extra" = counted − found. CPU seconds are
the detector's process time per frame. The sample photos (standard, detailed and wide) and frames of the
demo footage (wide; people counted by eye in tests/workers/people/test_people_int8.py) are counted alongside.

    .venv/bin/python bench/crowd_bench.py [--threads 1] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from workers.people.crowd import dense_crowd, person_crops  # noqa: E402
from workers.people.detector import BoxDetector, PoseDetector, TiledDetector  # noqa: E402
from workers.people.weights import sample_photo  # noqa: E402

SPACINGS = (0.55, 0.8)  # a neighbour every 55 % (dense, ~45 % overlap) or 80 % of a person's width
# name -> TiledDetector options; "shipped" is the default, "before" the settings until 2026-12-02.
SETTINGS = {
    "shipped": {},
    "before": {"level_shift": 0, "cut_containment": 0.6},
    "merge IoU 0.7": {"merge_iou": 0.7},
    "no level shift": {"level_shift": 0},
    "weak boxes kept alone too": {"weak_neighbour": 0.0},
    "weak cut boxes kept": {"drop_weak_cut": False},
    "480 px tiles": {"tile": 480},
}
QUICK = ("shipped", "before")
VTEST = ROOT / "var" / "media-fixtures" / "vtest.mp4"
VTEST_BY_EYE = {5: 6, 20: 7, 35: 5, 50: 4, 65: 6}


def _iou(boxes: np.ndarray, people) -> np.ndarray:
    """(pasted, detections) IoU matrix."""
    det = np.array([[p.x1, p.y1, p.x2, p.y2] for p in people], float).reshape(-1, 4)
    ix = np.maximum(0, np.minimum(boxes[:, None, 2], det[None, :, 2]) - np.maximum(boxes[:, None, 0], det[None, :, 0]))
    iy = np.maximum(0, np.minimum(boxes[:, None, 3], det[None, :, 3]) - np.maximum(boxes[:, None, 1], det[None, :, 1]))
    inter = ix * iy
    area_b = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    area_d = (det[:, 2] - det[:, 0]) * (det[:, 3] - det[:, 1])
    return inter / (area_b[:, None] + area_d[None, :] - inter)


def score(crowd, people) -> dict[str, int]:
    iou = _iou(np.array(crowd.boxes, float), people)
    pairs = sorted(zip(*np.nonzero(iou >= 0.4), strict=True), key=lambda gd: -iou[gd])
    used_people, used_detections = set(), set()
    for g, d in pairs:
        if g not in used_people and d not in used_detections:
            used_people.add(g)
            used_detections.add(d)
    return {"matched": int((iou >= 0.4).any(1).sum()), "found": len(used_people)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}, only the shipped crowd")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    photos = {n: cv2.imread(str(sample_photo(n))) for n in ("bus.jpg", "zidane.jpg")}
    box, pose = BoxDetector(threads=args.threads), PoseDetector(threads=args.threads)
    settings = {name: SETTINGS[name] for name in (QUICK if args.quick else SETTINGS)}
    crowds = {"shipped crowd": person_crops(list(photos.values()), box)}
    if not args.quick:  # the crowd as first built, with bus.jpg's man cut by the photo's right edge
        crowds["with the side-cut crop"] = person_crops(list(photos.values()), box, side_cut=True)
    rows = []
    for crowd_name, crops in crowds.items():
        for spacing in SPACINGS:
            crowd = dense_crowd(crops, spacing=spacing)
            for name, options in settings.items():
                if crowd_name != "shipped crowd" and name not in QUICK:
                    continue
                detector = TiledDetector(box, **options)
                started = time.process_time()
                people = detector.detect(crowd.frame)
                cpu = time.process_time() - started
                counts = score(crowd, people)
                rows.append({
                    "crowd": crowd_name, "spacing": spacing, "settings": name, "pasted": crowd.people,
                    "counted": len(people), **counts, "extra": len(people) - counts["found"],
                    "kept": round(len(people) / crowd.people, 3),
                    "found_share": round(counts["found"] / crowd.people, 3),
                    "cpu_s": round(cpu, 2), "tiles": len(detector.tiles(*crowd.frame.shape[1::-1])),
                })  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
    photos_row = {
        name: {"standard": len(box.detect(img)), "detailed": len(pose.detect(img)),
               **{f"wide {s}": len(TiledDetector(box, **o).detect(img)) for s, o in settings.items()}}
        for name, img in photos.items()
    }  # fmt: skip
    print(json.dumps(photos_row), flush=True)
    footage = {}
    if VTEST.exists():
        for second, by_eye in VTEST_BY_EYE.items():
            png = subprocess.run(
                ["ffmpeg", "-nostdin", "-loglevel", "error", "-ss", str(second), "-i", str(VTEST), "-frames:v", "1",
                 "-f", "image2pipe", "-c:v", "png", "-"],
                check=True, capture_output=True,
            ).stdout  # fmt: skip
            frame = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
            footage[second] = {"by eye": by_eye, "standard": len(box.detect(frame))} | {
                f"wide {s}": len(TiledDetector(box, **o).detect(frame)) for s, o in settings.items()
            }
            big = cv2.resize(frame, (1440, 1080))  # as a 1080p camera would see it: 6 tiles, not 2
            footage[second] |= {
                f"wide {s}, 1440×1080": len(TiledDetector(box, **o).detect(big))
                for s, o in settings.items()
                if s in (*QUICK, "weak cut boxes kept")
            }
        print(json.dumps({"demo footage": footage}), flush=True)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "threads": args.threads,
        "crowd": rows,
        "photos": photos_row,
        "footage": footage,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
