"""Live HLS from the recorder's one camera connection (issue #18): the worker makes a viewer's HLS from
the recorder's live feed, not from a second RTSP session, and serves it through the media token view."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from demo.rtsp_sim import SimCamera
from devices.media_tokens import camera_access_token
from recording import live_feed
from recording.media_selectors import recording_settings_for
from recording.models import IngestLease
from tests.conftest import client_for
from tests.recording.media import VTEST, Running, lease, media_settings, point_at, wait_for
from tests.waiting import patience

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def recording_worker(alpha, settings, tmp_path, sim):
    media_settings(settings, tmp_path)
    point_at(alpha.camera, sim.url("cam1"))
    worker = Running("w1")
    worker.tick()
    assert wait_for(lambda: worker.tick() and lease(alpha.camera).state == IngestLease.State.RECORDING, 30)
    yield worker
    worker.close()


def test_recording_hls_and_feed_viewers_share_the_recorders_one_rtsp_session(alpha, sim, recording_worker):
    assert wait_for(lambda: recording_settings_for(alpha.camera).thumbnail, 30)  # (its snapshot's session)
    assert wait_for(lambda: sim.stats().get("open_sessions") == 1, 10)
    IngestLease.objects.filter(camera=alpha.camera).update(live_requested_at=timezone.now())  # a viewer asks
    supervisor = recording_worker.tick()
    ingest = supervisor.ingests[alpha.camera.pk]
    assert ingest.hls is not None and ingest.hls.feed is ingest.live_feed
    assert ingest.hls.wait_ready(timeout=patience(30), segments=2), ingest.hls.error()

    token = camera_access_token(alpha.camera, alpha.operator, user=alpha.viewer)
    url = reverse("recording:live_media", kwargs={"media_token": token, "filename": "index.m3u8"})
    viewer = client_for(alpha.viewer)
    # (Served while live: a recorder stalled by a loaded machine empties it until its next run.)
    assert wait_for(lambda: viewer.get(url).status_code == 200, 30), ingest.hls.error()
    response = viewer.get(url)
    playlist = response.content.decode()
    assert '#EXT-X-MAP:URI="init.mp4"' in playlist
    init = viewer.get(url.replace("index.m3u8", "init.mp4"))
    assert init.status_code == 200 and init["Content-Type"] == "video/mp4"
    segment = next(line for line in playlist.splitlines() if line.endswith(".m4s"))
    assert viewer.get(url.replace("index.m3u8", segment)).status_code == 200

    recording_worker.tick()  # (renews the 5 s lease the feed's address is found by)
    feeds = [live_feed.subscribe_sync(alpha.camera.pk, timeout=30) for _ in range(3)]  # and low-latency viewers
    try:
        for feed in feeds:
            first = next(iter(feed))
            assert first.kind == "meta", first
        samples = []
        for _ in range(5):
            samples.append(sim.stats()["open_sessions"])
            time.sleep(0.2)
        assert ingest.hls.running  # HLS still follows the feed meanwhile
    finally:
        for feed in feeds:
            feed.close()
    # While HLS runs and three feed viewers watch, the camera serves one session: the recorder's. An HLS
    # of its own would hold a second one all along; the recorder's brief probes (a thumbnail, an outage
    # check on a loaded machine) come and go, hence several samples.
    assert min(samples) == 1, samples

    IngestLease.objects.filter(camera=alpha.camera).update(live_requested_at=None)  # nobody watches
    recording_worker.tick()
    assert ingest.hls is None or not ingest.hls.running
    assert viewer.get(url).status_code == 404
