"""An H.265 camera's live view in a browser without HEVC (Debian's Chromium has no H.265 decoder): the
page says it cannot play the camera's video and offers the server's H.264 transcode, saying what it
costs; chosen, it plays on the low-latency path from one transcode for the camera (one ffmpeg, however
many viewers), which stops once the last of them has gone."""

from __future__ import annotations

import psutil
import pytest

from demo.footage import hevc_footage
from tests.recording.live_page import open_live, playing, recorded, sim_camera
from tests.recording.media import wait_for
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEVC_MIME = 'video/mp4; codecs="hvc1.1.6.L93.B0"'
# Keeps every type the page asks MediaSource.isTypeSupported about in window.askedTypes.
RECORD_TYPES = """
window.askedTypes = [];
const nativeIsTypeSupported = MediaSource.isTypeSupported.bind(MediaSource);
MediaSource.isTypeSupported = (type) => { window.askedTypes.push(type); return nativeIsTypeSupported(type); };
"""

# On the page that asks for the transcode (?variant=h264), the first socket fails before it opens (a busy
# server): HLS would carry the camera's own H.265, so the page must try the socket again instead.
FIRST_H264_SOCKET_FAILS = """
if (location.search.includes("variant=h264")) {
  const NativeWebSocket = window.WebSocket;
  let first = true;
  window.WebSocket = function (url, protocols) {
    const socket = new NativeWebSocket(url, protocols);
    if (first) { first = false; window.failedSockets = 1; socket.close(); }
    return socket;
  };
  window.WebSocket.prototype = NativeWebSocket.prototype;
}
"""


def transcoders() -> list[psutil.Process]:
    """ffmpeg children of this process (the in-process recorder's live hub) that encode H.264."""
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "libx264" in child.cmdline():
                found.append(child)
        except psutil.Error:
            continue
    return found


@pytest.fixture
def h265_camera(tenant, settings, tmp_path):
    """The tenant's camera, an H.265 one with AAC sound, recorded by a worker ticking every second."""
    with (
        sim_camera(tmp_path, footage=hevc_footage(), audio="aac") as sim,
        recorded(tenant, settings, tmp_path, sim, "hevc") as camera,
    ):
        yield camera


def test_without_hevc_the_page_offers_the_h264_transcode_and_one_serves_every_viewer(
    page, live_asgi, tenant, h265_camera, screenshot
):
    assert not page.evaluate("m => MediaSource.isTypeSupported(m)", HEVC_MIME)  # this Chromium has no HEVC
    page.add_init_script(RECORD_TYPES)
    open_live(page, live_asgi, tenant, h265_camera)  # logged in as the viewer first
    offer = page.locator("#live-h264")
    offer.wait_for(state="visible", timeout=patience(60) * 1000)
    assert "Play as H.264 (uses server CPU)" in offer.inner_text()
    assert "transcode" in page.locator("#live-h264-note").inner_text()
    assert transcoders() == []  # opt-in: nothing is decoded on the server before the viewer asks
    # The page asked about the camera's own H.265 with its codec string: a browser with HEVC plays it as it is.
    asked = page.evaluate("() => window.askedTypes")
    assert any('codecs="hvc1.' in t for t in asked), asked
    screenshot("recording-live-hevc-offer")

    offer.click()
    playing(page, "mseH264")
    assert page.locator("#live-path").inner_text() == "Low latency (converted to H.264)"
    assert page.locator("#live-video").evaluate("v => v.videoWidth") == 768
    assert len(transcoders()) == 1
    asked = page.evaluate("() => window.askedTypes")
    assert any('codecs="avc1.' in t for t in asked), asked

    # A second viewer of the camera who asks for H.264 too shares the same transcode.
    # Its first socket for the transcode fails: the page tries it again rather than fall back to HLS.
    second = page.context.new_page()
    second.add_init_script(FIRST_H264_SOCKET_FAILS)
    open_live(second, live_asgi, tenant, h265_camera, log_in_first=False)
    second.locator("#live-h264").click(timeout=patience(60) * 1000)
    playing(second, "mseH264")
    assert second.evaluate("() => window.failedSockets") == 1
    assert len(transcoders()) == 1
    second.close()
    assert len(transcoders()) == 1  # the first viewer still watches

    page.goto(live_asgi.url + "/")  # the last viewer leaves
    assert wait_for(lambda: transcoders() == [], timeout=30), transcoders()
