"""H.265 cameras' opt-in H.264 live view: what the one transcode per camera costs (workers/transcode.py).

    .venv/bin/python bench/hevc_transcode_bench.py [--seconds 30] [--warmup 5] [--footage 576p10,1080p30]

For each footage (the test footage as an H.265 camera sends it, demo/footage.py: 768×576 10 fps and
1920×1080 30 fps, 2 s GOP, made once with libx265 when missing), a "camera" ffmpeg sends it in real time
as the recorder's live output does (fragmented MP4, one fragment per frame, hvc1, with an AAC tone as the
microphone), and ``workers.transcode.H264Transcode`` turns it into H.264 exactly as the live server's
variant "h264" does (ffmpeg: H.265 decode on one thread, libx264 veryfast zerolatency, a keyframe per
second, audio copied). Measured over ``--seconds`` after ``--warmup``:

- CPU of the transcode's ffmpeg (user+sys from psutil, process CPU time, not wall time), as % of one core;
  the camera's ffmpeg is not counted (in production that is the recorder's stream copy, paid anyway);
- frames out per second against frames in (does it keep up), and the source fragments it dropped;
- CPU for real time: the same transcode (same ffmpeg arguments) run unpaced over ``--offline-seconds``
  of the footage, its CPU (the child's rusage) per second of video: what keeping up takes. On a machine
  too busy to give the live transcode what it needs (it then skips to keyframes, see ``H264Transcode``)
  the live figure is only what it got, and this one is the figure to size a server by;
- the delay it adds: wall time from a source video fragment written to ffmpeg to the matching H.264
  fragment read back (one fragment per frame both sides, so the k-th in is the k-th out; only measured
  when nothing was dropped), median and p95.

Prints a Markdown section for docs/performance.md ("## H.265 live view: the H.264 transcode").
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.footage import hevc_footage, hevc_footage_1080p  # noqa: E402
from workers import fmp4, transcode  # noqa: E402

FOOTAGE = {
    "576p10": (hevc_footage, "H.265 768×576 10 fps", 10),
    "1080p30": (hevc_footage_1080p, "H.265 1920×1080 30 fps", 30),
}


def cpu_model() -> str:
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    except OSError:
        match = None
    return match.group(1).strip() if match else (platform.processor() or "unknown")


def camera_args(path: Path, *, realtime: bool = True, seconds: float | None = None) -> list[str]:
    pace = ["-re"] if realtime else []
    limit = ["-t", f"{seconds:g}"] if seconds else []
    return [
        "ffmpeg", "-nostdin", "-loglevel", "error", *pace, "-stream_loop", "-1", "-i", str(path),
        *pace, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000",
        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-tag:v", "hvc1", "-c:a", "aac", "-b:a", "32k", *limit,
        "-f", "mp4", "-movflags", transcode.LIVE_FMP4, "-flush_packets", "1", "pipe:1",
    ]  # fmt: skip


def cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def offline_cost(path: Path, *, seconds: float) -> float:
    """% of one core that transcoding ``seconds`` of ``path`` costs per second of video (unpaced)."""
    source = camera_args(path, realtime=False, seconds=seconds)  # as fast as it goes
    camera = subprocess.Popen(source, stdout=subprocess.PIPE)  # noqa: S603
    job = subprocess.Popen(transcode.transcode_args(), stdin=camera.stdout, stdout=subprocess.DEVNULL)  # noqa: S603
    camera.stdout.close()
    _, _, usage = os.wait4(job.pid, 0)
    job.returncode = 0
    camera.wait(timeout=30)
    return 100 * (usage.ru_utime + usage.ru_stime) / seconds


def measure(name: str, *, seconds: float, warmup: float, offline_seconds: float) -> dict:
    make, label, fps = FOOTAGE[name]
    path = make()
    sent: list[float] = []  # wall time each source video fragment was handed to the transcode
    received: list[float] = []  # wall time each H.264 video fragment came back
    lock = threading.Lock()

    def on_piece(piece: fmp4.Init | fmp4.Fragment) -> None:
        if isinstance(piece, fmp4.Fragment) and piece.video:
            with lock:
                received.append(time.monotonic())

    camera = subprocess.Popen(camera_args(path), stdout=subprocess.PIPE)  # noqa: S603
    job = transcode.H264Transcode(on_piece=on_piece)
    dropped0 = 0
    try:
        pieces = fmp4.split(camera.stdout)
        init = next(pieces)
        assert isinstance(init, fmp4.Init) and init.video.codec.startswith("hvc1."), init
        job.start(init.data)
        started = False

        def pump() -> None:
            nonlocal started
            for piece in pieces:
                if not isinstance(piece, fmp4.Fragment):
                    continue
                if not started and not piece.keyframe:
                    continue  # a viewer starts at a keyframe: so does the transcode
                started = True
                if piece.video:
                    with lock:
                        sent.append(time.monotonic())
                job.feed(piece.data, keyframe=piece.keyframe)

        thread = threading.Thread(target=pump, daemon=True)
        thread.start()
        process = psutil.Process(job.process.pid)
        time.sleep(warmup)
        load_before = os.getloadavg()
        cpu0, wall0 = cpu_seconds(process), time.monotonic()
        with lock:
            in0, out0 = len(sent), len(received)
        dropped0 = job.dropped
        time.sleep(seconds)
        cpu1, wall1 = cpu_seconds(process), time.monotonic()
        with lock:
            in1, out1 = len(sent), len(received)
            delays = [] if job.dropped else [received[k] - sent[k] for k in range(in0, min(out1, len(sent)))]
        dropped = job.dropped - dropped0
        load_after = os.getloadavg()
    finally:
        job.stop()
        camera.kill()
        camera.wait(timeout=5)
    window = wall1 - wall0
    return {
        "dropped": dropped,
        "realtime_cpu": offline_cost(path, seconds=offline_seconds),
        "name": name,
        "label": label,
        "fps": fps,
        "cpu": 100 * (cpu1 - cpu0) / window,
        "in_fps": (in1 - in0) / window,
        "out_fps": (out1 - out0) / window,
        "delay_median": statistics.median(delays) if delays else float("nan"),
        "delay_p95": percentile(delays, 0.95) if delays else float("nan"),
        "load": (load_before[0], load_after[0]),
        "error": job.error(),
    }


def section(results: list[dict], *, seconds: float) -> str:
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    ffmpeg_version = version.split(" Copyright")[0]

    def delay(r: dict) -> str:
        if r["delay_median"] != r["delay_median"]:  # NaN: it dropped, so frames in and out do not pair
            return "– (fell behind)"
        return f"{1000 * r['delay_median']:.0f} / {1000 * r['delay_p95']:.0f} ms"

    rows = "\n".join(
        f"| {r['label']} | {r['cpu']:.0f} % | {r['realtime_cpu']:.0f} % | {r['in_fps']:.1f} / {r['out_fps']:.1f} | "
        f"{r['dropped']} | {delay(r)} | {r['load'][0]:.1f} → {r['load'][1]:.1f} |"
        for r in results
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""## H.265 live view: the H.264 transcode

`bench/hevc_transcode_bench.py`, {when}, {seconds:.0f} s per footage after a warm-up. One transcode per
camera (workers/transcode.py, the live feed's variant "h264", started by the first viewer who asks for it
and stopped after the last): H.265 decode on one thread, libx264 `veryfast` `zerolatency`, a keyframe per
second, the sound copied. CPU is the transcode's ffmpeg (psutil user+sys) as a share of one core: what
it got in the window, and what keeping up takes (the same transcode unpaced: CPU per second of video;
the two agree when it keeps up). "dropped": source fragments skipped because it fell over 1 s behind.

| Camera | CPU got | CPU for real time | frames/s in / out | dropped | delay added, median / p95 | load (start → end) |
|---|---|---|---|---|---|---|
{rows}

Machine: {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()} {platform.release()}. {ffmpeg_version}.
The machine is shared and was loaded by other work during the run (the load averages above, on
{os.cpu_count()} CPUs): the figures are on the high side and wander between runs. The source path costs
none of this: an H.265 camera's own stream goes to browsers with HEVC by stream copy; only viewers who
choose "Play as H.264" start the transcode, and however many of them watch a camera, it runs once.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--footage", default="576p10,1080p30")
    parser.add_argument("--offline-seconds", type=float, default=20.0)
    args = parser.parse_args()
    results = []
    for name in args.footage.split(","):
        result = measure(name.strip(), seconds=args.seconds, warmup=args.warmup, offline_seconds=args.offline_seconds)
        print(f"{name}: {result}", file=sys.stderr, flush=True)
        results.append(result)
    print(section(results, seconds=args.seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
