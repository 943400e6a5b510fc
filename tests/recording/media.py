"""Helpers for the recording pipeline tests: short segments, a private media root, real RTSP cameras."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.core.files.storage import default_storage
from django.db import connection

from devices.models import StreamSource
from recording.ingest import IngestSupervisor
from recording.models import CameraRecording, IngestLease, MotionSource, RecordingSegment
from tests.waiting import patience
from tests.waiting import wait_for as wait_for  # the recording tests' waits (generous deadlines)
from workers.segmenter import probe

ROOT = Path(__file__).resolve().parents[2]
VTEST = ROOT / "var" / "media-fixtures" / "vtest.mp4"
SEGMENT_SECONDS = 2  # the footage has a 2 s GOP: every segment starts on a keyframe


def media_settings(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.RECORDING_SPOOL_DIR = tmp_path / "spool"
    settings.RECORDING_LIVE_DIR = tmp_path / "live"
    settings.RECORDING_SEGMENT_SECONDS = SEGMENT_SECONDS
    settings.RECORDING_STALL_SECONDS = 5
    settings.RECORDING_LEASE_SECONDS = 5
    settings.RECORDING_PRE_ROLL_SECONDS = 5
    settings.RECORDING_POST_ROLL_SECONDS = 2


def point_at(camera, url: str, *, motion: str = MotionSource.SENSOR) -> None:
    """Configure `camera` to record from `url`; sensor motion unless asked (no decoding in most tests)."""
    camera.stream_source = StreamSource.RTSP
    camera.rtsp_url = url
    camera.save(update_fields=["stream_source", "rtsp_url"])
    CameraRecording.objects.update_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id, "motion_source": motion}
    )


def segments(camera) -> list[RecordingSegment]:
    return list(RecordingSegment.objects.filter(camera=camera).order_by("start"))


def assert_index_matches_playable_files(camera) -> None:
    """Every indexed segment is a stored file that plays; no stored file is missing from the index."""
    rows = segments(camera)
    for row in rows:
        assert default_storage.exists(row.storage_name), row.storage_name
        info = probe(default_storage.path(row.storage_name))
        assert info.ok, (row.storage_name, info.error)
    folder = Path(default_storage.path(f"recordings/{camera.operator_id}/{camera.pk}/continuous"))
    on_disk = {p for p in folder.rglob("*.mp4")} if folder.exists() else set()
    indexed = {Path(default_storage.path(r.storage_name)) for r in rows}
    assert on_disk == indexed, {"not indexed": sorted(on_disk - indexed), "missing": sorted(indexed - on_disk)}


def lease(camera) -> IngestLease | None:
    return IngestLease.objects.filter(camera=camera).first()


class Running:
    """A supervisor ticking in the test thread on demand (deterministic) and shut down at the end."""

    def __init__(self, worker_id: str, capacity: int = 10) -> None:
        self.supervisor = IngestSupervisor(worker_id=worker_id, capacity=capacity, sync_every=1)

    def tick(self) -> IngestSupervisor:
        self.supervisor.tick()
        return self.supervisor

    def close(self) -> None:
        # The recorder's threads finish their last file (store, clip, mail) after the stop; on a loaded machine
        # that can outlast IngestSupervisor's own join. Wait for them here, so none of them touches the
        # database after the test's teardown (pytest-django refuses it, and the worker process dies).
        threads = [t for ingest in self.supervisor.ingests.values() for t in getattr(ingest, "threads", [])]
        self.supervisor.shutdown()
        for thread in threads:
            thread.join(timeout=patience(60))
        alive = [thread.name for thread in threads if thread.is_alive()]
        assert not alive, f"recorder threads still running after the shutdown: {alive}"


@contextlib.contextmanager
def ticking(worker_id: str, *, go: threading.Event | None = None) -> Iterator[Running]:
    """A `Running` worker ticking every second in a background thread, as `run_ingest` does, for tests whose
    browser or client waits on the recorder (the browser tests of the live view). With `go`, the thread
    waits for it before its first tick (a worker busy elsewhere). At the end the thread stops, then the
    worker shuts down (its recorder threads finished); both leave no database connection behind."""
    worker = Running(worker_id)
    stop = threading.Event()

    def tick() -> None:
        try:
            if go is not None:
                while not go.wait(0.2):
                    if stop.is_set():
                        return
            while not stop.is_set():
                worker.tick()
                stop.wait(1.0)
        finally:
            connection.close()  # the thread's own connection

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield worker
    finally:
        stop.set()
        ticker.join(timeout=patience(10))
        worker.close()
        connection.close()


# Objects in a tenant for the project-wide isolation walk (tests/test_tenant_isolation.py): rows only,
# no files; the walk checks that another operator's ids answer 404 before any file is touched.


def segment_of(tenant) -> int:
    from django.utils import timezone

    row = RecordingSegment.objects.create(
        operator=tenant.operator,
        camera=tenant.camera,
        start=timezone.now(),
        duration=60,
        size=1000,
        storage_name=f"recordings/walk/{tenant.camera.pk}/{time.monotonic_ns()}.mp4",
    )
    return row.pk


def clip_of(tenant) -> int:
    from django.utils import timezone

    from recording.models import EventClip

    now = timezone.now()
    row = EventClip.objects.create(
        operator=tenant.operator,
        camera=tenant.camera,
        motion_at=now,
        start=now,
        duration=10,
        size=1000,
        storage_name=f"recordings/walk/{tenant.camera.pk}/clip-{time.monotonic_ns()}.mp4",
    )
    return row.pk


def export_of(tenant) -> int:
    from datetime import timedelta

    from django.utils import timezone

    from recording.models import Export

    now = timezone.now()
    row = Export.objects.create(
        operator=tenant.operator,
        camera=tenant.camera,
        user=tenant.admin,
        start=now - timedelta(minutes=1),
        end=now,
        status=Export.Status.DONE,
        expires_at=now + timedelta(days=7),
    )
    return row.pk
