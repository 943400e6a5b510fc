"""Wide-area mode on a synthetic dense crowd (workers/people/crowd.py): how many of the people pasted it
counts, for several final cross-tile merge IoUs (TiledDetector.merge_iou, shipped 0.5), and how many
pasted people a detection matches (IoU ≥ 0.4 with the pasted box, so duplicates cannot inflate it).
Standard and detailed modes on bus.jpg / zidane.jpg are printed alongside (they do not use the merge).

    .venv/bin/python bench/crowd_bench.py [--threads 2] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from workers.people.crowd import dense_crowd, person_crops  # noqa: E402
from workers.people.detector import BoxDetector, PoseDetector, TiledDetector  # noqa: E402
from workers.people.weights import sample_photo  # noqa: E402

MERGE_IOUS = (0.5, 0.6, 0.7)
SPACINGS = (0.55, 0.8)  # a neighbour every 55 % (dense, ~45 % overlap) or 80 % of a person's width


def _iou(box, p) -> float:
    ix = max(0.0, min(box[2], p.x2) - max(box[0], p.x1))
    iy = max(0.0, min(box[3], p.y2) - max(box[1], p.y1))
    inter = ix * iy
    return inter / ((box[2] - box[0]) * (box[3] - box[1]) + p.width * p.height - inter)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    photos = {n: cv2.imread(str(sample_photo(n))) for n in ("bus.jpg", "zidane.jpg")}
    box, pose = BoxDetector(threads=args.threads), PoseDetector(threads=args.threads)
    crops = person_crops(list(photos.values()), box)
    rows = []
    for spacing in SPACINGS:
        crowd = dense_crowd(crops, spacing=spacing)
        for merge_iou in MERGE_IOUS:
            started = time.perf_counter()
            people = TiledDetector(box, merge_iou=merge_iou).detect(crowd.frame)
            seconds = time.perf_counter() - started
            matched = sum(any(_iou(b, p) >= 0.4 for p in people) for b in crowd.boxes)
            rows.append({
                "spacing": spacing, "pasted": crowd.people, "merge_iou": merge_iou, "counted": len(people),
                "matched": matched, "kept": round(len(people) / crowd.people, 3), "seconds": round(seconds, 2),
            })  # fmt: skip
            print(json.dumps(rows[-1]))
    photos_row = {
        name: {"standard": len(box.detect(img)), "detailed": len(pose.detect(img)),
               "wide": len(TiledDetector(box).detect(img))}
        for name, img in photos.items()
    }  # fmt: skip
    print(json.dumps(photos_row))
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.processor() or platform.machine(),
        "cpus": __import__("os").cpu_count(), "crowd": rows, "photos": photos_row,
    }  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
