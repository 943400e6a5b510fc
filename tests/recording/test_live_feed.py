"""The live feed through the ingest worker (recording/live_feed.py over workers/live.py): the worker's
recorder connection serves every viewer, its address is in its heartbeat, a camera nobody records and a
worker that stops end the feed, and the worker's live server stops with it."""

from __future__ import annotations

import json

import pytest

from demo.rtsp_sim import SimCamera
from recording import live_feed
from recording.models import CameraRecording, IngestLease, IngestWorker
from tests.recording.live_socket import run
from tests.recording.media import VTEST, Running, lease, media_settings, point_at, wait_for
from workers import live

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    media_settings(settings, tmp_path)
    return tmp_path


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def recording_worker(alpha, media, sim):
    point_at(alpha.camera, sim.url("cam1"))
    worker = Running("w1")
    worker.tick()
    assert wait_for(lambda: worker.tick() and lease(alpha.camera).state == IngestLease.State.RECORDING, 30)
    yield worker
    worker.close()


def first_frames(messages, until: str = "key") -> list[live_feed.FeedMessage]:
    seen = []
    for message in messages:
        seen.append(message)
        if message.kind in (until, "end"):
            break
    return seen


def watching(camera, worker: Running, tries: int = 3):
    """A viewer that has its meta, init and first keyframe. A recorder run that ends meanwhile (the camera
    stalls on a loaded machine) ends the feed with camera-offline: then it waits for the recording and asks
    again, as the page does."""
    for _ in range(tries):
        viewer = live_feed.subscribe_sync(camera.pk, timeout=30)
        frames = first_frames(viewer)
        if frames[-1].kind == "key":
            return viewer, frames
        viewer.close()
        assert frames[-1].meta == {"reason": "camera-offline"}, frames[-1]
        assert wait_for(lambda: worker.tick() and lease(camera).state == IngestLease.State.RECORDING, 30)
    raise AssertionError(f"no keyframe in {tries} tries: {frames[-1]}")


def test_ten_viewers_of_a_camera_are_served_by_its_recorders_one_rtsp_session(alpha, sim, recording_worker):
    address = IngestWorker.objects.get(worker_id="w1").live_address
    assert address == recording_worker.supervisor.live_hub.address and address.startswith("127.0.0.1:")
    # The recorder's start takes a thumbnail on a connection of its own, once: let it finish first.
    assert wait_for(lambda: CameraRecording.objects.filter(camera=alpha.camera).exclude(thumbnail="").exists(), 30)
    assert wait_for(lambda: sim.stats().get("open_sessions") == 1, 10)
    segmenter = recording_worker.supervisor.ingests[alpha.camera.pk].segmenter
    before, runs_before = sim.stats(), segmenter.runs
    viewers = []
    try:
        for _ in range(10):
            viewer, frames = watching(alpha.camera, recording_worker)
            viewers.append(viewer)
            assert [m.kind for m in frames[:2]] == ["meta", "init"]
            assert frames[0].meta == {"mime": 'video/mp4; codecs="avc1.4d401f"', "video": "h264", "audio": False}
        for viewer in viewers:  # all ten are being served at once
            assert next(viewer).kind in ("key", "fragment", "meta")
        assert recording_worker.supervisor.live_hub.subscribers(alpha.camera.pk) == 10
        after, runs_after = sim.stats(), segmenter.runs
    finally:
        for viewer in viewers:
            viewer.close()
    assert after["open_sessions"] == 1, after  # the recorder's; no viewer opened one
    # No session but the recorder's own: one per recorder run (and its codec probe) if it had to restart.
    assert after["sessions"] - before["sessions"] <= 2 * (runs_after - runs_before), (before, after)


def test_the_async_client_yields_meta_init_and_a_keyframe_first(alpha, recording_worker):
    async def watch() -> list[live_feed.FeedMessage]:
        feed = live_feed.subscribe(alpha.camera.pk)
        try:
            seen = []
            async for message in feed:
                seen.append(message)
                if len(seen) == 5:
                    return seen
            return seen
        finally:
            await feed.aclose()

    seen = run(watch)  # not asyncio.run: after a browser test the worker's main thread has a loop running
    assert [m.kind for m in seen[:3]] == ["meta", "init", "key"]
    assert {m.kind for m in seen[3:]} <= {"key", "fragment"}
    assert seen[1].data[4:8] == b"ftyp" and seen[2].data[4:8] == b"moof"


def test_a_camera_no_worker_records_is_offline(alpha, media):
    assert [(m.kind, m.meta) for m in live_feed.subscribe_sync(alpha.camera.pk)] == [
        ("end", {"reason": "camera-offline"})
    ]

    async def first() -> list[live_feed.FeedMessage]:
        return [message async for message in live_feed.subscribe(alpha.camera.pk)]

    assert [(m.kind, m.meta) for m in run(first)] == [("end", {"reason": "camera-offline"})]


def test_a_subscription_not_signed_with_the_sites_key_is_refused(alpha, recording_worker):
    address = IngestWorker.objects.get(worker_id="w1").live_address
    forged = live.sub_line(b"not the key", alpha.camera.pk)
    with live.FeedConnection(address, forged, timeout=10) as connection:
        assert [(kind, json.loads(payload)) for kind, payload in connection] == [("end", {"reason": "refused"})]


def test_the_worker_stopping_ends_its_viewers_and_its_live_server(alpha, recording_worker):
    viewer = live_feed.subscribe_sync(alpha.camera.pk, timeout=30)
    assert first_frames(viewer)[-1].kind == "key"
    hub = recording_worker.supervisor.live_hub
    recording_worker.close()  # joins the recorder's threads, as every ingest test
    assert not hub.running, "the live server's thread survived the worker's shutdown"
    rest = list(viewer)
    assert rest[-1].kind == "end" and rest[-1].meta["reason"] in ("stopped", "camera-offline"), rest[-1]
    assert not IngestWorker.objects.filter(worker_id="w1").exists()
