"""Recording benchmark: what a whole `manage.py run_ingest` worker (Python + every ffmpeg child) costs
per camera with server-side motion on, against stream copy alone, at 576p10 and 1080p30; how many
cameras a 2-core worker records; and an estimate of the live view's glass-to-glass delay.

    .venv/bin/python bench/recording_bench.py [--cameras 8] [--seconds 60] [--footage 576p10,1080p30]
        [--modes copy,keyframes,sub,full] [--no-write]
        [--database-url postgres://postgres@127.0.0.1:5432/portal_recording_bench]

For each footage (the real footage at 768×576 10 fps, and the same scaled to 1920×1080 30 fps by
bin/setup, both H.264 with a 2 s GOP), N simulated cameras (one GStreamer RTSP server on loopback, one
mount each) are registered in a bench database of their own (created and migrated when missing; the
bench's rows are replaced on every run), and one ingest worker records all of them exactly as in
production: 1-minute segments on wall-clock minutes, leases, heartbeats, segment indexing, quota checks,
its CPU sizing; and for motion, one of:

- ``copy``: the cameras' own motion sensor, nothing decoded: what recording alone costs;
- ``keyframes``: server-side motion as it runs by default, from the keyframes only;
- ``full``: server-side motion decoding every frame, the pipeline before keyframe-only motion (forced
  with RECORDING_MOTION_MAX_GOP_SECONDS=1, so each camera switches to it after two keyframes);
- ``sub`` (1080p30 only): keyframe-only motion on a sub-stream, the 576p10 footage on a second mount per
  camera, as an installer enters for a camera that has one.

CPU is user+sys of the worker process and all its children (psutil: the live ones and those already
waited for) over the measuring window after a warm-up, as a fraction of one core; process CPU time, not
wall time. The simulated cameras are not counted.

Live delay: the HLS stream the worker starts for a viewer (workers.hls, stream copy, 1 s target) is run
against one camera and its playlist watched every 20 ms. A segment ending at media time M (from the
start of the stream) is listed at wall time L; since the camera sends in real time, L − (start + M) is
how late the newest picture becomes available. hls.js (liveSyncDurationCount 1) plays one target
duration behind the newest listed segment's end, so the estimate is min lag + one target duration +
the playlist reload (half a target duration on average). A camera's own encoder and a real network add
to this; the browser test (tests/recording/test_browser_media.py) shows the same stream playing.
Writes "## Recording" into docs/performance.md (replacing a previous run's section).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VTEST = ROOT / "var" / "media-fixtures" / "vtest.mp4"
FOOTAGE = {
    "576p10": (VTEST, "H.264 768×576 10 fps"),
    "1080p30": (ROOT / "var" / "media-fixtures" / "vtest-1080p30.mp4", "H.264 1920×1080 30 fps"),
}
MODES = {
    "copy": "stream copy alone (the cameras' own motion sensor)",
    "keyframes": "server-side motion, keyframes only (the default)",
    "full": "server-side motion, every frame decoded (before)",
    "sub": "server-side motion, keyframes of a 576p10 sub-stream",
}
DOC = ROOT / "docs" / "performance.md"
HEADING = "## Recording"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_recording_bench"
BENCH_OPERATOR = "Recording bench"


def cpu_model() -> str:
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    except OSError:
        match = None
    return match.group(1).strip() if match else (platform.processor() or "unknown")


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    admin = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
    )


def register_cameras(sim, cameras: int, *, server_motion: bool, sub_streams: bool = False) -> list[int]:
    """A fresh bench operator with `cameras` licensed cameras, each on its own mount; returns their ids."""
    from devices.models import Device, StreamSource
    from recording.models import CameraRecording, MotionSource
    from tenants.models import Operator
    from tests.factories import BuildingFactory, CameraFactory, OperatorFactory, RoomFactory
    from tests.licensing.factories import give_camera_licenses

    # The bench database is the bench's own: the previous run's cameras (and their media rows) go, so
    # that the worker records exactly these. Operators stay (their licenses are protected history).
    Device.objects.all().delete()
    operator = OperatorFactory(name=f"{BENCH_OPERATOR} {Operator.objects.count() + 1}")
    give_camera_licenses(operator, count=cameras)
    room = RoomFactory(building=BuildingFactory(operator=operator, name="Bench"), name="Bench room")
    ids = []
    for i in range(cameras):
        camera = CameraFactory(room=room, name=f"Bench cam {i + 1}")
        camera.stream_source, camera.rtsp_url = StreamSource.RTSP, sim.url(f"cam{i + 1}")
        camera.save()
        motion = MotionSource.SERVER if server_motion else MotionSource.SENSOR
        sub = sim.url(f"sub{i + 1}") if sub_streams else ""
        CameraRecording.objects.create(
            operator=operator, camera=camera, motion_source=motion, motion_sub_stream_url=sub
        )
        ids.append(camera.pk)
    return ids


def measure_ingest(camera_ids: list[int], *, env: dict, warmup: float, seconds: float) -> dict:
    from recording.models import CameraRecording, IngestLease, RecordingSegment
    from workers.cpu import tree_cpu_seconds as tree_cpu

    worker = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "run_ingest",
            "--capacity",
            str(len(camera_ids)),
            "--worker-id",
            "bench",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            recording = IngestLease.objects.filter(camera_id__in=camera_ids, state="recording").count()
            if recording == len(camera_ids):
                break
            time.sleep(0.5)
        else:
            raise SystemExit(f"only {recording} of {len(camera_ids)} cameras started recording within 60 s")
        time.sleep(warmup)
        process = psutil.Process(worker.pid)
        python0, children0 = tree_cpu(process)
        started = time.monotonic()
        time.sleep(seconds)
        python1, children1 = tree_cpu(process)
        elapsed = time.monotonic() - started
        ffmpegs = [c for c in process.children(recursive=True) if "ffmpeg" in c.name()]
        decodes = CameraRecording.objects.filter(camera_id__in=camera_ids).values_list("motion_stream", "motion_decode")
        return {
            "python": (python1 - python0) / elapsed,
            "ffmpeg": (children1 - children0) / elapsed,
            "ffmpeg_processes": len(ffmpegs),
            "segments": RecordingSegment.objects.filter(camera_id__in=camera_ids).count(),
            "decode": ", ".join(sorted({f"{stream or '-'} {decode or '?'}" for stream, decode in decodes})),
        }
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()


def measure_live_delay(url: str, out_dir: Path, seconds: float = 20.0) -> dict:
    from workers.hls import HlsStream

    stream = HlsStream(url=url, out_dir=out_dir)
    started = time.time()
    stream.start()
    listed: dict[str, float] = {}
    extinf: dict[str, float] = {}
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                text = stream.playlist.read_text()
            except OSError:
                text = ""
            now = time.time()
            for duration, name in re.findall(r"#EXTINF:([\d.]+),\s*\n(\S+)", text):
                if name not in listed:
                    listed[name] = now
                    extinf[name] = float(duration)
            time.sleep(0.02)
    finally:
        stream.stop()
    names = sorted(listed, key=lambda n: int(re.search(r"(\d+)", n).group(1)))
    media_end, lags = 0.0, []
    for name in names:
        media_end += extinf[name]
        lags.append(listed[name] - (started + media_end))
    target = max(extinf.values()) if extinf else 0.0
    lag = min(lags) if lags else float("nan")
    return {
        "segments": len(names),
        "target": target,
        "lag_min": lag,
        "lag_median": sorted(lags)[len(lags) // 2] if lags else float("nan"),
        "estimate": lag + target + target / 2,
    }


def write_doc(text: str) -> None:
    current = DOC.read_text() if DOC.exists() else "# Performance\n"
    # Up to the next section or subsection: notes kept under "### …" headings stay.
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^##+ |\Z)", re.MULTILINE | re.DOTALL)
    section = text.rstrip() + "\n\n"
    current = (
        pattern.sub(lambda _: section, current, count=1)
        if pattern.search(current)
        else (current.rstrip() + "\n\n" + section)
    )
    DOC.write_text(current.rstrip() + "\n")


def run_scenario(footage: str, mode: str, *, args, env: dict, tmp: Path) -> dict:
    from demo.rtsp_sim import SimCamera

    path = FOOTAGE[footage][0]
    mounts = {f"cam{i + 1}": path for i in range(args.cameras)}
    if mode == "sub":
        mounts |= {f"sub{i + 1}": VTEST for i in range(args.cameras)}
    sim = SimCamera(mounts=mounts, log_path=tmp / f"sim-{footage}-{mode}.log")
    sim.start()
    try:
        camera_ids = register_cameras(sim, args.cameras, server_motion=mode != "copy", sub_streams=mode == "sub")
        scenario_env = {**env, "RECORDING_MOTION_MAX_GOP_SECONDS": "1"} if mode == "full" else env
        # The "full" cameras switch after two keyframes; give every mode the same extra warm-up.
        result = measure_ingest(camera_ids, env=scenario_env, warmup=args.warmup, seconds=args.seconds)
        if footage == "576p10" and mode == "copy":
            result["live"] = measure_live_delay(sim.url("cam1"), tmp / "live-bench")
    finally:
        sim.kill()
    result["per_camera"] = (result["python"] + result["ffmpeg"]) / args.cameras
    print(f"{footage} {mode}: {result['per_camera'] * 100:.2f}% of a core per camera ({result['decode']})", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--footage", default="576p10,1080p30", help="comma-separated: " + ", ".join(FOOTAGE))
    parser.add_argument("--modes", default="copy,keyframes,sub,full", help="comma-separated: " + ", ".join(MODES))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/performance.md alone")
    args = parser.parse_args()
    footages = [f for f in args.footage.split(",") if f]
    modes = [m for m in args.modes.split(",") if m]
    if unknown := [f for f in footages if f not in FOOTAGE] + [m for m in modes if m not in MODES]:
        sys.exit(f"unknown footage or mode: {', '.join(unknown)}")
    if "copy" not in modes:
        sys.exit("--modes needs copy: every figure is compared with it")
    for footage in footages:
        if not FOOTAGE[footage][0].exists():
            sys.exit(f"{FOOTAGE[footage][0]} is missing: run bin/setup")

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    ensure_database(args.database_url)
    tmp = Path(tempfile.mkdtemp(prefix="recording-bench-"))
    env = {
        **os.environ,
        "MEDIA_ROOT": str(tmp / "media"),
        "RECORDING_SPOOL_DIR": str(tmp / "spool"),
        "RECORDING_LIVE_DIR": str(tmp / "live"),
        "RECORDING_SEGMENT_SECONDS": "60",
        # The simulated cameras are on loopback, which the outbound-connection policy refuses by default.
        "CAMERA_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
    }
    os.environ.update(
        {k: env[k] for k in ("MEDIA_ROOT", "RECORDING_SPOOL_DIR", "RECORDING_LIVE_DIR", "CAMERA_ALLOWED_NETWORKS")}
    )
    import django

    django.setup()
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    runs = [(f, m) for f in footages for m in modes if m != "sub" or f == "1080p30"]
    results = {(f, m): run_scenario(f, m, args=args, env=env, tmp=tmp) for f, m in runs}
    load_after = os.getloadavg()

    rows = []
    for footage in footages:
        copy = results[(footage, "copy")]["per_camera"]
        for mode in [m for m in modes if (footage, m) in results]:
            r = results[(footage, mode)]
            per = r["per_camera"]
            rows.append(
                (
                    f"{footage}, {MODES[mode]}",
                    f"{per * 100:.2f}%",
                    f"{r['ffmpeg'] / args.cameras * 100:.2f}% / {r['python'] / args.cameras * 100:.2f}%",
                    f"{per / copy:.1f}×" if copy else "—",
                    f"{int(2 / per) if per else 0:,}",
                    f"{r['ffmpeg_processes']}",
                )
            )
    header = (
        "Footage, motion",
        "Worker CPU per camera",
        "ffmpeg / Python",
        "× stream copy",
        "Cameras per 2 cores",
        "ffmpeg processes",
    )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    table = "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
    live = results.get(("576p10", "copy"), {}).get("live")
    live_rows = ""
    if live:
        live_rows = f"""
| Live view (576p10, stream copy)                          | Result |
|----------------------------------------------------------|--------|
| Live HLS: newest picture listed after (min / median)     | {live["lag_min"]:.2f} s / {live["lag_median"]:.2f} s |
| Live HLS: target segment duration                        | {live["target"]:.2f} s |
| Glass-to-glass estimate (hls.js liveSyncDurationCount 1) | ≈ {live["estimate"]:.1f} s |
"""
    ffmpeg_version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split(" Copyright")[
        0
    ]
    command = (
        f"bench/recording_bench.py --cameras {args.cameras} --seconds {args.seconds:.0f}"
        f" --footage {','.join(footages)} --modes {','.join(modes)}"
    )
    segments = sum(r["segments"] for r in results.values())
    text = f"""{HEADING}

Measured by `{command}` on {started:%Y-%m-%d %H:%M} UTC.
Machine: {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}. {ffmpeg_version}.
The machine was loaded by other work during the run (load average {load_before[0]:.1f} at the start,
{load_after[0]:.1f} at the end, on {os.cpu_count()} CPUs): the figures are on the high side and wander by
some 20 % between runs; the ratios, taken in the same run, hold better.

One `manage.py run_ingest` worker records {args.cameras} simulated cameras (GStreamer RTSP on loopback, the real
footage, 2 s GOP) as in production: 1-minute segments on wall-clock minutes, leases renewed every tick,
segments stored and indexed in PostgreSQL, quota checked. CPU is user+sys of the worker process and all its
ffmpeg children (psutil, process CPU time) over {args.seconds:.0f} s after a {args.warmup:.0f} s warm-up, per
camera as a fraction of one core; the simulated cameras are not counted. {segments} segments were stored.
Cameras per 2 cores is 2 / the cost per camera; a worker takes cameras up to RECORDING_WORKER_CPU_PERCENT
(75 %) of its cores, so plan with three quarters of it.

{table}
{live_rows}
The live-delay figure is an estimate from the HLS side (see the bench's docstring): how late the newest
picture is listed in the playlist, plus hls.js's hold-back of one segment and half a playlist reload. The
listing lag counts from the moment ffmpeg starts, so it includes connecting and waiting for the first
keyframe (up to one 2 s GOP): an upper estimate. A real camera's encoder and network add their own delay.
"""
    print(text)
    if not args.no_write:
        write_doc(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
