"""Faults of the recording side: an ingest worker process SIGKILLed while an event clip is still to be
cut (its pre-roll recorded by the dead worker, its post-roll by the next), and the storage failing.
The clip is made exactly once, no segment is duplicated or overlapping, and the index matches the files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from demo.rtsp_sim import SimCamera
from devices.models import TroubleState
from recording import media_services
from recording.models import EventClip, IngestLease, MotionEvent
from tests.recording.media import (
    VTEST,
    Running,
    assert_index_matches_playable_files,
    lease,
    media_settings,
    point_at,
    segments,
    wait_for,
)
from tests.waiting import patience
from workers.segmenter import probe

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def media(settings, tmp_path):
    media_settings(settings, tmp_path)
    return tmp_path


@pytest.fixture
def ingest_process(media, settings):
    """`manage.py run_ingest` processes on this test's database and media folders."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.recording.ingest_settings",
        "DATABASE_URL": _database_url(db),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "RECORDING_SPOOL_DIR": str(settings.RECORDING_SPOOL_DIR),
        "RECORDING_LIVE_DIR": str(settings.RECORDING_LIVE_DIR),
        "RECORDING_SEGMENT_SECONDS": str(settings.RECORDING_SEGMENT_SECONDS),
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    started: list[subprocess.Popen] = []

    def start(worker_id: str) -> subprocess.Popen:
        log = open(media / f"{worker_id}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "run_ingest", "--worker-id", worker_id],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=patience(20))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _database_url(db: dict) -> str:
    """This test's database as a URL for another process (the embedded default's is a file)."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _assert_no_duplicate_segments(camera) -> None:
    """Each clock-boundary segment once: two recorders of one camera would store segments a fraction of
    a second apart (or the same name twice). The boundaries are 2 s apart here; no start may repeat or
    fall within 1 s of the previous one. (Durations are not compared: the first segment after a
    connection reports a longer duration than the wall-clock span it is named for.)"""
    starts = [r.start for r in segments(camera)]
    for before, after in zip(starts, starts[1:], strict=False):
        assert after - before >= timedelta(seconds=1), (before, after)


def test_a_worker_killed_before_its_clip_is_cut_leaves_it_to_the_next_which_makes_it_exactly_once(
    alpha, sim, media, ingest_process
):
    point_at(alpha.camera, sim.url("cam1"))
    first = ingest_process("wA")
    # Enough footage behind the motion for its 5 s pre-roll even when the first segment started late.
    assert wait_for(lambda: len(segments(alpha.camera)) >= 5, timeout=60), (media / "wA.log").read_text()[-2000:]
    assert lease(alpha.camera).worker_id == "wA"
    assert segments(alpha.camera)[0].start <= timezone.now() - timedelta(seconds=8)
    now = timezone.now()
    [event] = media_services.motion_record(
        trigger=alpha.sensor, at=now - timedelta(seconds=1), ended_at=now + timedelta(minutes=10), source="sensor"
    )  # somebody keeps moving: the motion outlasts the dead worker and its lease (it ends below)
    # Kill once the worker has stored the footage where the motion starts (its part of the clip). Its
    # checks whether the clip is due claim nothing (clip_make claims only work that starts at once), so
    # the kill may land anywhere before the clip is due.
    assert wait_for(lambda: segments(alpha.camera)[-1].end >= event.at, timeout=15)
    os.killpg(first.pid, signal.SIGKILL)  # no goodbye: lease held, spool file half written, clip pending
    killed_at = timezone.now()
    first.wait()
    event.refresh_from_db()
    assert event.clip_state == MotionEvent.ClipState.PENDING  # really killed mid-clip: post-roll not recorded yet
    assert not EventClip.objects.filter(camera=alpha.camera).exists()

    # Two replacements race for the camera and for the clip once the dead worker's lease runs out.
    replacements = [ingest_process("wB"), ingest_process("wC")]
    # The motion ends once the takeover records. A fixed end (14 s) was over before a replacement on a
    # loaded machine had started and stored footage, so the clip, given up waiting for it, held only the
    # dead worker's part.
    assert wait_for(lambda: [r for r in segments(alpha.camera) if r.start > killed_at], timeout=60)
    MotionEvent.objects.filter(pk=event.pk).update(ended_at=timezone.now())
    assert wait_for(lambda: EventClip.objects.filter(motion=event).exists(), timeout=45)
    recorded_after = segments(alpha.camera)[-1].start
    assert wait_for(lambda: segments(alpha.camera)[-1].start > recorded_after, timeout=15)  # recording goes on

    assert EventClip.objects.filter(camera=alpha.camera).count() == 1
    clip = EventClip.objects.get(motion=event)
    event.refresh_from_db()
    assert event.clip_state == MotionEvent.ClipState.DONE
    assert clip.start <= event.at - timedelta(seconds=5) + timedelta(seconds=0.3)  # the dead worker's pre-roll
    # The new worker's footage is in it too: more than the dead worker can have recorded. (The seconds
    # between the kill and the takeover were recorded by nobody; the clip joins the two parts.)
    assert clip.duration > (killed_at - clip.start).total_seconds() + 2, (clip.start, clip.duration, killed_at)
    assert [r.start for r in segments(alpha.camera) if r.start > killed_at]  # the takeover recorded
    from django.core.files.storage import default_storage

    assert probe(Path(default_storage.path(clip.storage_name))).ok
    assert lease(alpha.camera).worker_id in {"wB", "wC"}
    for process in replacements:  # recording stops before the index is compared with the files
        process.terminate()
        process.wait(timeout=patience(20))
    _assert_no_duplicate_segments(alpha.camera)
    assert_index_matches_playable_files(alpha.camera)


def test_a_storage_failure_sets_storage_trouble_keeps_the_segments_and_recovers(alpha, sim, media, settings):
    point_at(alpha.camera, sim.url("cam1"))
    worker = Running("w1")
    try:
        worker.tick()
        assert wait_for(lambda: len(segments(alpha.camera)) >= 2, timeout=25)
        # The storage breaks: where the recordings folder should be there is a file (writes fail with OSError).
        recordings = Path(settings.MEDIA_ROOT) / "recordings"
        aside = Path(settings.MEDIA_ROOT) / "recordings.aside"
        recordings.rename(aside)
        recordings.write_text("not a folder")
        assert wait_for(lambda: _trouble(alpha.camera) == TroubleState.STORAGE, timeout=20)
        ingest = worker.supervisor.ingests[alpha.camera.pk]
        assert wait_for(lambda: ingest.unstored, timeout=10)  # recorded while the storage is down
        waiting = [segment.start for segment in list(ingest.unstored)]
        # Nothing indexed that is not stored: every row's file is in the moved folder (a file being stored as
        # the folder moved went there with it; the rows are counted once the failure was seen, when none is).
        rows = segments(alpha.camera)
        for row in rows:
            assert (aside / Path(row.storage_name).relative_to("recordings")).exists(), row.storage_name
        assert not set(waiting) & {row.start for row in rows}

        recordings.unlink()  # the storage is back
        aside.rename(recordings)
        assert wait_for(lambda: _trouble(alpha.camera) == "", timeout=20)
        assert wait_for(lambda: not ingest.unstored, timeout=10)
        assert set(waiting) <= {row.start for row in segments(alpha.camera)}  # the waiting ones were kept
        assert lease(alpha.camera).state == IngestLease.State.RECORDING
    finally:
        worker.close()
    _assert_no_duplicate_segments(alpha.camera)
    assert_index_matches_playable_files(alpha.camera)


def _trouble(camera) -> str:
    camera.refresh_from_db(fields=["trouble_state"])
    return camera.trouble_state
