"""Load on the public embed image endpoint, served by gunicorn on loopback, measured with wrk.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_embed_bench REDIS_URL=redis://127.0.0.1:6379/4 \
        .venv/bin/python bench/embed_bench.py [--seconds 15] [--connections 100]

It re-creates the bench database (dropped first: never point it at real data), makes one operator
with enough add-on licenses and one congestion camera with a 1280×720 public image, then for each
target runs wrk (100 connections, 2 threads, bounded in time) against:
  * /e/<key>/image: the embed image (key lookup, per-IP rate limit in Redis, quota charge in Redis, file read);
  * /static/bench/<same image>.jpg: the same bytes as a static file (WhiteNoise), through the same gunicorn.
It reports requests/s, p50/p95/p99 latency, the ratio, and checks that the call counter (Redis, and
PostgreSQL after a flush) equals the number of image responses gunicorn served (its access log).
Loopback only; every run is bounded by --seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IMAGE = ROOT / "var" / "models" / "assets" / "zidane.jpg"
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


def prepare(static_dir: Path) -> tuple[str, int]:
    """Migrate, then one operator / camera / public image. Returns (embed key, operator id)."""
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from congestion.models import CongestionCamera, PublicImage
    from licensing.models import LicenseKind
    from tests.factories import BuildingFactory, CameraFactory, OperatorFactory, RoomFactory
    from tests.licensing.factories import give_camera_licenses

    operator = OperatorFactory(name=f"Embed bench {int(time.time())}")
    room = RoomFactory(building=BuildingFactory(operator=operator))
    camera = CameraFactory(room=room)
    give_camera_licenses(operator, count=1, kind=LicenseKind.CONGESTION_OPTION)
    give_camera_licenses(operator, count=20, kind=LicenseKind.EMBED_CALLS_ADDON)  # 2,010,000 calls
    cc = CongestionCamera.objects.create(operator=operator, camera=camera, display_name="bench")
    data = IMAGE.read_bytes()
    name = default_storage.save(f"congestion/bench/public-{cc.pk}.jpg", ContentFile(data))
    now = timezone.now()
    PublicImage.objects.create(operator=operator, congestion_camera=cc, image=name, count=3, captured_at=now,
                               analysed_at=now)  # fmt: skip
    shutil.copy(IMAGE, static_dir / "embed-bench.jpg")
    return cc.embed_key, operator.pk


def wrk(url: str, seconds: int, connections: int, lua: Path) -> dict:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(lua), url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def served(log: Path, prefix: str) -> int:
    # Gunicorn writes one access-log line per response it sent: "<status> <path>".
    return sum(1 for line in log.read_text().splitlines() if line.startswith("200 ") and prefix in line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk (bin/setup does)", file=sys.stderr)
        return 2
    db_url = os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_embed_bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/4")
    ensure_database(db_url)
    work = Path(tempfile.mkdtemp(prefix="embed-bench-"))
    static_dir = work / "static"
    static_dir.mkdir()
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "bench.embed_settings", "EMBED_BENCH_STATIC": str(static_dir),
        "MEDIA_ROOT": str(work / "media"), "EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE": "1000000", "PYTHONPATH": str(ROOT),
        "EMBED_KEY_CALLS_PER_MINUTE": "1000000",  # measured (a Redis round trip) but never refusing
    }  # fmt: skip
    os.environ.update(env)
    key, operator_id = prepare(static_dir)
    from embeds import quota

    client = quota.redis_client()
    for k in client.scan_iter(match=f"{quota.KEY_PREFIX}{operator_id}:*"):
        client.delete(k)
    lua = work / "report.lua"
    lua.write_text(WRK_LUA)
    log = work / "access.log"
    gunicorn = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "portal.wsgi", "-b", f"127.0.0.1:{args.port}",
         "-k", "gthread", "-w", str(args.workers), "--threads", str(args.threads), "--backlog", "2048",
         "--access-logfile", str(log), "--access-logformat", "%(s)s %(U)s", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    image_url = f"{base}/e/{key}/image"
    static_url = f"{base}/static/bench/embed-bench.jpg"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(image_url, timeout=2).read()  # noqa: S310 - loopback only
                break
            except OSError:
                time.sleep(0.2)
        urllib.request.urlopen(static_url, timeout=2).read()  # noqa: S310
        wrk(image_url, 3, args.connections, lua)  # warm-up (counted too: the check covers it)
        embed = wrk(image_url, args.seconds, args.connections, lua)
        static = wrk(static_url, args.seconds, args.connections, lua)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    image_responses = served(log, f"/e/{key}/image")
    counted = quota.used(operator_id)
    quota.flush()
    from embeds.models import CallCount

    in_db = CallCount.objects.filter(operator_id=operator_id).values_list("count", flat=True).first()
    report = {
        "date": datetime.now().isoformat(timespec="minutes"),
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "server": f"gunicorn gthread {args.workers} workers × {args.threads} threads, wrk -t2 -c{args.connections} "
        f"-d{args.seconds}s",
        "image_bytes": IMAGE.stat().st_size,
        "embed": embed,
        "static": static,
        "ratio": embed["rps"] / static["rps"],
        "image_responses_served": image_responses,
        "counter_redis": counted,
        "counter_postgres": in_db,
        "exact": image_responses == counted == in_db,
    }
    print(f"{'target':<10}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'non-2xx':>10}{'errors':>10}")
    for name in ("embed", "static"):
        r = report[name]
        print(f"{name:<10}{r['rps']:>10.0f}{r['p50_us'] / 1000:>10.1f}{r['p95_us'] / 1000:>10.1f}"
              f"{r['p99_us'] / 1000:>10.1f}{r['non_2xx']:>10}{r['socket_errors']:>10}")  # fmt: skip
    print(f"ratio embed/static: {report['ratio']:.2f}")
    print(f"image responses served {image_responses}, counter Redis {counted}, PostgreSQL {in_db}: "
          f"{'EXACT' if report['exact'] else 'MISMATCH'}")  # fmt: skip
    print("JSON " + json.dumps(report))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if report["exact"] else 1


if __name__ == "__main__":
    sys.exit(main())
