"""Helpers for the live view's browser tests (test_live_mse, test_live_stale, test_live_fallbacks,
test_live_sound, test_live_hevc): a SimCamera, the tenant's camera recorded from it by a worker ticking
every second, the live page opened in headless Chromium and waited on until its video plays. The
`tenant` and `sim` fixtures built from them are in tests/recording/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from demo.rtsp_sim import SimCamera
from recording.models import CameraRecording
from tests.browser.test_foundation_flow import log_in
from tests.recording.media import VTEST, media_settings, point_at, ticking
from tests.waiting import patience

# An init script: the page cannot open a WebSocket, so it has no low-latency path.
NO_SOCKET = "window.WebSocket = function () { throw new Error('no WebSocket here'); };"


@contextmanager
def sim_camera(tmp_path: Path, *, footage: Path = VTEST, audio: str | None = None) -> Iterator[SimCamera]:
    """A SimCamera serving `footage` (with an `audio` microphone, e.g. "aac") as cam1, killed at the end."""
    microphone = {"cam1": audio} if audio else {}
    camera = SimCamera(mounts={"cam1": footage}, audio=microphone, log_path=tmp_path / "sim.log").start()
    try:
        yield camera
    finally:
        camera.kill()


@contextmanager
def recorded(tenant, settings, tmp_path, sim: SimCamera, worker_id: str, *, record_audio: bool | None = None):
    """The tenant's camera recorded from `sim` by a worker `worker_id` ticking every second in the
    background; with `record_audio`, the camera's "Record sound" set so first."""
    media_settings(settings, tmp_path)
    settings.RECORDING_TICK_SECONDS = 1
    point_at(tenant.camera, sim.url("cam1"))
    if record_audio is not None:
        CameraRecording.objects.filter(camera=tenant.camera).update(record_audio=record_audio)
    with ticking(worker_id):
        yield tenant.camera


def open_live(page, server, tenant, camera, *, log_in_first: bool = True) -> None:
    """The camera's live page, as the tenant's viewer (logged in first unless the page's context is)."""
    if log_in_first:
        log_in(page, server, tenant.viewer.email)
        page.wait_for_url(lambda url: "login" not in url)
    page.goto(server.url + reverse("recording:live", kwargs={"camera_id": camera.pk}))


def playing(page, path: str, timeout: float = 60) -> float:
    """Wait until the page plays on `path` and its video advances; the current time then."""
    try:
        page.wait_for_function(
            "p => { const v = document.getElementById('live-video');"
            " return v.dataset.path === p && v.currentTime > 0; }",
            arg=path,
            timeout=patience(timeout) * 1000,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"not playing on {path} in time: {page_state(page)}") from None
    first = page.locator("#live-video").evaluate("v => v.currentTime")
    page.wait_for_function("t => document.getElementById('live-video').currentTime > t + 1", arg=first)
    return first


def page_state(page) -> dict:
    """What the live page shows and its video holds: for the message of a wait that failed."""
    return page.evaluate(
        """() => {
          const v = document.getElementById('live-video');
          const ranges = [];
          for (let i = 0; i < v.buffered.length; i++) ranges.push([v.buffered.start(i), v.buffered.end(i)]);
          const status = document.getElementById('live-status');
          return {url: location.href, path: v.dataset.path, status: status ? status.innerText : null,
                  currentTime: v.currentTime, paused: v.paused, readyState: v.readyState, buffered: ranges,
                  error: v.error ? v.error.code : null, hidden: v.hidden, visibility: v.style.visibility};
        }"""
    )
