"""Live view, player and export in headless Chromium against a real SimCamera recorded by an ingest
worker: live HLS plays (currentTime advances), the player shows red motion marks and seeks, an export
shows its progress bar and then a download. Screenshots go to artifacts/."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from demo.rtsp_sim import SimCamera
from recording import media_services, tasks
from recording.models import Export
from tests.browser.test_foundation_flow import log_in
from tests.conftest import build_tenant
from tests.licensing.factories import give_camera_licenses
from tests.recording.media import VTEST, media_settings, point_at, segments, ticking, wait_for
from tests.waiting import patience

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tenant(transactional_db):
    tenant = build_tenant("Alpha", "alpha")
    give_camera_licenses(tenant.operator, count=3)
    return tenant


@pytest.fixture
def hold_worker() -> bool:
    """Whether the background worker waits for `worker_go` before its first tick (a busy worker)."""
    return False


@pytest.fixture
def worker_go(hold_worker) -> threading.Event:
    go = threading.Event()
    if not hold_worker:
        go.set()
    return go


@pytest.fixture
def recording_camera(tenant, settings, tmp_path, worker_go):
    """The tenant's camera recorded from a SimCamera by a worker ticking every second in the background."""
    media_settings(settings, tmp_path)
    settings.RECORDING_TICK_SECONDS = 1
    sim = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "sim.log")
    sim.start()
    point_at(tenant.camera, sim.url("cam1"))
    with ticking("browser", go=worker_go):
        yield tenant.camera
    sim.kill()


def test_live_view_plays_the_camera_through_hls(page, live_server, tenant, recording_camera, screenshot):
    log_in(page, live_server, tenant.viewer.email)
    page.wait_for_url(lambda url: "login" not in url)
    page.goto(live_server.url + reverse("recording:live", kwargs={"camera_id": recording_camera.pk}))
    video = page.locator("#live-video")
    # The worker starts HLS on its next tick after the page asked; hls.js retries the playlist until then.
    page.wait_for_function("() => document.getElementById('live-video').currentTime > 0.5", timeout=patience(45) * 1000)
    first = video.evaluate("v => v.currentTime")
    # It keeps playing, not a still frame.
    page.wait_for_function("t => document.getElementById('live-video').currentTime > t + 1", arg=first)
    assert video.evaluate("v => v.videoWidth") == 768
    screenshot("recording-1-live")


@pytest.mark.parametrize("hold_worker", [True])
def test_live_view_waits_for_a_stream_that_starts_late(page, live_server, tenant, recording_camera, worker_go):
    """Until the worker has the playlist the server answers 404, which hls.js does not retry by itself:
    the page keeps asking (and says it is starting) instead of falling back to still pictures."""
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 and ".m3u8" in r.url else None)
    log_in(page, live_server, tenant.viewer.email)
    page.wait_for_url(lambda url: "login" not in url)
    page.goto(live_server.url + reverse("recording:live", kwargs={"camera_id": recording_camera.pk}))
    # No worker yet: the playlist is a 404, asked again and again (more often than the 3 tries that
    # other errors get before the page falls back to still pictures).
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').filter(e => e.name.includes('.m3u8')).length >= 6",
        timeout=patience(30) * 1000,
    )
    assert len(missing) >= 5, missing
    assert page.locator("#live-snapshot").evaluate("e => e.hidden")
    assert page.locator("#live-status").inner_text() == "Starting the live stream…"
    worker_go.set()
    page.wait_for_function("() => document.getElementById('live-video').currentTime > 0.5", timeout=patience(60) * 1000)
    assert page.locator("#live-snapshot").evaluate("e => e.hidden")


@pytest.mark.parametrize("hold_worker", [True])
def test_a_stream_that_starts_after_the_page_stopped_waiting_replaces_the_pictures(
    page, live_server, tenant, recording_camera, worker_go, settings
):
    """A camera slower to start than the page waits (one that answers errors at first, and the recorder backs
    off between tries): the page shows pictures and says why, goes on asking, and plays the stream once it is
    there."""
    settings.RECORDING_LIVE_START_WAIT_SECONDS = 4
    log_in(page, live_server, tenant.viewer.email)
    page.wait_for_url(lambda url: "login" not in url)
    page.goto(live_server.url + reverse("recording:live", kwargs={"camera_id": recording_camera.pk}))
    page.wait_for_function("() => !document.getElementById('live-snapshot').hidden", timeout=patience(30) * 1000)
    assert page.locator("#live-status").inner_text() == (
        "The camera has not started its live stream yet: showing a picture every 2 seconds until it does."
    )
    worker_go.set()
    page.wait_for_function("() => document.getElementById('live-video').currentTime > 0.5", timeout=patience(60) * 1000)
    assert page.locator("#live-snapshot").evaluate("e => e.hidden")
    assert page.locator("#live-video").evaluate("e => !e.hidden")
    assert page.locator("#live-status").inner_text() == "Live (a few seconds behind real time)"


def test_player_marks_motion_in_red_seeks_and_an_export_shows_progress_then_downloads(
    page, live_server, tenant, recording_camera, screenshot, monkeypatch
):
    assert wait_for(lambda: len(segments(recording_camera)) >= 4, timeout=40)
    rows = segments(recording_camera)
    media_services.motion_record(
        trigger=tenant.sensor,
        at=rows[1].start + timedelta(seconds=1),
        ended_at=rows[1].start + timedelta(seconds=2),
        source="sensor",
    )

    # The export waits until the page has shown it queued with its progress bar.
    progress_seen = threading.Event()

    def slow_delay(export_id: int) -> None:
        def run() -> None:
            try:
                progress_seen.wait(patience(30))
                tasks.export_run(export_id)
            finally:
                connection.close()

        threading.Thread(target=run, daemon=True).start()

    monkeypatch.setattr(tasks.export_run, "delay", slow_delay)

    log_in(page, live_server, tenant.viewer.email)
    page.wait_for_url(lambda url: "login" not in url)
    day = timezone.localdate(rows[0].start)
    page.goto(
        live_server.url
        + reverse("recording:player", kwargs={"camera_id": recording_camera.pk})
        + f"?view=continuous&day={day:%Y-%m-%d}"
    )
    marks = page.locator("#timeline .timeline-motion")
    marks.first.wait_for()
    assert marks.count() >= 1
    assert marks.first.evaluate("m => getComputedStyle(m).backgroundColor") == "rgb(217, 48, 37)"
    # Seek: a click on the timeline where the recording is loads the file there and plays it.
    box = page.locator("#timeline").bounding_box()
    local = timezone.localtime(rows[1].start)
    fraction = (local.hour * 3600 + local.minute * 60 + local.second) / 86400
    page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => { const v = document.getElementById('player-video'); return !v.paused && v.currentTime > 0.3; }",
        timeout=patience(15) * 1000,
    )
    assert "/segments/" in page.locator("#player-video").evaluate("v => v.currentSrc")
    assert page.locator("#player-time").inner_text().count(":") == 2
    # The timeline is a slider for assistive technology: its value is the time shown, and Home moves
    # it to the day's first file.
    timeline = page.locator("#timeline")
    shown = "t => t.getAttribute('aria-valuetext') === document.getElementById('player-time').textContent"
    assert timeline.evaluate(shown)
    timeline.press("Home")
    first_file = reverse("recording:segment_file", kwargs={"segment_id": rows[0].pk})
    page.wait_for_function(f"() => document.getElementById('player-video').currentSrc.endsWith('{first_file}')")
    screenshot("recording-2-player")

    first, last = timezone.localtime(rows[0].start), timezone.localtime(rows[-1].end)
    page.locator("#id_day").fill(f"{first:%Y-%m-%d}")
    page.locator("#id_start_time").fill(f"{first:%H:%M:%S}")
    page.locator("#id_end_time").fill(f"{last + timedelta(seconds=1):%H:%M:%S}")
    page.get_by_role("button", name="Convert to MP4").click()
    page.wait_for_url(lambda url: url.endswith(reverse("recording:exports")))
    page.locator("progress.progress").wait_for()
    screenshot("recording-3-export-progress")
    progress_seen.set()
    download_link = page.get_by_role("link", name="Download")
    download_link.wait_for(timeout=patience(30) * 1000)  # the page reloads when the export is done
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename.endswith(".mp4")
    assert Export.objects.get(user=tenant.viewer).status == Export.Status.DONE
    screenshot("recording-4-export-done")
