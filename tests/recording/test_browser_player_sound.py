"""The player's mute in headless Chromium (issue 16 point 10): a recording with sound (AAC, stored by the
recorder's own segment_store) plays its audio and the Mute toggle mutes and unmutes the <video>, with
aria-pressed following; a file recorded as video only (Record sound off) disables Mute and says why."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from recording import media_services
from recording.media_selectors import media_blocked_reason
from recording.models import CameraRecording, MotionSource
from tests.browser.test_foundation_flow import log_in
from tests.conftest import build_tenant
from tests.factories import CameraFactory
from tests.licensing.factories import give_camera_licenses
from tests.recording.media import media_settings
from tests.waiting import patience
from workers.segmenter import Segment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIDEO = "#player-video"


def _spool(tmp_path: Path, name: str, *, sound: bool) -> Path:
    """A 4 s H.264 file as the recorder spools it, with a 440 Hz AAC tone or without sound."""
    path = tmp_path / f"{name}.mp4"
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10"]
    if sound:
        cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-c:a", "aac"]
    cmd += ["-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", str(path)]
    subprocess.run(cmd, check=True, timeout=patience(60))  # noqa: S603
    return path


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    """Alpha's camera recorded with sound and a second one recorded as video only, one file each."""
    media_settings(settings, tmp_path)
    tenant = build_tenant("Alpha", "alpha")
    quiet = CameraFactory(room=tenant.room, name="Quiet cam")
    give_camera_licenses(tenant.operator, count=2)
    CameraRecording.objects.update_or_create(
        camera=quiet,
        defaults={"operator_id": quiet.operator_id, "motion_source": MotionSource.SENSOR, "record_audio": False},
    )
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    rows = {}
    for camera, sound in ((tenant.camera, True), (quiet, False)):
        assert media_blocked_reason(camera) == ""
        spool = _spool(tmp_path, f"cam{camera.pk}", sound=sound)
        segment = Segment(path=spool, start=start, duration=4.0, size=spool.stat().st_size)
        rows[sound] = media_services.segment_store(camera=camera, segment=segment)
    assert (rows[True].has_audio, rows[False].has_audio) == (True, False)  # noted from the stored file
    return tenant, quiet, start


def _player(page, live_server, camera, start) -> None:
    day = timezone.localdate(start)
    url = reverse("recording:player", kwargs={"camera_id": camera.pk}) + f"?view=continuous&day={day:%Y-%m-%d}"
    page.goto(live_server.url + url)
    page.wait_for_function(f"() => document.querySelector('{VIDEO}').readyState >= 1")  # the file is loaded


def test_mute_toggles_the_sound_of_a_recording_and_is_disabled_for_video_only(page, live_server, world, screenshot):
    tenant, quiet, start = world
    log_in(page, live_server, tenant.viewer.email)
    page.wait_for_url(lambda url: "login" not in url)
    _player(page, live_server, tenant.camera, start)
    video, mute = page.locator(VIDEO), page.get_by_role("button", name="Mute")
    assert mute.is_enabled() and mute.get_attribute("aria-pressed") == "false"
    assert not video.evaluate("v => v.muted")
    assert page.locator("#player-no-sound").is_hidden()
    # The file's sound reaches the browser: Chromium decodes audio bytes while it plays.
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(f"() => document.querySelector('{VIDEO}').webkitAudioDecodedByteCount > 0")

    mute.click()
    assert video.evaluate("v => v.muted")
    assert mute.get_attribute("aria-pressed") == "true"
    screenshot("recording-player-muted")
    mute.click()
    assert not video.evaluate("v => v.muted")
    assert mute.get_attribute("aria-pressed") == "false"

    _player(page, live_server, quiet, start)
    mute = page.get_by_role("button", name="Mute")
    assert mute.is_disabled()
    note = page.locator("#player-no-sound")
    assert note.is_visible() and "no sound" in note.inner_text()
    assert mute.get_attribute("aria-describedby") == "player-no-sound"
