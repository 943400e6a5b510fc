"""Stopping the recorder is not a camera fault: streams dropped while run_ingest shuts down (a terminal's
Ctrl+C reaches its ffmpeg children too) set no trouble and send no mail."""

from datetime import UTC, datetime

import pytest

from demo.rtsp_sim import free_tcp_port
from devices.models import Device
from recording import ingest
from recording.ingest import CameraIngest
from workers.segmenter import RecorderState, StateChange


@pytest.fixture
def dead_camera(alpha, tmp_path):
    """An ingest of alpha's camera pointed at a port nobody listens on (not started: callbacks only)."""
    url = f"rtsp://127.0.0.1:{free_tcp_port()}/cam"
    return CameraIngest(camera_id=alpha.camera.pk, url=url, spool=tmp_path / "spool")


def _outage(recorder: CameraIngest) -> None:
    recorder.on_state(StateChange(RecorderState.OUTAGE, datetime.now(UTC), "stream ended"))


def test_an_outage_while_running_is_a_network_trouble(alpha, dead_camera, monkeypatch):
    monkeypatch.setattr(ingest, "SHUTTING_DOWN", ingest.threading.Event())
    _outage(dead_camera)
    assert Device.objects.get(pk=alpha.camera.pk).trouble_state == "network"


def test_an_outage_during_shutdown_sets_no_trouble(alpha, dead_camera, monkeypatch, mailoutbox):
    stopping = ingest.threading.Event()
    stopping.set()
    monkeypatch.setattr(ingest, "SHUTTING_DOWN", stopping)
    _outage(dead_camera)
    assert Device.objects.get(pk=alpha.camera.pk).trouble_state == ""
    assert mailoutbox == []
    # The same for one camera being stopped (lease lost, camera removed) while the worker runs on.
    monkeypatch.setattr(ingest, "SHUTTING_DOWN", ingest.threading.Event())
    dead_camera.stop_event.set()
    _outage(dead_camera)
    assert Device.objects.get(pk=alpha.camera.pk).trouble_state == ""
