"""The console's lists at 500 and 5,000 cameras in one operator, served by gunicorn, measured with wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_list_bench REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/list_bench.py [--sizes 500,5000] [--seconds 10] [--connections 20]

It re-creates the bench database (dropped first: never point it at real data) and makes one operator
with 20 buildings of 10 rooms each; its cameras (each with its motion sensor, a thumbnail row and a
license: two thirds active, the rest expired) are spread over the rooms. For each size it runs wrk
(20 connections, bounded in time, logged in as the operator's admin by a session cookie) against:
  * `/`: the camera list (its first page);
  * `/api/v1/devices/`: the device API list (its first page);
  * `/buildings/<id>/`: one building's page (a twentieth of the cameras);
  * `/healthz`: one `SELECT 1`, the floor of what this gunicorn serves on this machine right now.
It reports p50/p95 of each and their ratio to /healthz's in the same run (on a shared, loaded machine
the ratio says more than the milliseconds), and the p50 of one client alone: what a request costs
with no queue in front of it. Loopback only; every wrk run is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import runpy
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUILDINGS = 20
ROOMS_PER_BUILDING = 10
TARGET_P95_MS = 150
WRK_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,'
    .. '"socket_errors":%d,"non_2xx":%d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(95), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def ensure_database(url: str) -> None:
    import psycopg2

    name = url.rsplit("/", 1)[1]
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        # A fresh database each run: the bench's rows never mix with earlier runs'.
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def prepare() -> tuple[object, list]:
    """Migrate, then the operator, its admin, buildings and rooms. Returns (operator, rooms)."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from tenants.models import Role
    from tests.factories import BuildingFactory, OperatorFactory, RoomFactory, UserFactory
    from tests.licensing.factories import make_partner

    partner, _admin = make_partner(name="Bench Partner")
    operator = OperatorFactory(name="List bench", partner=partner)
    UserFactory(operator=operator, email="bench-admin@example.com", role=Role.ADMIN)
    rooms = []
    for b in range(BUILDINGS):
        building = BuildingFactory(operator=operator, name=f"Building {b:02d}")
        rooms += [RoomFactory(building=building, name=f"Room {r:02d}") for r in range(ROOMS_PER_BUILDING)]
    return operator, rooms


def add_cameras(operator, rooms: list, start: int, stop: int) -> None:
    """Cameras number `start`..`stop - 1`, round-robin over the rooms, each with its sensor, a thumbnail
    row and a license (every third one expired yesterday)."""
    from django.db import transaction
    from django.utils import timezone

    from devices.models import Device, DeviceKind
    from licensing.models import License, LicenseKind
    from recording.models import CameraRecording
    from tests.factories import _mac

    now = timezone.now()
    today = timezone.localdate()
    with transaction.atomic():
        cameras = Device.objects.bulk_create(
            Device(operator=operator, room=rooms[i % len(rooms)], kind=DeviceKind.CAMERA, name=f"Camera {i:05d}",
                   mac=_mac(i + 1))
            for i in range(start, stop)
        )  # fmt: skip
        Device.objects.bulk_create(
            Device(operator=operator, room=c.room, parent=c, kind=DeviceKind.SENSOR, name=f"{c.name} sensor")
            for c in cameras
        )
        CameraRecording.objects.bulk_create(
            CameraRecording(operator=operator, camera=c, thumbnail=f"bench/{c.pk}.jpg", thumbnail_at=now)
            for c in cameras
        )
        License.objects.bulk_create(
            License(kind=LicenseKind.EDGE_STORAGE, term_months=12, partner_id=operator.partner_id, customer=operator,
                    assigned_at=now, device=c, starts_on=today - timedelta(days=60), paid_from=today - timedelta(60),
                    ends_on=today - timedelta(days=1) if i % 3 == 2 else today + timedelta(days=300))
            for i, c in enumerate(cameras, start=start)
        )  # fmt: skip
    from django.db import connection

    from devices.camera_order import camera_list_changed

    camera_list_changed()  # bulk_create sends no signals: the kept list orders are forgotten by hand
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after such a load: plans for the real row counts


def session_cookie() -> str:
    from django.test import Client

    from tenants.models import User

    client = Client()
    client.force_login(User.objects.get(email="bench-admin@example.com"))
    return client.cookies["sessionid"].value


def wrk(url: str, seconds: int, connections: int, lua: Path, cookie: str) -> dict:
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(lua),
         "-H", f"Cookie: sessionid={cookie}", url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def fetch(url: str, cookie: str) -> tuple[int, int]:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})  # noqa: S310 - loopback
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return response.status, len(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="500,5000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    # The production image's worker count by default: gunicorn.conf.py's (CPUs + 1, or WEB_CONCURRENCY).
    parser.add_argument("--workers", type=int, default=runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"])
    # The production image's worker class (Dockerfile, docker-compose.yml): gunicorn's default, sync. A
    # sync worker serves one request at a time and closes the connection, so each request is accepted by
    # whichever worker is free; gthread keeps each client's connection in the worker that accepted it.
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=2, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk (bin/setup does)", file=sys.stderr)
        return 2
    db_url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_list_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/4")
    ensure_database(db_url)
    work = Path(tempfile.mkdtemp(prefix="list-bench-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.list_settings", "PYTHONPATH": str(ROOT),
           "MEDIA_ROOT": str(work / "media")}  # fmt: skip
    os.environ.update(env)
    operator, rooms = prepare()
    cookie = session_cookie()
    lua = work / "report.lua"
    lua.write_text(WRK_LUA)
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi", "-b", f"127.0.0.1:{args.port}",
         "-k", args.worker_class, "-w", str(args.workers), "--threads", str(args.threads), "--backlog", "2048",
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    building = rooms[0].building
    targets = {
        "camera list": f"{base}/",
        "device API": f"{base}/api/v1/devices/",
        "building page": f"{base}/buildings/{building.pk}/",
        "healthz": f"{base}/healthz",
    }
    results: dict[int, dict] = {}
    made = 0
    try:
        for _ in range(150):
            try:
                fetch(targets["healthz"], cookie)
                break
            except OSError:
                time.sleep(0.2)
        for size in sizes:
            add_cameras(operator, rooms, made, size)
            made = size
            results[size] = {}
            sizes_bytes = {}
            for name, url in targets.items():
                status, sizes_bytes[name] = fetch(url, cookie)
                if status != 200:
                    raise SystemExit(f"{url} answered {status}")
                # Every worker and thread has served every target before anything is measured (the first
                # requests of a fresh worker load templates and open connections).
                wrk(url, 3, args.connections, lua, cookie)
            for name, url in targets.items():
                size_bytes = sizes_bytes[name]
                row = wrk(url, args.seconds, args.connections, lua, cookie) | {"bytes": size_bytes}
                # One client alone: what a request costs with no queue in front of it.
                row["alone_p50_us"] = wrk(url, max(2, args.seconds // 2), 1, lua, cookie)["p50_us"]
                results[size][name] = row
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    report = {
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average_after": [round(x, 2) for x in load],
        "server": f"gunicorn {args.worker_class} {args.workers} workers"
        + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
        + f", wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s",
        "results": results,
    }
    print(f"{'cameras':>8} {'target':<14}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p50/hz':>8}{'p95/hz':>8}"
          f"{'alone ms':>9}{'KB':>7}{'non-2xx':>8}")  # fmt: skip
    for size, rows in results.items():
        hz = rows["healthz"]
        for name, r in rows.items():
            print(f"{size:>8} {name:<14}{r['rps']:>8.0f}{r['p50_us'] / 1000:>9.1f}{r['p95_us'] / 1000:>9.1f}"
                  f"{r['p50_us'] / max(1, hz['p50_us']):>8.1f}{r['p95_us'] / max(1, hz['p95_us']):>8.1f}"
                  f"{r['alone_p50_us'] / 1000:>9.1f}{r['bytes'] / 1024:>7.0f}"
                  f"{r['non_2xx'] + r['socket_errors']:>8}")  # fmt: skip
    small, large = results[sizes[0]]["camera list"], results[sizes[-1]]["camera list"]
    if not small["requests"] or not large["requests"]:
        print(f"the camera list answered no request within wrk's timeout (sizes {sizes}): the machine is too busy")
        print("JSON " + json.dumps(report))
        return 1
    p95_ms, growth = large["p95_us"] / 1000, large["p95_us"] / small["p95_us"]
    met = p95_ms <= TARGET_P95_MS and growth <= 2
    print(f"camera list p95 at {sizes[-1]}: {p95_ms:.0f} ms (target <= {TARGET_P95_MS}), {growth:.2f}x its {sizes[0]} "
          f"figure (target <= 2x): {'MET' if met else 'NOT MET'}")  # fmt: skip
    print("JSON " + json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
