"""ONVIF cameras: onvif-zeep-async against ipycam's SOAP side on loopback (GetServices, GetDeviceInformation,
GetProfiles, GetStreamUri, GetSnapshotUri), the resolved URI cached and recorded from, wrong credentials a
clear trouble state, and a stale URI re-resolved when recording fails."""

from __future__ import annotations

import pytest
from django.urls import reverse

from demo.onvif_sim import OnvifDevice
from demo.rtsp_sim import SimCamera
from devices.models import StreamSource, TroubleState
from recording.models import CameraRecording, IngestLease, MotionSource
from recording.onvif import OnvifError, resolve
from recording.streams import ingest_url
from tests.conftest import client_for
from tests.recording.media import VTEST, Running, lease, media_settings, segments, wait_for
from tests.waiting import patience
from workers.probe_camera import Problem

pytestmark = pytest.mark.django_db(transaction=True)
# How long the test's own ONVIF calls wait for the device (the product's 8-10 s, stretched): on a loaded
# machine a slow answer must not read as an unreachable camera.
PATIENT = patience(10)


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def device(sim):
    onvif = OnvifDevice(sim, username="admin", password="s3cret").start()
    yield onvif
    onvif.stop()


def _onvif(camera, device: OnvifDevice, password: str = "s3cret") -> None:  # noqa: S107
    camera.stream_source = StreamSource.ONVIF
    camera.onvif_host, camera.onvif_port = "127.0.0.1", device.port
    camera.onvif_user, camera.onvif_password = "admin", password
    camera.save()
    CameraRecording.objects.update_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id, "motion_source": MotionSource.SENSOR}
    )


def test_the_client_resolves_stream_and_snapshot_uris_from_the_onvif_device(sim, device):
    found = resolve(host="127.0.0.1", port=device.port, user="admin", password="s3cret", timeout=PATIENT)
    assert found.stream_uri == f"rtsp://admin:s3cret@127.0.0.1:{sim.port}/cam1"
    assert found.snapshot_uri == f"http://127.0.0.1:{device.port}/snapshot.jpg"
    assert found.manufacturer and found.profile


def test_wrong_onvif_credentials_are_an_auth_problem(device):
    with pytest.raises(OnvifError) as caught:
        resolve(host="127.0.0.1", port=device.port, user="admin", password="wrong", timeout=PATIENT)
    assert caught.value.problem == Problem.AUTH and "password" in caught.value.message


def test_an_onvif_camera_is_recorded_from_the_uri_it_names_and_the_uri_is_cached_without_password(
    alpha, device, sim, settings, tmp_path
):
    media_settings(settings, tmp_path)
    _onvif(alpha.camera, device)
    worker = Running("w1")
    try:
        worker.tick()
        assert lease(alpha.camera).worker_id == "w1"
        row = CameraRecording.objects.get(camera=alpha.camera)
        assert row.onvif_stream_uri == f"rtsp://127.0.0.1:{sim.port}/cam1"  # the password stays encrypted
        assert row.onvif_resolved_at is not None
        assert wait_for(lambda: len(segments(alpha.camera)) >= 2, timeout=25)
    finally:
        worker.close()


def test_wrong_onvif_credentials_give_a_trouble_state_and_a_clear_message(alpha, device, settings, tmp_path):
    media_settings(settings, tmp_path)
    _onvif(alpha.camera, device, password="wrong")
    worker = Running("w1")
    try:
        worker.tick()
    finally:
        worker.close()
    alpha.camera.refresh_from_db()
    assert alpha.camera.trouble_state == TroubleState.UNKNOWN
    held = lease(alpha.camera)
    assert held.state == IngestLease.State.OUTAGE and "refused the ONVIF user name or password" in held.message
    body = (
        client_for(alpha.viewer)
        .post(reverse("devices:trouble_refresh", kwargs={"device_id": alpha.camera.pk}), follow=True)
        .content.decode()
    )
    assert "refused the user name or password" in body


def test_a_stale_cached_uri_is_re_resolved_when_asked_again(alpha, device, sim):
    _onvif(alpha.camera, device)
    CameraRecording.objects.filter(camera=alpha.camera).update(onvif_stream_uri="rtsp://127.0.0.1:9/old")
    assert ingest_url(alpha.camera).endswith("127.0.0.1:9/old")  # cached: no SOAP call
    assert ingest_url(alpha.camera, refresh=True, timeout=PATIENT) == f"rtsp://admin:s3cret@127.0.0.1:{sim.port}/cam1"
    assert CameraRecording.objects.get(camera=alpha.camera).onvif_stream_uri.endswith(f":{sim.port}/cam1")
