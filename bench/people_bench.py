"""People-detection benchmark: ms per analysis step, and cameras one 2-core worker keeps at one
analysis per minute.

    .venv/bin/python bench/people_bench.py [--repeat 30] [--seconds 20] [--ultralytics-python PATH]

Frames: a 1920×1080 camera view made from the ultralytics sample bus.jpg (4 people), and the
1280×720 zidane.jpg (2 people). Steps: grab (read + decode a camera JPEG; 0 for a decoded frame),
detect (box / pose / tiled), render (draw on the background) and encode (JPEG). Median and p95.

Throughput is measured, not only extrapolated: N worker processes (one per core, onnxruntime with
one thread each, the deployment default) analyse the 1080p frame in a loop for ``--seconds``;
cameras per worker = analyses per minute. The extrapolation 60 s / per-analysis time × cores is
printed beside it. Snapshot network wait is not CPU time and is left out (a worker overlaps it).

``--ultralytics-python`` points at a Python with torch, torchvision and ultralytics (not part of the
project's environment) to time Ultralytics' own predict() on the same frames for comparison.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from workers.people.analyse import analyse_frame  # noqa: E402
from workers.people.detector import BoxDetector, PoseDetector, TiledDetector  # noqa: E402
from workers.people.render import blur_background, decode_jpeg, encode_jpeg, render_public_frame  # noqa: E402
from workers.people.weights import YOLO11N_POSE, YOLOV8N, sample_photo, verify_weights  # noqa: E402


def camera_frame_1080p() -> np.ndarray:
    """bus.jpg (810×1080, 4 people) in the middle of a 1920×1080 frame; the sides a flat wall colour,
    so the frame has the camera's size and still exactly 4 people."""
    bus = cv2.imread(str(sample_photo("bus.jpg")))
    frame = np.empty((1080, 1920, 3), dtype=np.uint8)
    frame[:] = bus.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    x = (1920 - bus.shape[1]) // 2
    frame[:, x : x + bus.shape[1]] = bus
    return frame


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()  # warm-up: first run allocates
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]


class _OneAtATime:
    """The old wide-area path: the inner detector without its batched call, so each tile is one inference."""

    def __init__(self, inner) -> None:
        self.detect = inner.detect


def old_and_new(repeat: int) -> list[tuple[str, str, float, float]]:
    """Today's path and the new one, step by step, interleaved (old, new, old, new …) so the shared
    machine's load falls on both alike. CPU time of this thread (time.thread_time), median ms.

    old: full JPEG decode, float model, wide-area tiles one inference each, public image at the frame's size.
    new: JPEG decoded at the detector's size, 8-bit model, tiles in one batched inference, public image
    at the background's size. The background here is a 1280×720 blurred copy of the frame (a
    registered background is the camera's own picture or an upload ≤ 1920×1280).
    """
    frame = camera_frame_1080p()
    jpeg = encode_jpeg(frame, 90)
    background = cv2.resize(blur_background(frame, 5), (1280, 720), interpolation=cv2.INTER_AREA)
    size, bsize = (frame.shape[1], frame.shape[0]), (background.shape[1], background.shape[0])
    old = {"standard": BoxDetector(precision="float"), "detailed": PoseDetector(precision="float")}
    new = {"standard": BoxDetector(), "detailed": PoseDetector()}  # PEOPLE_MODEL_PRECISION (default auto)
    old["wide"], new["wide"] = TiledDetector(_OneAtATime(old["standard"])), TiledDetector(new["standard"])
    reduced = decode_jpeg(jpeg, needed_long_side=640)
    sx, sy = bsize[0] / reduced.shape[1], bsize[1] / reduced.shape[0]
    steps: dict[str, tuple[Callable, Callable]] = {}
    steps["decode (standard/detailed)"] = (
        partial(cv2.imdecode, np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR),
        partial(decode_jpeg, jpeg, needed_long_side=640),
    )
    steps["decode (wide: native pixels)"] = (
        partial(cv2.imdecode, np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR),
        partial(decode_jpeg, jpeg),
    )
    people = {}
    for mode in ("standard", "detailed", "wide"):
        source = reduced if mode != "wide" else frame
        old_people, new_people = old[mode].detect(frame), new[mode].detect(source)
        if mode != "wide":
            new_people = [p.scaled(sx, sy) for p in new_people]
        else:
            new_people = [p.scaled(bsize[0] / size[0], bsize[1] / size[1]) for p in new_people]
        people[mode] = (old_people, new_people)
        label = f"detect {mode} ({len(old_people)} / {len(new_people)} people)"
        steps[label] = (partial(old[mode].detect, frame), partial(new[mode].detect, source))
        draw = "detailed" if mode == "detailed" else "standard"
        steps[f"render {mode}"] = (
            partial(render_public_frame, background, old_people, draw, size),
            partial(render_public_frame, background, new_people, draw, bsize),
        )
    old_image, _ = render_public_frame(background, people["standard"][0], "standard", size)
    new_image, _ = render_public_frame(background, people["standard"][1], "standard", bsize)
    steps["encode public JPEG"] = (partial(encode_jpeg, old_image), partial(encode_jpeg, new_image))
    samples: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in steps}
    for fn_old, fn_new in steps.values():
        fn_old(), fn_new()  # warm-up
    for _ in range(repeat):
        for label, pair in steps.items():
            for index, fn in enumerate(pair):
                started = time.thread_time()
                fn()
                samples[label][index].append((time.thread_time() - started) * 1000)
    return [(label, "", statistics.median(a), statistics.median(b)) for label, (a, b) in samples.items()]


def print_old_and_new(repeat: int) -> None:
    rows = {label: (o, n) for label, _, o, n in old_and_new(repeat)}
    print(f"\n## Old and new path, 1080p camera JPEG, CPU ms of one thread (median of {repeat}, interleaved)")
    for cls in (BoxDetector, PoseDetector):
        runtime = cls().runtime()
        print(
            f"new {cls.__name__}: {runtime['model']} ({runtime['precision']}), onnxruntime {runtime['onnxruntime']} "
            f"{runtime['provider']}, graph optimisation {runtime['graph_optimization_level']}, "
            f"{runtime['threads']} thread"
        )
    print("| step | old | new | new/old |\n|---|---:|---:|---:|")
    for label, (o, n) in rows.items():
        print(f"| {label} | {o:.1f} | {n:.1f} | {n / o:.2f} |")
    print("\n| mode | old ms | new ms | new/old | cameras per 2-core worker, old | new | new/old cameras |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for mode in ("standard", "detailed", "wide"):
        decode = rows["decode (wide: native pixels)" if mode == "wide" else "decode (standard/detailed)"]
        detect = next(v for k, v in rows.items() if k.startswith(f"detect {mode} "))
        parts = [decode, detect, rows[f"render {mode}"], rows["encode public JPEG"]]
        o, n = sum(p[0] for p in parts), sum(p[1] for p in parts)
        co, cn = 2 * 60_000 / o, 2 * 60_000 / n
        print(f"| {mode} | {o:.1f} | {n:.1f} | {n / o:.2f} | {co:,.0f} | {cn:,.0f} | {cn / co:.2f} |")


def step_table(frames: dict[str, np.ndarray], repeat: int, threads: int) -> list[tuple[str, str, float, float]]:
    box, pose = BoxDetector(threads=threads), PoseDetector(threads=threads)
    tiled = TiledDetector(box)
    rows = []
    for name, frame in frames.items():
        size = (frame.shape[1], frame.shape[0])
        jpeg = encode_jpeg(frame, 90)
        background = blur_background(frame, 5)
        people_box, people_pose = box.detect(frame), pose.detect(frame)
        rendered, _ = render_public_frame(background, people_box, "standard", size)
        measures = {
            "grab: decode camera JPEG": partial(cv2.imdecode, np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR),
            "grab: decoded frame (copy)": frame.copy,
            f"detect: box, {len(people_box)} people": partial(box.detect, frame),
            f"detect: pose, {len(people_pose)} people": partial(pose.detect, frame),
            f"detect: tiled box ({len(tiled.tiles(*size))} tiles + whole)": partial(tiled.detect, frame),
            "render: standard icons": partial(render_public_frame, background, people_box, "standard", size),
            "render: detailed silhouettes": partial(render_public_frame, background, people_pose, "detailed", size),
            "encode: public JPEG q85": partial(encode_jpeg, rendered),
        }
        for label, fn in measures.items():
            median, p95 = timed(fn, repeat)
            rows.append((name, label, median, p95))
    return rows


def _worker(mode: str, seconds: float, start: mp.Event, out: mp.Queue) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    frame = camera_frame_1080p()
    jpeg = encode_jpeg(frame, 90)
    background = blur_background(frame, 5)
    detector = {"standard": BoxDetector, "detailed": PoseDetector}.get(mode, BoxDetector)(threads=1)
    if mode == "wide":
        detector = TiledDetector(detector)
    analyse_frame(jpeg, detector, background, mode)  # warm-up
    start.wait()
    done, latencies, deadline = 0, [], time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        analysis = analyse_frame(jpeg, detector, background, mode)
        latencies.append(analysis.timings.total_ms)
        done += 1
    out.put((done, latencies))


def throughput(mode: str, processes: int, seconds: float) -> tuple[float, float]:
    """Analyses per minute of ``processes`` workers together, and their median per-analysis ms."""
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_worker, args=(mode, seconds, start, out)) for _ in range(processes)]
    for w in workers:
        w.start()
    time.sleep(3)  # let every worker load its model before the clock starts
    start.set()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    total = sum(done for done, _ in results)
    latencies = [ms for _, ms in results for ms in ms]
    return total * 60 / seconds, statistics.median(latencies)


ULTRALYTICS_SCRIPT = """
import json, os, sys, time, statistics, cv2, torch
from ultralytics import YOLO
threads = int(sys.argv[3])
out = {}
for weights in sys.argv[1].split(","):
    model = YOLO(weights)
    torch.set_num_threads(threads)  # ultralytics sets cpu_count-1 threads on import; use the same as onnxruntime
    for path in sys.argv[2].split(","):
        frame = cv2.imread(path)
        model.predict(frame, classes=[0], verbose=False)
        samples = []
        for _ in range(int(sys.argv[4])):
            t = time.perf_counter(); r = model.predict(frame, classes=[0], verbose=False)
            samples.append((time.perf_counter() - t) * 1000)
        out[os.path.basename(weights) + " " + os.path.basename(path)] = (statistics.median(samples), len(r[0].boxes))
print(json.dumps(out))
"""


def ultralytics_runtime(python: str, frames: dict[str, np.ndarray], threads: int, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, frame in frames.items():
            paths.append(str(Path(tmp) / f"{name}.png"))
            cv2.imwrite(paths[-1], frame)
        weights = ",".join(str(verify_weights(spec)) for spec in (YOLOV8N, YOLO11N_POSE))
        env = dict(os.environ, YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(Path(tmp) / "cfg"), YOLO_VERBOSE="0")
        done = subprocess.run(
            [python, "-c", ULTRALYTICS_SCRIPT, weights, ",".join(paths), str(threads), str(repeat)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description="people-detection benchmark")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=20.0, help="throughput run length per mode")
    parser.add_argument("--cores", type=int, default=2, help="worker processes for the throughput run")
    parser.add_argument("--ultralytics-python", default=None)
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--compare-only", action="store_true", help="only the old/new comparison")
    args = parser.parse_args()

    frames = {"1080p": camera_frame_1080p(), "720p": cv2.imread(str(sample_photo("zidane.jpg")))}
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, nproc {os.cpu_count()}, {cpu_model()}, "
          f"load average {os.getloadavg()[0]:.2f}, onnxruntime CPU")  # fmt: skip
    print_old_and_new(args.repeat)
    print(f"load average after the comparison {os.getloadavg()[0]:.2f}")
    if args.compare_only:
        return 0
    for threads in (1, 2):
        print(f"\n## Steps, onnxruntime with {threads} thread(s), ms (median / p95 of {args.repeat})")
        print("| frame | step | median | p95 |\n|---|---|---:|---:|")
        for name, label, median, p95 in step_table(frames, args.repeat, threads):
            print(f"| {name} | {label} | {median:.1f} | {p95:.1f} |")

    if args.ultralytics_python:
        for threads in (1, 2):
            result = ultralytics_runtime(args.ultralytics_python, frames, threads, args.repeat)
            print(f"\n## Ultralytics predict() on torch, {threads} thread(s), ms (median of {args.repeat})")
            print("| weights frame | median | people |\n|---|---:|---:|")
            for key, (median, count) in result.items():
                print(f"| {key} | {median:.1f} | {count} |")

    if not args.skip_throughput:
        print(
            f"\n## Throughput: {args.cores} worker processes × 1 thread, 1080p camera JPEG, {args.seconds:.0f} s each"
        )
        print("| mode | analyses/min | median ms per analysis | cameras at 1/min (measured) | 60 s / ms × cores |")
        print("|---|---:|---:|---:|---:|")
        for mode in ("standard", "detailed", "wide"):
            per_minute, median = throughput(mode, args.cores, args.seconds)
            print(
                f"| {mode} | {per_minute:.0f} | {median:.1f} | {per_minute:.0f} | {60000 / median * args.cores:.0f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
