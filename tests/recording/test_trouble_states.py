"""The two trouble states that were never raised (issue 16 point 5), against the simulated devices:
"device deleted or account changed" when a camera that worked refuses its credentials (RTSP 401, ONVIF
not authorized) or an edge recorder's channel (its ONVIF media profile) disappears; "storage (SD card)
error" where the ONVIF device reports its storage failed; and "refresh trouble info" for a whole
building, with its progress, on the page and in the API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from demo.onvif_sim import OnvifDevice
from demo.rtsp_sim import SimCamera
from devices.models import Device, StreamSource, TroubleState
from devices.services import channel_add, device_set_stream, recorder_register
from recording.models import CameraRecording, MotionSource, RecordingSegment, TroubleRefresh
from recording.trouble import camera_trouble_refresh
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses
from tests.recording.media import VTEST, Running, media_settings, point_at, segments, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def patient_checks(settings):
    """On a loaded machine a slow ONVIF or stream answer must not read as an unreachable camera (NETWORK):
    the trouble checks here wait up to a minute for each answer."""
    settings.RECORDING_PROBE_TIMEOUT = 60


@pytest.fixture
def sim(tmp_path):
    camera = SimCamera(mounts={"cam1": VTEST, "cam2": VTEST}, log_path=tmp_path / "sim.log")
    camera.start()
    yield camera
    camera.kill()


@pytest.fixture
def device(sim):
    onvif = OnvifDevice(sim, username="admin", password="s3cret").start()
    yield onvif
    onvif.stop()


def _worked(camera) -> None:
    RecordingSegment.objects.create(
        operator=camera.operator,
        camera=camera,
        start=timezone.now(),
        duration=60,
        size=1000,
        storage_name=f"recordings/t/{camera.pk}/worked.mp4",
    )


def _onvif(camera, device: OnvifDevice, motion: str = MotionSource.SENSOR) -> None:
    camera.stream_source = StreamSource.ONVIF
    camera.onvif_host, camera.onvif_port = "127.0.0.1", device.port
    camera.onvif_user, camera.onvif_password = "admin", "s3cret"
    camera.save()
    CameraRecording.objects.update_or_create(
        camera=camera, defaults={"operator_id": camera.operator_id, "motion_source": motion}
    )


def _state(camera) -> str:
    return Device.objects.get(pk=camera.pk).trouble_state


def test_a_camera_that_worked_and_now_refuses_its_rtsp_credentials_is_device_deleted_or_account_changed(
    alpha, tmp_path
):
    locked = SimCamera(mounts={"cam1": VTEST}, auth="admin:old", log_path=tmp_path / "locked.log").start()
    try:
        point_at(alpha.camera, locked.url("cam1"))
        assert camera_trouble_refresh(camera=alpha.camera).problem == ""
        _worked(alpha.camera)
        locked.kill()
        locked.auth = "admin:new"  # the camera's account was changed on the camera
        locked.start()
        check = camera_trouble_refresh(camera=alpha.camera)
        assert check.problem == "auth" and "refused the user name or password" in check.message
        assert _state(alpha.camera) == TroubleState.DELETED
    finally:
        locked.kill()


def test_wrong_credentials_on_a_camera_that_never_worked_stay_an_unknown_error(alpha, tmp_path):
    locked = SimCamera(mounts={"cam1": VTEST}, auth="admin:right", log_path=tmp_path / "locked.log").start()
    try:
        point_at(alpha.camera, locked.url("cam1").replace("admin:right", "admin:typo"))
        camera_trouble_refresh(camera=alpha.camera)
        assert _state(alpha.camera) == TroubleState.UNKNOWN  # a typing error, not a changed account
    finally:
        locked.kill()


def test_an_onvif_account_that_changes_is_device_deleted_or_account_changed_until_it_works_again(alpha, device):
    _onvif(alpha.camera, device)
    first = camera_trouble_refresh(camera=alpha.camera)
    assert first.problem == "", first.message  # it worked (resolved once)
    device.set_password("changed-on-the-camera")
    camera_trouble_refresh(camera=alpha.camera)
    assert _state(alpha.camera) == TroubleState.DELETED
    device.set_password("s3cret")
    camera_trouble_refresh(camera=alpha.camera)
    assert _state(alpha.camera) == ""


def test_an_edge_recorder_channel_whose_onvif_profile_disappears_is_device_deleted(alpha, sim):
    give_camera_licenses(alpha.operator, count=4)
    recorder = recorder_register(user=alpha.admin, room=alpha.room, name="Lobby NVR", mac="02:00:00:00:0E:20")
    cams = [channel_add(user=alpha.admin, recorder=recorder, channel=n, name=f"Channel {n}") for n in (1, 2)]
    nvr = OnvifDevice(sim, mount="cam1", sub_mount="cam2", nvr=True, username="admin", password="s3cret").start()
    try:
        device_set_stream(
            user=alpha.admin, device=recorder, source=StreamSource.ONVIF, onvif_host="127.0.0.1",
            onvif_port=nvr.port, onvif_user="admin", onvif_password="s3cret",
        )  # fmt: skip
        second = Device.objects.get(pk=cams[1].pk)
        assert camera_trouble_refresh(camera=second).problem == ""
        nvr.profiles = 1  # channel 2 was removed on the recorder
        check = camera_trouble_refresh(camera=second)
        assert check.problem == "not_found"
        assert _state(second) == TroubleState.DELETED
        assert _state(cams[0]) == ""  # channel 1 is still there
    finally:
        nvr.stop()


def test_an_onvif_storage_failure_is_an_sd_card_error_on_refresh_and_clears_when_fixed(alpha, device):
    _onvif(alpha.camera, device)
    device.storage_failed = True
    check = camera_trouble_refresh(camera=alpha.camera)
    assert "storage (SD card) failed" in check.message
    assert _state(alpha.camera) == TroubleState.STORAGE
    assert CameraRecording.objects.get(camera=alpha.camera).device_storage_failed
    device.storage_failed = False
    camera_trouble_refresh(camera=alpha.camera)
    assert _state(alpha.camera) == ""


def test_the_recorder_raises_the_sd_card_error_from_the_storage_event_and_keeps_it_while_recording(
    alpha, device, settings, tmp_path
):
    media_settings(settings, tmp_path)
    _onvif(alpha.camera, device)  # motion from the camera's sensor: the subscription is for the storage
    worker = Running("w1")
    try:
        worker.tick()
        assert wait_for(lambda: device.live_subscriptions() == 1, timeout=20)
        device.storage_failure(True)
        assert wait_for(lambda: _state(alpha.camera) == TroubleState.STORAGE, timeout=15)
        stored = len(segments(alpha.camera))
        assert wait_for(lambda: len(segments(alpha.camera)) >= stored + 2, timeout=25)
        assert _state(alpha.camera) == TroubleState.STORAGE  # our own storage works: the SD card does not
        device.storage_failure(False)
        assert wait_for(lambda: _state(alpha.camera) == "", timeout=15)
    finally:
        worker.close()


def test_refresh_a_whole_building_on_the_page_shows_the_progress(alpha, sim):
    point_at(alpha.camera, sim.url("cam1"))
    url = reverse("recording:building_trouble_refresh", kwargs={"building_id": alpha.building.pk})
    client = client_for(alpha.viewer)  # every role of the owner may refresh
    assert (
        "Refresh trouble info"
        in client.get(reverse("buildings:detail", kwargs={"building_id": alpha.building.pk})).content.decode()
    )
    body = client.post(url, follow=True).content.decode()
    run = TroubleRefresh.objects.get(building=alpha.building)
    assert (run.state, run.total, run.done, run.troubles) == ("done", 1, 1, 0)
    assert "1 of 1 cameras checked" in body and 'value="1"' in body
    assert Device.objects.get(pk=alpha.camera.pk).trouble_checked_at is not None


def test_refresh_a_whole_building_through_the_api(alpha, sim):
    point_at(alpha.camera, sim.url("cam2"))
    sim.kill()  # the camera is down: the run finds it in trouble
    url = f"/api/v1/buildings/{alpha.building.pk}/trouble-refresh/"
    client = client_for(alpha.viewer)
    assert client.get(url).status_code == 204  # nothing run yet
    started = client.post(url)
    assert started.status_code == 202 and started.json()["total"] == 1
    latest = client.get(url).json()
    assert latest["state"] == "done" and latest["done"] == 1 and latest["troubles"] == 1
    assert _state(alpha.camera) == TroubleState.NETWORK


def test_a_building_without_cameras_is_refused_and_nothing_is_started(alpha):
    from buildings.models import Building

    empty = Building.objects.create(operator=alpha.operator, name="Empty annex")
    url = f"/api/v1/buildings/{empty.pk}/trouble-refresh/"
    answer = client_for(alpha.admin).post(url)
    assert answer.status_code == 400 and "no camera" in answer.content.decode()
    assert not TroubleRefresh.objects.exists()
