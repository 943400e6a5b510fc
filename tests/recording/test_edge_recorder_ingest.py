"""An edge recorder simulated by one RTSP server with a mount per channel (and ipycam's ONVIF answers
with a media profile per channel): each registered channel is recorded as a camera of its own, its
URI taken from the recorder."""

from __future__ import annotations

import pytest

from demo.onvif_sim import OnvifDevice
from demo.rtsp_sim import SimCamera
from devices.models import Device, StreamSource
from devices.services import channel_add, device_set_stream, recorder_register
from recording.models import CameraRecording, MotionSource
from recording.onvif import OnvifError
from recording.streams import ONVIF_TIMEOUT, ingest_url
from tests.licensing.factories import give_camera_licenses
from tests.recording.media import VTEST, Running, lease, media_settings, segments, wait_for
from tests.waiting import patience
from workers.probe_camera import Problem

pytestmark = pytest.mark.django_db(transaction=True)
# How long the test's own ONVIF exchanges wait for the simulated recorder: the product's per-exchange
# timeout, stretched (TEST_TIMEOUT_FACTOR). A process's first exchange loads the ONVIF client and its WSDLs
# (about 0.6 s of CPU), which on a loaded machine outlasted the 8 s and read as "did not answer in time".
PATIENT = patience(ONVIF_TIMEOUT)


@pytest.fixture
def nvr_sim(tmp_path):
    sim = SimCamera(mounts={"cam1": VTEST, "cam2": VTEST}, log_path=tmp_path / "sim.log")
    sim.start()
    yield sim
    sim.kill()


@pytest.fixture
def channels(alpha):
    """A registered recorder with channels 1 and 2 (sensor motion: no decoding needed)."""
    give_camera_licenses(alpha.operator, count=4)  # the tenant camera takes one
    recorder = recorder_register(user=alpha.admin, room=alpha.room, name="Lobby NVR", mac="02:00:00:00:0E:10")
    cams = [channel_add(user=alpha.admin, recorder=recorder, channel=n, name=f"Channel {n}") for n in (1, 2)]
    for camera in cams:
        CameraRecording.objects.update_or_create(
            camera=camera, defaults={"operator_id": camera.operator_id, "motion_source": MotionSource.SENSOR}
        )
    # The tenant's own camera has no stream: only the channels record.
    return recorder, cams


def _fresh(cams: list[Device]) -> list[Device]:
    return [Device.objects.get(pk=camera.pk) for camera in cams]


def _record_both(cams) -> None:
    worker = Running("nvr-worker")
    try:
        worker.tick()
        assert all(lease(camera).worker_id == "nvr-worker" for camera in cams)
        assert wait_for(lambda: all(len(segments(camera)) >= 2 for camera in cams), timeout=30)
    finally:
        worker.close()


def test_each_channel_is_recorded_from_the_recorders_per_channel_rtsp_path(
    alpha, channels, nvr_sim, settings, tmp_path
):
    media_settings(settings, tmp_path)
    recorder, cams = channels
    template = nvr_sim.url("cam1").replace("cam1", "cam{channel}")
    device_set_stream(user=alpha.admin, device=recorder, source=StreamSource.RTSP, rtsp_url=template)
    cams = _fresh(cams)
    assert [ingest_url(camera) for camera in cams] == [nvr_sim.url("cam1"), nvr_sim.url("cam2")]
    _record_both(cams)
    folders = {segment.storage_name.split("/")[2] for camera in cams for segment in segments(camera)}
    assert folders == {str(camera.pk) for camera in cams}  # each channel has recordings of its own


def test_over_onvif_channel_n_is_the_recorders_nth_media_profile(alpha, channels, nvr_sim, settings, tmp_path):
    media_settings(settings, tmp_path)
    recorder, cams = channels
    onvif = OnvifDevice(nvr_sim, mount="cam1", sub_mount="cam2", username="admin", password="s3cret").start()
    try:
        device_set_stream(
            user=alpha.admin, device=recorder, source=StreamSource.ONVIF, onvif_host="127.0.0.1",
            onvif_port=onvif.port, onvif_user="admin", onvif_password="s3cret",
        )  # fmt: skip
        cams = _fresh(cams)
        urls = [ingest_url(camera, refresh=True, timeout=PATIENT) for camera in cams]
        assert urls == [nvr_sim.url(m).replace("rtsp://", "rtsp://admin:s3cret@") for m in ("cam1", "cam2")]
        # Cached per channel without the password, which stays in the recorder's encrypted field.
        cached = CameraRecording.objects.get(camera=cams[1]).onvif_stream_uri
        assert cached == nvr_sim.url("cam2")
        _record_both(cams)

        third = channel_add(user=alpha.admin, recorder=recorder, channel=3, name="Channel 3")
        with pytest.raises(OnvifError) as caught:
            ingest_url(Device.objects.get(pk=third.pk), refresh=True, timeout=PATIENT)
        assert caught.value.problem == Problem.NOT_FOUND
        assert "no media profile for channel 3" in caught.value.message
    finally:
        onvif.stop()
