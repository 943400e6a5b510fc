"""Stream settings apply at once (issue #16.14): a camera's new RTSP URL reaches the running recorder
within one tick, and recording, motion, live view and the trouble state follow the new source. Also the
camera's sound (#16.10): kept in the recordings as AAC (a G.711 camera's transcoded), left out with
"record sound" off, which the running recorder follows too."""

from __future__ import annotations

import json
import subprocess

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from demo.rtsp_sim import SimCamera
from devices.models import Device
from devices.services import device_set_stream
from recording import services
from recording.models import IngestLease, MotionSource, RecordingSegment
from tests.recording.media import VTEST, Running, media_settings, point_at, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.media]


@pytest.fixture
def media(settings, tmp_path):
    media_settings(settings, tmp_path)
    return tmp_path


@pytest.fixture
def running():
    made = []

    def make(worker_id: str) -> Running:
        made.append(Running(worker_id))
        return made[-1]

    yield make
    for r in made:
        r.close()


def audio_of(row: RecordingSegment) -> list[str]:
    return audio_of_file(default_storage.path(row.storage_name))


def audio_of_file(path) -> list[str]:
    result = subprocess.run(  # noqa: S603
        ["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=codec_name", "-of", "json",
         str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [s["codec_name"] for s in json.loads(result.stdout)["streams"]]


def newer_segments(camera, after: int) -> list[RecordingSegment]:
    return list(RecordingSegment.objects.filter(camera=camera, pk__gt=after).order_by("pk"))


def test_a_new_rtsp_url_reaches_the_running_recorder_within_one_tick(alpha, media, running, tmp_path):
    old = SimCamera(mounts={"old": VTEST}, log_path=tmp_path / "old.log").start()
    new = SimCamera(mounts={"new": VTEST}, audio={"new": "pcmu"}, log_path=tmp_path / "new.log").start()
    try:
        point_at(alpha.camera, old.url("old"), motion=MotionSource.SERVER)
        worker = running("w1")
        supervisor = worker.tick()
        assert wait_for(lambda: RecordingSegment.objects.filter(camera=alpha.camera).exists(), timeout=60)
        first = supervisor.ingests[alpha.camera.pk]
        assert first.url == old.url("old")
        old.kill()  # the old camera is gone: the recorder reports it
        assert wait_for(lambda: Device.objects.get(pk=alpha.camera.pk).trouble_state == "network", timeout=60)
        last_old = RecordingSegment.objects.filter(camera=alpha.camera).order_by("pk").last().pk

        # The installer enters the new camera's URL (the stream settings page and API call this service).
        device_set_stream(user=alpha.admin, device=Device.objects.get(pk=alpha.camera.pk), source="rtsp",
                          rtsp_url=new.url("new"))  # fmt: skip
        worker.tick()  # one tick
        ingest = supervisor.ingests[alpha.camera.pk]
        assert ingest is not first and ingest.url == new.url("new")
        assert not first.alive()  # the old pipeline is stopped
        # Recording follows: new files come from the new camera (it has G.711 sound, recorded as AAC).
        assert wait_for(lambda: any(audio_of(r) == ["aac"] for r in newer_segments(alpha.camera, last_old)), timeout=60)
        # Trouble follows: the new source records, so the old source's trouble is cleared.
        assert wait_for(lambda: Device.objects.get(pk=alpha.camera.pk).trouble_state == "", timeout=30)
        # Motion follows: its keyframes come from the new recording's ffmpeg.
        assert wait_for(lambda: ingest.keyframes.received >= 2, timeout=30)
        # Live view follows: a viewer now gets the new camera.
        IngestLease.objects.filter(camera=alpha.camera).update(live_requested_at=timezone.now())
        worker.tick()
        # (HLS is made from the new recorder's live feed, so it has the new camera's sound as recorded.)
        assert ingest.hls is not None and ingest.hls.feed is ingest.live_feed
        assert wait_for(lambda: (ingest.hls.out_dir / "init.mp4").exists(), timeout=30), ingest.hls.error()
        assert audio_of_file(ingest.hls.out_dir / "init.mp4") == ["aac"]
    finally:
        old.kill()
        new.kill()


def test_record_sound_off_records_video_only_and_applies_to_the_running_recorder(alpha, media, running, tmp_path):
    sim = SimCamera(mounts={"cam": VTEST}, audio={"cam": "aac"}, log_path=tmp_path / "sim.log").start()
    try:
        point_at(alpha.camera, sim.url("cam"))
        worker = running("w1")
        worker.tick()
        assert wait_for(lambda: any(audio_of(r) == ["aac"] for r in newer_segments(alpha.camera, 0)), timeout=60)
        services.motion_settings_update(
            user=alpha.admin, camera=alpha.camera, motion_source=MotionSource.SENSOR, record_audio=False
        )
        worker.tick()
        restarted = timezone.now()  # the old pipeline has stopped: every file begun from now is the new one's
        begun = lambda: RecordingSegment.objects.filter(camera=alpha.camera, start__gte=restarted)  # noqa: E731
        assert wait_for(lambda: begun().count() >= 2, timeout=60)
        # One read of the rows: the recorder goes on cutting segments, so a second query may hold one more.
        tracks = [audio_of(r) for r in begun()]
        assert len(tracks) >= 2 and tracks == [[]] * len(tracks)
    finally:
        sim.kill()
