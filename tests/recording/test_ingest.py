"""Continuous recording through the ingest workers, against a real RTSP camera on loopback with real
ffmpeg and 2 s segments: indexing, one worker per camera, faults and recovery, quota, license."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from demo.rtsp_sim import SimCamera
from recording.ingest import lease_claim
from recording.models import CameraRecording, IngestLease, IngestWorker
from recording.services import notification_setting_update
from tests.licensing.factories import give_camera_licenses
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

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    media_settings(settings, tmp_path)
    # A loaded machine's slow ffmpeg is no outage here: one that writes nothing for 5 s would restart the
    # recording (a state, a gap and a probe these tests do not expect: another trouble mail, a clip without
    # its pre-roll). No test here needs a stall to be seen: a camera's power cut ends its stream at once.
    settings.RECORDING_STALL_SECONDS = 30
    return tmp_path


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST, "cam2": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def worker():
    running = []

    def make(worker_id: str, capacity: int = 10) -> Running:
        running.append(Running(worker_id, capacity))
        return running[-1]

    yield make
    for r in running:
        r.close()


def test_the_worker_records_real_segments_and_indexes_exactly_the_stored_files(alpha, media, sim, worker):
    point_at(alpha.camera, sim.url("cam1"))
    w = worker("w1")
    w.tick()
    assert lease(alpha.camera).worker_id == "w1"
    assert wait_for(lambda: len(segments(alpha.camera)) >= 3, timeout=25)
    w.tick()
    held = lease(alpha.camera)
    assert held.state == IngestLease.State.RECORDING
    assert held.last_segment_at is not None and held.bitrate_bps > 0
    assert IngestWorker.objects.get(worker_id="w1").cameras == 1  # the worker's heartbeat
    # The first runs from the connection to the next clock boundary; the next are cut at the 2 s boundaries.
    # (Not every one is 2 s: a loaded machine that handles a keyframe past the next boundary makes one file
    # of two GOPs, workers.segmenter.clock_cuts; so one of them, not the second, is asked to be.)
    assert wait_for(lambda: any(1.5 <= s.duration <= 2.5 for s in segments(alpha.camera)[1:]), timeout=25)
    assert all(s.storage_name.endswith(".mp4") for s in segments(alpha.camera))
    w.close()  # a clean stop finishes the open segment (partial but playable) and releases the lease
    assert lease(alpha.camera).worker_id == ""
    assert_index_matches_playable_files(alpha.camera)


def test_two_workers_never_record_the_same_camera(alpha, bravo, media, sim, worker):
    point_at(alpha.camera, sim.url("cam1"))
    point_at(bravo.camera, sim.url("cam2"))
    w1, w2 = worker("w1", capacity=1), worker("w2", capacity=5)
    # Both race for the same lease: the conditional UPDATE lets exactly one win.
    results = []
    barrier = threading.Barrier(8)

    def race(name: str) -> None:
        barrier.wait()
        try:
            results.append(lease_claim(camera_id=alpha.camera.pk, worker_id=name))
        finally:
            connection.close()

    from recording.ingest import ingest_sync

    ingest_sync()
    threads = [threading.Thread(target=race, args=(f"racer{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    IngestLease.objects.update(worker_id="", lease_until=None)

    w1.tick()
    w2.tick()
    w1.tick()
    w2.tick()
    assert len(w1.supervisor.ingests) == 1 and len(w2.supervisor.ingests) == 1
    assert set(w1.supervisor.ingests).isdisjoint(w2.supervisor.ingests)
    # w1 dies without a goodbye: its lease runs out and w2 takes the camera over.
    dead = next(iter(w1.supervisor.ingests))
    for ingest in w1.supervisor.ingests.values():
        ingest.stop()
    w1.supervisor.ingests.clear()
    IngestLease.objects.filter(worker_id="w1").update(lease_until=timezone.now() - timedelta(seconds=1))
    w2.tick()
    assert dead in w2.supervisor.ingests and len(w2.supervisor.ingests) == 2
    assert IngestLease.objects.filter(worker_id="w2").count() == 2


def test_a_camera_that_dies_mid_segment_gets_a_trouble_state_and_recovers_with_one_mail_each(
    alpha, media, tmp_path, worker
):
    notification_setting_update(
        user=alpha.admin, room=alpha.room, notification_type="troubles", recipients=["kanri@example.com"]
    )
    own = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "own.log")
    own.start()
    try:
        point_at(alpha.camera, own.url("cam1"))
        w = worker("w1")
        w.tick()
        assert wait_for(lambda: len(segments(alpha.camera)) >= 2, timeout=25)
        own.kill()  # power cut in the middle of a segment
        killed_at = timezone.now()
        assert wait_for(lambda: alpha.camera.__class__.objects.get(pk=alpha.camera.pk).trouble_state, timeout=30)
        alpha.camera.refresh_from_db()
        assert alpha.camera.trouble_state == "network"
        assert alpha.camera.trouble_since - killed_at < timedelta(minutes=2)
        assert lease(alpha.camera).state == IngestLease.State.OUTAGE
        assert wait_for(lambda: [m for m in mail.outbox if "Trouble:" in m.subject], timeout=5)
        w.tick()
        assert len([m for m in mail.outbox if "Trouble:" in m.subject]) == 1
        before = len(segments(alpha.camera))

        own.start()  # the camera comes back on the same address
        assert wait_for(lambda: len(segments(alpha.camera)) >= before + 2, timeout=40)
        alpha.camera.refresh_from_db()
        assert alpha.camera.trouble_state == ""
        assert wait_for(lambda: [m for m in mail.outbox if "resolved" in m.subject], timeout=5)
        subjects = [m.subject for m in mail.outbox]
        assert len([s for s in subjects if "Trouble resolved" in s]) == 1
        assert len([s for s in subjects if "Trouble:" in s and "resolved" not in s]) == 1
        w.close()
        assert any(not s.complete for s in segments(alpha.camera))  # the cut-off minute was kept, playable
        assert_index_matches_playable_files(alpha.camera)
    finally:
        own.kill()


def test_a_full_quota_deletes_the_oldest_segments_and_recording_goes_on(alpha, media, sim, worker):
    point_at(alpha.camera, sim.url("cam1"))
    w = worker("w1")
    w.tick()
    assert wait_for(lambda: len(segments(alpha.camera)) >= 2, timeout=25)
    size = max(s.size for s in segments(alpha.camera))
    CameraRecording.objects.filter(camera=alpha.camera).update(quota_bytes=int(size * 3.5))
    first_start = segments(alpha.camera)[0].start
    assert wait_for(lambda: segments(alpha.camera)[0].start > first_start, timeout=25)
    newest = segments(alpha.camera)[-1].start
    assert wait_for(lambda: segments(alpha.camera)[-1].start > newest, timeout=15)  # still recording
    total = sum(s.size for s in segments(alpha.camera))
    assert total <= int(size * 3.5) + size  # within the quota, give or take the segment just stored
    w.close()
    assert_index_matches_playable_files(alpha.camera)


def test_an_expired_license_stops_the_ingest_and_a_new_one_restarts_it(alpha, media, sim, worker, settings):
    [lic] = give_camera_licenses(alpha.operator)
    point_at(alpha.camera, sim.url("cam1"))
    w = worker("w1")
    w.tick()
    assert alpha.camera.pk in w.supervisor.ingests
    stopped = w.supervisor.ingests[alpha.camera.pk]
    settings.PORTAL_FAKE_NOW = lic.expires_at + timedelta(minutes=1)
    w.tick()
    assert alpha.camera.pk not in w.supervisor.ingests
    # The stop stores the file it had open; on a loaded machine that can outlast the stop's own join.
    for thread in stopped.threads:
        thread.join(timeout=patience(60))
    assert not any(thread.is_alive() for thread in stopped.threads)
    held = lease(alpha.camera)
    assert not held.enabled and held.disabled_reason == "license_expired" and held.worker_id == ""
    count = len(segments(alpha.camera))
    threading.Event().wait(SEGMENT_WAIT)
    assert len(segments(alpha.camera)) == count  # nothing recorded while expired
    give_camera_licenses(alpha.operator)
    w.tick()
    assert alpha.camera.pk in w.supervisor.ingests


SEGMENT_WAIT = 3.0


def _recorded_without_gap(rows, start, end, *, slack=timedelta(seconds=0.3)) -> bool:
    """The segments `rows` (by start) cover [start, end] one after the other, no gap over `slack`."""
    reach = start
    for row in rows:
        if row.start > reach + slack:
            return False
        reach = max(reach, row.start + timedelta(seconds=row.duration))
        if reach >= end:
            return True
    return False


def test_server_side_motion_on_the_real_footage_makes_clips_with_pre_roll_and_thumbnails(
    alpha, media, sim, worker, settings
):
    from recording.models import EventClip, MotionEvent, MotionSource

    settings.RECORDING_MAX_EVENT_SECONDS = 3  # people walk all the time in the footage: report in parts
    point_at(alpha.camera, sim.url("cam1"), motion=MotionSource.SERVER)
    w = worker("w1")
    w.tick()

    def clip_with_history():  # a motion whose 5 s before were recorded without a gap, so pre-roll exists
        rows = segments(alpha.camera)  # (a loaded machine may see an outage; a clip after it cannot have it)
        clips = EventClip.objects.filter(camera=alpha.camera).order_by("motion_at")
        return next(
            (c for c in clips if _recorded_without_gap(rows, c.motion_at - timedelta(seconds=5), c.motion_at)), None
        )

    assert wait_for(clip_with_history, timeout=60)
    clip = clip_with_history()
    event = MotionEvent.objects.filter(camera=alpha.camera, source="server").first()
    assert clip.start <= clip.motion_at - timedelta(seconds=5) + timedelta(seconds=0.3)
    assert clip.duration >= 5 + 2
    assert event is not None
    row = CameraRecording.objects.get(camera=alpha.camera)
    assert row.thumbnail and row.thumbnail_at is not None
