"""Mute in the live view (issue 16 point 10) in headless Chromium: a camera with sound (a SimCamera with
an AAC microphone, recorded by an ingest worker whose one camera connection also writes the live feed)
starts muted, as browsers require; its Mute button unmutes it, the browser then decodes its sound, and
a second click mutes it again. On the low-latency path and on the HLS fallback alike. A camera recorded
as video only ("Record sound" off) offers no sound button, on either path (the button's hidden attribute
used to lose to the .button rule's display, so it always showed, as did the H.264 offer; and the HLS
path showed it for every stream)."""

from __future__ import annotations

import pytest

from tests.recording.live_page import NO_SOCKET, open_live, playing, recorded, sim_camera
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MUTE = "#live-mute"


@pytest.fixture
def record_audio() -> bool:
    return True  # the camera's "Record sound" (a test parametrizes it to False)


@pytest.fixture
def sim(tmp_path):
    """A SimCamera with an AAC microphone."""
    with sim_camera(tmp_path, audio="aac") as camera:
        yield camera


@pytest.fixture
def recording_camera(tenant, settings, tmp_path, sim, record_audio):
    """The tenant's camera with an AAC microphone, recorded by a worker ticking every second."""
    with recorded(tenant, settings, tmp_path, sim, "sound", record_audio=record_audio) as camera:
        yield camera


def decoded_audio(page) -> int:
    return page.locator("#live-video").evaluate("v => v.webkitAudioDecodedByteCount")


def mute_toggles_the_sound(page) -> None:
    video = page.locator("#live-video")
    button = page.locator(MUTE)
    assert video.evaluate("v => v.muted")  # starts muted (autoplay)
    button.wait_for(state="visible")
    assert button.inner_text() == "Unmute"

    button.click()
    assert not video.evaluate("v => v.muted")
    assert button.inner_text() == "Mute"
    before = decoded_audio(page)
    page.wait_for_function(
        "n => document.getElementById('live-video').webkitAudioDecodedByteCount > n",
        arg=before,
        timeout=patience(30) * 1000,
    )  # the camera's sound plays
    assert not video.evaluate("v => v.paused")

    button.click()
    assert video.evaluate("v => v.muted")
    assert button.inner_text() == "Unmute"


def test_mute_toggles_the_live_sound_on_the_low_latency_path(page, live_asgi, tenant, recording_camera):
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "mse")
    mute_toggles_the_sound(page)


def test_mute_toggles_the_live_sound_on_the_hls_fallback(page, live_asgi, tenant, recording_camera):
    page.add_init_script(NO_SOCKET)
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, "hls")
    mute_toggles_the_sound(page)


@pytest.mark.parametrize("record_audio", [False])
@pytest.mark.parametrize("path", ["mse", "hls"])
def test_a_camera_recorded_as_video_only_offers_no_sound_button(page, live_asgi, tenant, recording_camera, path):
    if path == "hls":
        page.add_init_script(NO_SOCKET)
    open_live(page, live_asgi, tenant, recording_camera)
    playing(page, path)  # (on HLS, after hls.js has buffered several fragments)
    # The feed's meta (low latency) or the stream's init segment (hls.js) says it has no sound.
    assert page.locator(MUTE).evaluate("b => b.hidden")
    assert page.locator(MUTE).is_hidden()  # and the page's CSS lets the hidden attribute hide it
    assert page.locator("#live-h264").is_hidden()  # (an H.264 camera needs no transcode offer either)
    assert decoded_audio(page) == 0
