"""Congestion analysis through the task path: per-step times, cameras per 2-core worker, latency.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/congestion_bench.py \
        [--cameras 60] [--analyses 40] [--minutes 1]

It builds a throw-away test database, registers N simulated cameras (the demo footage of people
walking, a different position each grab, through `services.grab_frame`), then

1. runs `services.analysis_run` (claim, grab, ONNX detection, render, store, alerts) one after the
   other and prints grab / detect / render / store ms (mean, p95) from the stored timings;
2. derives cameras per 2-core worker at one analysis per minute: 2 × 60 000 ms / mean total ms
   (detection runs on one onnxruntime thread per analysis, two analyses in parallel per 2 cores);
3. plays real minutes: every camera is queued at its hashed second of the minute, a pool of 2
   worker threads (onnxruntime releases the GIL) runs them, and the time from frame captured to public
   image stored is measured (p50 / p95 / max), plus how late tasks started after their due second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=60)
    parser.add_argument("--analyses", type=int, default=40)
    parser.add_argument("--minutes", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    media = ROOT / "var" / "bench-media"
    settings.MEDIA_ROOT = str(media)
    try:
        from buildings.models import Building, Room
        from congestion import rules, services
        from congestion.models import Analysis, CongestionCamera, PublicImage
        from devices.models import Device
        from tenants.models import Operator
        from tests.licensing.factories import give_camera_licenses
        from workers.people.detector import detector_for_mode

        operator = Operator.objects.create(name="Bench")
        give_camera_licenses(operator, count=args.cameras, kind="congestion_option")
        building = Building.objects.create(operator=operator, name="B")
        room = Room.objects.create(operator=operator, building=building, name="R", contract_number="BENCH")
        cameras = []
        for i in range(args.cameras):
            device = Device.objects.create(
                operator=operator, room=room, name=f"cam {i}", mac=f"02:00:00:00:{i // 256:02X}:{i % 256:02X}"
            )
            cameras.append(
                CongestionCamera.objects.create(
                    operator=operator,
                    camera=device,
                    display_name=f"cam {i}",
                    snapshot_url="file:var/media-fixtures/vtest.mp4",
                )
            )
        detector_for_mode("standard")  # load the model once, outside the measurements

        # 1. per-step times, sequential, the float model ("old") and the default one ("new") interleaved
        # on the same cameras. The decode at the detector's size and the public image at the
        # background's size are in both (the service has no switch for them; bench/people_bench.py
        # measures those steps old against new); what differs here is the model.
        start = timezone.now().replace(second=0, microsecond=0) - timedelta(days=1)
        paths = {"old": detector_for_mode("standard", precision="float"), "new": detector_for_mode("standard")}
        cpu = {"old": [], "new": []}
        ids = {"old": [], "new": []}
        for n in range(args.analyses):
            cc = cameras[n % len(cameras)]
            for k, (name, detector) in enumerate(paths.items()):
                minute = start + timedelta(minutes=2 * n + k)
                began = time.thread_time()
                outcome = services.analysis_run(congestion_camera_id=cc.pk, minute=minute, detector=detector)
                cpu[name].append((time.thread_time() - began) * 1000)
                assert outcome == "done", outcome
                ids[name].append(Analysis.objects.get(congestion_camera=cc, minute=minute).pk)
        steps = ("grab_ms", "detect_ms", "render_ms", "store_ms")
        medians = {}
        for name in paths:
            timings = [a.timings for a in Analysis.objects.filter(pk__in=ids[name])]
            medians[name] = {s: statistics.median(t[s] for t in timings) for s in steps}
            medians[name]["total_ms"] = statistics.median(sum(t[s] for s in steps) for t in timings)
            medians[name]["cpu_ms"] = statistics.median(cpu[name])
        print(f"\n## per analysis, {args.analyses} × 2 analyses of a 768×576 frame, standard mode, 1 thread")
        print(f"old: {paths['old'].onnx.name}; new: {paths['new'].onnx.name}; load average {os.getloadavg()[0]:.2f}\n")
        print("| step (median ms) | old | new | new/old |\n|---|---:|---:|---:|")
        for step in (*steps, "total_ms", "cpu_ms"):
            o, n = medians["old"][step], medians["new"][step]
            label = "CPU time of the whole task" if step == "cpu_ms" else step[:-3]
            print(f"| {label} | {o:.1f} | {n:.1f} | {n / o:.2f} |")
        for name in paths:
            per_worker = int(2 * 60_000 / medians[name]["cpu_ms"])
            print(f"cameras per 2-core worker at one analysis a minute ({name}, from task CPU time): {per_worker}")

        # 3. real minutes with the scheduler's offsets and a pool of worker threads
        Analysis.objects.all().delete()
        latencies: list[float] = []
        lateness: list[float] = []
        lock = threading.Lock()

        def task(cc_id: int, minute, due: float) -> None:
            begun = time.time()
            services.analysis_run(congestion_camera_id=cc_id, minute=minute)
            public = PublicImage.objects.get(congestion_camera_id=cc_id)
            with lock:
                latencies.append((public.analysed_at - public.captured_at).total_seconds())
                lateness.append(max(0.0, begun - due))
            connection.close()

        for _ in range(args.minutes):
            now = time.time()
            minute_start = now - now % 60 + 60
            time.sleep(minute_start - time.time())
            minute = timezone.now().replace(second=0, microsecond=0)
            with ThreadPoolExecutor(args.workers) as pool:
                jobs = sorted((rules.offset_seconds(cc.pk), cc.pk) for cc in cameras)
                for offset, cc_id in jobs:
                    due = minute_start + offset
                    time.sleep(max(0.0, due - time.time()))
                    pool.submit(task, cc_id, minute, due)
        print(f"\n## {args.cameras} cameras for {args.minutes} minute(s), {args.workers} worker threads\n")
        print(
            f"frame captured -> public image stored: p50 {pct(latencies, 0.5) * 1000:.0f} ms, "
            f"p95 {pct(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )
        print(
            f"task start after its due second: p95 {pct(lateness, 0.95) * 1000:.0f} ms, "
            f"max {max(lateness) * 1000:.0f} ms"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
