"""An H.265 camera's live view in a browser without HEVC (Debian's Chromium has no H.265 decoder): the
page says it cannot play the camera's video and offers the server's H.264 transcode, saying what it
costs; chosen, it plays on the low-latency path from one transcode for the camera (one ffmpeg, however
many viewers), which stops once the last of them has gone."""

from __future__ import annotations

import psutil
import pytest
from django.urls import reverse

from demo.footage import hevc_footage
from demo.rtsp_sim import SimCamera
from tests.browser.test_foundation_flow import log_in
from tests.conftest import build_tenant
from tests.licensing.factories import give_camera_licenses
from tests.recording.media import media_settings, point_at, ticking, wait_for
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEVC_MIME = 'video/mp4; codecs="hvc1.1.6.L93.B0"'
# Keeps every type the page asks MediaSource.isTypeSupported about in window.askedTypes.
RECORD_TYPES = """
window.askedTypes = [];
const nativeIsTypeSupported = MediaSource.isTypeSupported.bind(MediaSource);
MediaSource.isTypeSupported = (type) => { window.askedTypes.push(type); return nativeIsTypeSupported(type); };
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
def tenant(transactional_db):
    tenant = build_tenant("Alpha", "alpha")
    give_camera_licenses(tenant.operator, count=1)
    return tenant


@pytest.fixture
def h265_camera(tenant, settings, tmp_path):
    """The tenant's camera, an H.265 one with AAC sound, recorded by a worker ticking every second."""
    media_settings(settings, tmp_path)
    settings.RECORDING_TICK_SECONDS = 1
    sim = SimCamera(mounts={"cam1": hevc_footage()}, audio={"cam1": "aac"}, log_path=tmp_path / "sim.log")
    sim.start()
    point_at(tenant.camera, sim.url("cam1"))
    with ticking("hevc"):
        yield tenant.camera
    sim.kill()


def open_live(page, server, camera) -> None:
    page.goto(server.url + reverse("recording:live", kwargs={"camera_id": camera.pk}))


def plays_h264(page) -> None:
    page.wait_for_function(
        "() => { const v = document.getElementById('live-video');"
        " return v.dataset.path === 'mseH264' && v.currentTime > 0; }",
        timeout=patience(60) * 1000,
    )
    first = page.locator("#live-video").evaluate("v => v.currentTime")
    page.wait_for_function("t => document.getElementById('live-video').currentTime > t + 1", arg=first)


def test_without_hevc_the_page_offers_the_h264_transcode_and_one_serves_every_viewer(
    page, live_asgi, tenant, h265_camera, screenshot
):
    assert not page.evaluate("m => MediaSource.isTypeSupported(m)", HEVC_MIME)  # this Chromium has no HEVC
    page.add_init_script(RECORD_TYPES)
    log_in(page, live_asgi, tenant.viewer.email)
    page.wait_for_url(lambda url: "login" not in url)
    open_live(page, live_asgi, h265_camera)
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
    plays_h264(page)
    assert page.locator("#live-path").inner_text() == "Low latency (converted to H.264)"
    assert page.locator("#live-video").evaluate("v => v.videoWidth") == 768
    assert len(transcoders()) == 1
    asked = page.evaluate("() => window.askedTypes")
    assert any('codecs="avc1.' in t for t in asked), asked

    # A second viewer of the camera who asks for H.264 too shares the same transcode.
    second = page.context.new_page()
    open_live(second, live_asgi, h265_camera)
    second.locator("#live-h264").click(timeout=patience(60) * 1000)
    plays_h264(second)
    assert len(transcoders()) == 1
    second.close()
    assert len(transcoders()) == 1  # the first viewer still watches

    page.goto(live_asgi.url + "/")  # the last viewer leaves
    assert wait_for(lambda: transcoders() == [], timeout=30), transcoders()
