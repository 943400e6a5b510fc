"""`manage.py run_ingest`: one ingest worker (see recording/ingest.py for why a process, not a task)."""

import signal
import threading

from django.core.management.base import BaseCommand

from recording.ingest import SHUTTING_DOWN, IngestSupervisor, new_worker_id


class Command(BaseCommand):
    help = "Record cameras: claim camera leases, run their segmenters, motion detection and live view."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--capacity",
            type=int,
            default=0,
            help="most cameras this worker records (0, the default: as many as its CPU share allows, "
            "RECORDING_WORKER_CPU_PERCENT of its cores measured on its own process tree)",
        )
        parser.add_argument("--worker-id", default="", help="stable name for logs (default host:pid:random)")

    def handle(self, *args, capacity: int, worker_id: str, **options) -> None:
        if capacity < 0:
            self.stderr.write("--capacity must be 0 (by CPU) or more")
            raise SystemExit(2)
        supervisor = IngestSupervisor(worker_id=worker_id or new_worker_id(), capacity=capacity)
        stop = threading.Event()

        # SIGTERM (systemd, docker stop, bin/demo's Ctrl+C) finishes the open segments and releases the
        # leases at once, so another worker can take the cameras without waiting for them to expire.
        def request_stop(*_) -> None:
            SHUTTING_DOWN.set()
            stop.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        cap = f"up to {capacity} cameras, " if capacity else ""
        self.stdout.write(
            f"ingest worker {supervisor.worker_id}: {cap}while under {supervisor.sizing.limit:.0%} of its CPU"
        )
        supervisor.run(stop)
