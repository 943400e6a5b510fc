"""Live view glass to glass, per path and number of viewers, and server CPU per additional viewer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_live_bench REDIS_URL=redis://127.0.0.1:6379/4 \
        nice -n 10 .venv/bin/python bench/live_bench.py [--viewers 1,10,50] [--seconds 15] [--paths mse,hls]

It re-creates the bench database (dropped first: never point it at real data), makes one operator with
a viewer and one licensed camera recorded from a simulated camera whose picture carries the wall clock
(demo/sim_clock.py: the time in ms as text and as a row of black and white blocks), and runs the real
pieces as separate processes: `manage.py run_ingest` (the recorder, its live feed server, HLS made from
the feed) and daphne serving portal.asgi (pages, HLS files, the live WebSocket).

Headless Chromium (Playwright) opens the camera's live page N times, as N pages (tabs) of one browser
logged in as the viewer: N viewers of one camera. For the HLS path the pages have no WebSocket (the
page then falls back to HLS, as where a proxy blocks sockets). Each page's <video> is read on the page
(tests/live_clock.py JS_READER: the blocks drawn onto a canvas) and compared with the page's clock:
camera sensor to screen, one machine, one clock. Every distinct frame read is one sample; median and
p95 per (path, N). Server CPU: the ingest process tree (its ffmpeg children included) and daphne,
measured with psutil over the same window, with no viewer first; per additional viewer is the slope
from 1 to the largest N. The browser's own decoding runs on the same CPUs, so figures at 50 viewers
include that contention; the machine's load average is reported with them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VTEST = ROOT / "var" / "media-fixtures" / "vtest.mp4"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Every page is a viewer in front of its screen: no background-tab throttling of timers, rendering or media.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
    "--disable-background-media-suspend",
]
NO_SOCKET = "window.WebSocket = function () { throw new Error('no WebSocket here'); };"


def ensure_database(url: str) -> None:
    import psycopg2

    name = url.rsplit("/", 1)[1]
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def prepare(rtsp_url: str) -> tuple[int, str]:
    """Migrate; one operator, viewer and licensed camera recording ``rtsp_url``. (camera id, session cookie)"""
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from devices.models import StreamSource
    from recording.models import CameraRecording, MotionSource
    from tests.conftest import build_tenant
    from tests.licensing.factories import give_camera_licenses

    tenant = build_tenant("Live bench", "live-bench")
    give_camera_licenses(tenant.operator, count=1)
    camera = tenant.camera
    camera.stream_source = StreamSource.RTSP
    camera.rtsp_url = rtsp_url
    camera.save(update_fields=["stream_source", "rtsp_url"])
    CameraRecording.objects.update_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id, "motion_source": MotionSource.SENSOR}
    )
    client = Client()
    client.force_login(tenant.viewer)
    return camera.pk, client.cookies["sessionid"].value


def viewer_tokens(camera_id: int, count: int):
    """``count`` more viewers of the camera, each a user of its own (as 50 people watching are: the server
    re-checks each distinct viewer's access while it watches). Returns a function giving their media tokens,
    signed afresh (a token must be minutes old at most when a socket connects with it)."""
    from devices.media_tokens import camera_access_token
    from devices.models import Device
    from tenants.models import Role
    from tests.factories import UserFactory

    camera = Device.objects.select_related("operator").get(pk=camera_id)
    users = [
        UserFactory(operator=camera.operator, email=f"live-bench-viewer-{i}@example.com", role=Role.VIEWER)
        for i in range(count)
    ]
    return lambda: [camera_access_token(camera, camera.operator, user=user) for user in users]


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) of these processes and all their children now alive."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                try:
                    times = process.cpu_times()
                    total += times.user + times.system
                except psutil.NoSuchProcess:
                    pass
        except psutil.NoSuchProcess:
            pass
    return total


def read_pages(pages: list, seconds: float) -> list[float]:
    """Delays (s) of the distinct frames read from ``pages`` in turn for ``seconds``."""
    from tests.live_clock import JS_READER

    seen: list[set[int]] = [set() for _ in pages]
    ages: list[float] = []
    script = f"() => ({JS_READER})(document.getElementById('live-video'))"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i, page in enumerate(pages):
            reading = page.evaluate(script)
            if reading and reading["shown"] not in seen[i]:
                seen[i].add(reading["shown"])
                ages.append((reading["now"] - reading["shown"]) / 1000)
        pages[0].wait_for_timeout(20)
    if os.environ.get("LIVE_BENCH_DEBUG"):
        state = "() => { const v = document.getElementById('live-video'); return [v.currentTime, v.readyState]; }"
        print("frames per page:", [len(s) for s in seen], "time, readyState:", [p.evaluate(state) for p in pages])
    return ages


# The other viewers: what a live page fetches, without decoding it (one browser could not decode 50 videos
# on the machine measured). MSE: a socket each, acknowledging what it received as live.js does. HLS: the
# playlist every second and each new segment, as hls.js does.
EXTRA_MSE = """
(a) => { window.__extra = []; window.__closed = [];
  const open = (i) => {
    const token = a.tokens[i % a.tokens.length];
    const s = new WebSocket(a.ws + "?token=" + encodeURIComponent(token)); s.binaryType = "arraybuffer";
    let received = 0, acked = 0;
    s.onmessage = (e) => { if (typeof e.data === "string") return; received += e.data.byteLength;
      if (received - acked >= 32768) { acked = received; s.send(JSON.stringify({ type: "ack", bytes: acked })); } };
    // As live.js does: a socket that dropped (1006: e.g. a handshake the loaded server did not finish in
    // time) connects again; a refusal (4xxx) does not.
    s.onclose = (e) => { window.__closed.push(e.code); if (e.code === 1006) setTimeout(() => open(i), 1000); };
    window.__extra[i] = s;
  };
  for (let i = 0; i < a.n; i++) open(i);
}
"""
EXTRA_HLS = """
(a) => { window.__extra = 0;
  for (let i = 0; i < a.n; i++) {
    const seen = new Set(); const playlist = a.playlists[i % a.playlists.length];
    const base = playlist.replace(/index\\.m3u8$/, "");
    const tick = async () => {
      try { const r = await fetch(playlist, { cache: "no-store" });
        if (r.ok) { for (const line of (await r.text()).split("\\n")) {
          const m = line.match(/URI="([^"]+)"/); const name = m ? m[1] : line.trim();
          if (!name || (!m && name.startsWith("#")) || seen.has(name)) continue;
          seen.add(name); await (await fetch(base + name)).arrayBuffer(); window.__extra += 1; } } }
      catch (e) {}
      setTimeout(tick, 1000); };
    setTimeout(tick, i * 20);
  } }
"""
PLAYING = (
    "p => { const v = document.getElementById('live-video'); return v.dataset.path === p"
    " && v.currentTime > 0 && v.style.visibility !== 'hidden'; }"
)


def measure(browser, base: str, cookie: str, camera_id: int, path: str, viewers: int, seconds: float, pids, tokens):
    """One page plays and is read (its glass to glass); ``viewers - 1`` more fetch the same from a second page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": base}])
    if path == "hls":
        context.add_init_script(NO_SOCKET)
    try:
        page = context.new_page()
        page.goto(f"{base}/recording/cameras/{camera_id}/live/")
        page.wait_for_function(PLAYING, arg=path, timeout=120_000)
        if viewers > 1:
            others = context.new_page()
            others.goto(f"{base}/")  # same origin (the camera list), no player
            data = page.evaluate("() => Object.assign({}, document.getElementById('live-video').dataset)")
            if path == "mse":
                ws = base.replace("http", "ws", 1) + data["socket"]
                signed = tokens() if tokens else [data["token"]]
                others.evaluate(f"({EXTRA_MSE})", {"n": viewers - 1, "ws": ws, "tokens": signed})
                # A browser opens one socket to a host at a time (RFC 6455 4.1): wait until all are open.
                try:
                    others.wait_for_function(
                        "n => window.__extra.filter(s => s.readyState === 1).length >= n",
                        arg=viewers - 1,
                        timeout=300_000,
                    )
                except Exception:
                    states = others.evaluate(
                        "() => [window.__extra.map(s => s.readyState).join(''), window.__closed.join(',')]"
                    )
                    print("extra sockets' states (0 connecting 1 open 3 closed), close codes:", states, flush=True)
                    raise
            else:
                # Each with its own user's token too: the server keeps one access decision per token.
                signed = tokens() if tokens else [data["token"]]
                playlists = [data["playlist"].replace(data["token"], token) for token in signed]
                others.evaluate(f"({EXTRA_HLS})", {"n": viewers - 1, "playlists": playlists})
        page.bring_to_front()  # the measured viewer is the one in front of its screen
        read_pages([page], 5)  # settle (the extra viewers connected, HLS at its live edge)
        cpu0, t0 = [tree_cpu([pid]) for pid in pids], time.monotonic()
        ages = read_pages([page], seconds)
        elapsed = time.monotonic() - t0
        parts = [(tree_cpu([pid]) - before) / elapsed for pid, before in zip(pids, cpu0, strict=True)]
        cpu = sum(parts)
        open_sockets = (
            others.evaluate(
                "() => window.__extra.filter ? window.__extra.filter(s => s.readyState === 1).length : window.__extra"
            )
            if viewers > 1
            else 0
        )
    finally:
        context.close()
    ordered = sorted(ages)
    return {
        "extra_viewers_active": open_sockets,
        "samples": len(ordered),
        "median_s": round(statistics.median(ordered), 3) if ordered else None,
        "p95_s": round(ordered[max(0, -(-95 * len(ordered) // 100) - 1)], 3) if ordered else None,
        "server_cpu_percent": round(cpu * 100, 1),
        # ingest (recorder, feed, HLS) and daphne (pages, sockets) apart: where a viewer's cost lands
        "ingest_cpu_percent": round(parts[0] * 100, 1),
        "daphne_cpu_percent": round(parts[1] * 100, 1),
        "load_average": round(os.getloadavg()[0], 1),
    }


def start(log: Path, env: dict, cmd: list[str]) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", default="1,10,50")
    parser.add_argument("--paths", default="mse,hls")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--port", type=int, default=8767)
    parser.add_argument("--json", default="", help="also write the report here")
    parser.add_argument(
        "--one-user",
        action="store_true",
        help="the extra viewers (MSE and HLS) are the measured page's user (one re-check)",
    )
    args = parser.parse_args()
    counts = sorted(int(n) for n in args.viewers.split(","))
    paths = [p for p in args.paths.split(",") if p]
    db_url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_live_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/4")
    ensure_database(db_url)
    work = Path(tempfile.mkdtemp(prefix="live-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.live_settings",
        "PYTHONPATH": str(ROOT),
        "MEDIA_ROOT": str(work / "media"),
        "RECORDING_SPOOL_DIR": str(work / "spool"),
        "RECORDING_LIVE_DIR": str(work / "live"),
        "CAMERA_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    os.environ.update(env)

    from playwright.sync_api import sync_playwright

    from demo.rtsp_sim import SimCamera

    sim = SimCamera(mounts={"cam1": VTEST}, clock=["cam1"], log_path=work / "sim.log").start()
    processes: list[subprocess.Popen] = []
    results: dict[str, dict] = {}
    try:
        camera_id, cookie = prepare(sim.url("cam1"))
        tokens = None if args.one_user else viewer_tokens(camera_id, counts[-1] - 1)
        venv = ROOT / ".venv" / "bin"
        ingest = start(
            work / "ingest.log", env, [str(venv / "python"), "manage.py", "run_ingest", "--worker-id", "bench"]
        )
        processes.append(ingest)
        daphne = start(
            work / "daphne.log",
            env,
            [str(venv / "daphne"), "-b", "127.0.0.1", "-p", str(args.port), "portal.asgi:application"],
        )
        processes.append(daphne)
        pids = [ingest.pid, daphne.pid]
        base = f"http://127.0.0.1:{args.port}"
        from demo.rtsp_sim import port_answers

        deadline = time.monotonic() + 180
        while not port_answers("127.0.0.1", args.port) and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(8)  # the recorder connects and writes its live feed
        idle0, t0 = tree_cpu(pids), time.monotonic()
        time.sleep(args.seconds)
        idle = (tree_cpu(pids) - idle0) / (time.monotonic() - t0)
        results["no viewer"] = {"server_cpu_percent": round(idle * 100, 1)}
        print("no viewer", results["no viewer"], flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for path in paths:
                    for n in counts:
                        row = measure(browser, base, cookie, camera_id, path, n, args.seconds, pids, tokens)
                        results[f"{path} x{n}"] = row
                        print(path, n, row, flush=True)
            finally:
                browser.close()
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        sim.stop()
    for path in paths:
        low, high = f"{path} x{counts[0]}", f"{path} x{counts[-1]}"
        if low in results and high in results and counts[-1] > counts[0]:
            slope = (results[high]["server_cpu_percent"] - results[low]["server_cpu_percent"]) / (
                counts[-1] - counts[0]
            )
            results[f"{path} cpu per additional viewer"] = {"server_cpu_percent": round(slope, 2)}
    report = {
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "camera": "768x576 10 fps H.264, 1 s GOP (simulated, clock burned in), no audio",
        "extra_viewers": "the measured page's user" if args.one_user else "a user each (MSE sockets, HLS playlists)",
        "results": results,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
