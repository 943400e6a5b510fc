"""Print the demo/sim_camera.py arguments for the demo cameras, or with --onvif those of
demo/onvif_sim.py for the demo's ONVIF camera, or with --wait-ready wait until every simulated
mount serves video (used by bin/demo, so the recorder does not start against cameras still starting)."""

import shlex
import time
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError

from demo.recording import demo_mount_urls, onvif_sim_args, sim_camera_args
from workers.probe_camera import probe_camera


class Command(BaseCommand):
    help = "Print the simulated-camera arguments (one mount per demo camera), or --onvif the ONVIF side's."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--onvif", action="store_true", help="arguments of demo/onvif_sim.py")
        parser.add_argument("--wait-ready", type=float, metavar="SECONDS", help="wait until every mount serves video")

    def handle(self, *args, onvif: bool = False, wait_ready: float | None = None, **options) -> None:
        if wait_ready is not None:
            self._wait(demo_mount_urls(), wait_ready)
            return
        self.stdout.write(shlex.join(onvif_sim_args() if onvif else sim_camera_args()))

    def _wait(self, urls: list[str], seconds: float) -> None:
        deadline = time.monotonic() + seconds
        pending = list(urls)
        with ThreadPoolExecutor(max_workers=max(1, len(urls))) as pool:
            while pending and time.monotonic() < deadline:
                results = pool.map(lambda url: probe_camera(url, timeout=12.0).ok, pending)
                pending = [url for url, ok in zip(pending, results, strict=True) if not ok]
                if pending:
                    time.sleep(0.5)
        if pending:
            raise CommandError(f"simulated cameras not ready after {seconds:.0f} s: {', '.join(pending)}")
        self.stdout.write(f"{len(urls)} simulated camera streams ready")
