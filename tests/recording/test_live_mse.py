"""The live view's low-latency path end to end in headless Chromium: a SimCamera recorded by an ingest
worker (its one camera connection also writes the live feed, recording/live_feed.py), the page served by
daphne (tests/live_asgi.py) with its WebSocket, played through Media Source Extensions. And the page's
fallbacks: no WebSocket -> HLS, no WebSocket and no MediaSource (so no hls.js either) -> snapshots."""

from __future__ import annotations

import pytest

from demo.rtsp_sim import SimCamera
from tests.recording.live_page import NO_SOCKET, open_live, playing, recorded
from tests.recording.media import VTEST
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_MEDIA_SOURCE = "delete window.MediaSource; delete window.ManagedMediaSource; delete window.WebKitMediaSource;"
# Debian's Chromium answers "maybe" for an HLS playlist; a browser without native HLS answers "".
NO_NATIVE_HLS = "HTMLMediaElement.prototype.canPlayType = function () { return ''; };"


@pytest.fixture
def recording_camera(tenant, settings, tmp_path, sim):
    """The tenant's camera recorded from a SimCamera by a worker ticking every second in the background."""
    with recorded(tenant, settings, tmp_path, sim, "mse") as camera:
        yield camera


def test_the_live_view_plays_on_the_low_latency_path_and_says_so(page, live_asgi, tenant, recording_camera, screenshot):
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "mse")
    video = page.locator("#live-video")
    assert video.evaluate("v => v.videoWidth") == 768
    assert video.evaluate("v => v.src.startsWith('blob:')")  # a MediaSource, not a playlist
    assert page.locator("#live-path").inner_text() == "Low latency"
    assert page.locator("#live-status").inner_text() == "Live"
    assert [url.split("?")[0] for url in sockets] == [f"{live_asgi.ws_url}/ws/live/{recording_camera.pk}/"]
    hls = page.evaluate("() => performance.getEntriesByType('resource').filter(e => e.name.includes('.m3u8')).length")
    assert hls == 0
    # At the live edge: the player keeps less than a second buffered ahead of what it shows.
    ahead = video.evaluate("v => v.buffered.end(v.buffered.length - 1) - v.currentTime")
    assert ahead < 1.0, ahead
    screenshot("recording-live-mse")


def test_where_the_socket_cannot_open_the_page_plays_hls_and_says_so(page, live_asgi, tenant, recording_camera):
    page.add_init_script(NO_SOCKET)
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "hls")
    assert page.locator("#live-path").inner_text() == "HLS"
    assert page.locator("#live-status").inner_text() == "Live (a few seconds behind real time)"


def test_where_no_video_can_play_the_page_shows_snapshots_and_says_so(page, live_asgi, tenant, recording_camera):
    page.add_init_script(NO_SOCKET + NO_MEDIA_SOURCE + NO_NATIVE_HLS)
    open_live(page, live_asgi, tenant, recording_camera)
    page.wait_for_function(
        "() => { const i = document.getElementById('live-snapshot'); return !i.hidden && i.naturalWidth > 0; }",
        timeout=patience(30) * 1000,
    )
    assert page.locator("#live-video").evaluate("v => v.hidden")
    assert page.locator("#live-path").inner_text() == "Snapshot"
    assert (
        page.locator("#live-status").inner_text() == "Live video cannot play here: showing a picture every 2 seconds."
    )


def test_the_page_says_the_camera_dropped_and_resumes_by_itself_when_it_is_back(
    page, live_asgi, tenant, recording_camera, sim, tmp_path
):
    from tests.recording.media import lease

    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "mse")
    # The camera goes away: the page says so and hides the last picture (it is not the camera now).
    sim.kill()
    page.wait_for_function(
        "() => document.getElementById('live-status').dataset.state === 'offline'", timeout=patience(60) * 1000
    )
    assert page.locator("#live-video").evaluate("v => v.style.visibility") == "hidden"
    assert page.locator("#live-status").inner_text().startswith("The camera is offline.")
    # ... and comes back on the same address: the page plays again without a reload.
    back = SimCamera(mounts={"cam1": VTEST}, port=sim.port, log_path=tmp_path / "sim-back.log").start()
    try:
        page.wait_for_function(
            "() => document.getElementById('live-status').dataset.state === 'playingLive'",
            timeout=patience(120) * 1000,
        )
        playing(page, "mse")
        assert page.locator("#live-video").evaluate("v => v.style.visibility") == ""
        assert lease(recording_camera).worker_id == "mse"
    finally:
        back.kill()


def test_native_hls_asks_again_while_the_stream_starts_before_it_shows_snapshots(
    page, live_asgi, tenant, recording_camera
):
    """An iPhone before iOS 17.1 has no MediaSource: Safari's own HLS is its only video. The camera's
    stream starts on demand and its playlist is a 404 until then, which the element reports as an error:
    the page asks again (every 2 s, up to a minute) instead of giving up on video at the first one."""
    playlists = []
    page.on("request", lambda r: playlists.append(r.url) if ".m3u8" in r.url else None)
    page.add_init_script(NO_SOCKET + NO_MEDIA_SOURCE)  # no hls.js without MediaSource; canPlayType says "maybe"
    open_live(page, live_asgi, tenant, recording_camera)
    assert page.evaluate("() => document.getElementById('live-video').canPlayType('application/vnd.apple.mpegurl')")
    # Playwright hands over its events while it waits: poll its clock, not Python's.
    for _ in range(int(patience(20) * 4)):
        if len(playlists) >= 3:
            break
        page.wait_for_timeout(250)
    assert len(playlists) >= 3, playlists
    assert page.locator("#live-path").inner_text() != "Snapshot"
    assert page.locator("#live-snapshot").evaluate("i => i.hidden")
