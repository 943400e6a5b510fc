"""The live view never leaves a picture that stopped labelled live (issue #18: "on any path, a picture
older than the path's target is never presented as live"), in headless Chromium against a SimCamera
recorded by an ingest worker, the page served by daphne (tests/live_asgi.py).

The page watches its own playhead (recording/static/recording/live.js, watchPlayhead): on HLS a camera
that drops takes its playlist with it (a 404) and a playhead still for 4 s is a lost stream; on the
low-latency path a playhead still for 1.5 s (a camera that hangs without hanging up, SIGSTOP here) is one.
Either way the picture is hidden, the page says so, and it plays again by itself. Each test first watches
10 s of healthy playback and checks that the page never left its live state in that time (the check must
not fire on a stream that plays)."""

from __future__ import annotations

import pytest

from demo.rtsp_sim import SimCamera
from tests.recording.live_page import NO_SOCKET, open_live, playing, recorded
from tests.recording.media import VTEST
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def recording_camera(tenant, settings, tmp_path, sim):
    with recorded(tenant, settings, tmp_path, sim, "stale") as camera:
        yield camera


def states_while_playing(page, seconds: float) -> set[str]:
    """The states the status took while the video played `seconds` further (the page's own clock)."""
    page.evaluate(
        """() => {
            const status = document.getElementById('live-status');
            window.liveStates = [];
            new MutationObserver(() => window.liveStates.push(status.dataset.state))
                .observe(status, {attributes: true, attributeFilter: ['data-state']});
        }"""
    )
    start = page.locator("#live-video").evaluate("v => v.currentTime")
    page.wait_for_function(
        "t => document.getElementById('live-video').currentTime > t",
        arg=start + seconds,
        timeout=patience(seconds * 3) * 1000,
    )
    return set(page.evaluate("() => window.liveStates"))


def plays_as(page, state: str, seconds: float = 10, windows: int = 3) -> bool:
    """Whether, in one of up to `windows` stretches of `seconds` of playback, the status never left
    `state`. On a loaded machine a stretch can really stall (the recorder or Chromium starved: F1 of
    2026-12-02 saw the server say "offline" once); a detector that fires on healthy playback fires in
    every stretch."""
    return any(states_while_playing(page, seconds) <= {state} for _ in range(windows))


def says(page, state: str, timeout: float) -> None:
    page.wait_for_function(
        "s => document.getElementById('live-status').dataset.state === s", arg=state, timeout=patience(timeout) * 1000
    )


def picture_shown(page) -> bool:
    return page.locator("#live-video").evaluate("v => !v.hidden && v.style.visibility !== 'hidden'")


def test_on_hls_a_camera_that_drops_is_not_left_as_live_and_plays_again_when_back(
    page, live_asgi, tenant, recording_camera, sim, tmp_path
):
    page.add_init_script(NO_SOCKET)
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "hls")
    assert plays_as(page, "playingHls")
    # The camera goes away: its playlist goes with it, and the frozen picture is hidden, not left as live.
    sim.kill()
    says(page, "offline", 60)
    assert not picture_shown(page)
    assert page.locator("#live-status").inner_text().startswith("The camera is offline.")
    # ... and comes back on the same address: the page loads the stream again by itself and plays it.
    back = SimCamera(mounts={"cam1": VTEST}, port=sim.port, log_path=tmp_path / "sim-back.log").start()
    try:
        says(page, "playingHls", 120)
        playing(page, "hls")
        assert picture_shown(page)
        assert page.locator("#live-status").inner_text() == "Live (a few seconds behind real time)"
    finally:
        back.kill()


def test_on_the_low_latency_path_a_camera_that_hangs_is_not_left_as_live_and_plays_again(
    page, live_asgi, tenant, recording_camera, sim
):
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "mse")
    assert plays_as(page, "playingLive")
    # The camera stops sending without hanging up (the recorder notices only after its stall timeout):
    # the page sees its picture stand still and hides it.
    sim.freeze()
    try:
        says(page, "stalled", 30)
        assert not picture_shown(page)
        assert page.locator("#live-status").inner_text().startswith("No new picture is coming from the camera.")
    finally:
        sim.thaw()
    # The camera goes on: fresh frames at the live edge are shown as live again, without a reload.
    says(page, "playingLive", 120)
    playing(page, "mse")
    assert picture_shown(page)
    assert page.locator("#live-status").inner_text() == "Live"
