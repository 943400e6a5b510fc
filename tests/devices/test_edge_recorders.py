"""Edge recorders (NVR): registered by MAC, their channels registered as cameras (each with a license),
stream settings on the recorder serving every channel, by page and by API; every bad input refused."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from devices.models import Device, DeviceKind, StreamSource
from devices.services import channel_add, device_exchange, device_set_stream, recorder_register
from licensing.models import License, LicenseKind
from recording.media_selectors import camera_stream_url
from tests.conftest import client_for
from tests.licensing.factories import give_camera_licenses


@pytest.fixture
def recorder(alpha):
    give_camera_licenses(alpha.operator, count=3)
    return recorder_register(user=alpha.admin, room=alpha.room, name="Lobby NVR", mac="02:00:00:00:0E:01")


def test_channels_are_cameras_in_the_recorders_room_with_an_edge_storage_license(alpha, recorder):
    one = channel_add(user=alpha.admin, recorder=recorder, channel=1, name="Entrance ch1")
    two = channel_add(user=alpha.admin, recorder=recorder, channel=2, name="Register ch2")
    assert (recorder.kind, recorder.mac) == (DeviceKind.RECORDER, "02:00:00:00:0E:01")
    for camera, number in ((one, 1), (two, 2)):
        assert (camera.kind, camera.parent_id, camera.channel, camera.room_id) == (
            DeviceKind.CAMERA, recorder.pk, number, alpha.room.pk,
        )  # fmt: skip
        assert camera.mac is None and not camera.children.exists()  # no MAC, no built-in sensor
        assert License.objects.get(device=camera).kind == LicenseKind.EDGE_STORAGE


def test_the_recorders_rtsp_url_serves_each_channel_by_number_and_a_channel_may_have_its_own(alpha, recorder):
    one = channel_add(user=alpha.admin, recorder=recorder, channel=1, name="Entrance ch1")
    two = channel_add(user=alpha.admin, recorder=recorder, channel=12, name="Back door ch12")
    assert camera_stream_url(one) == ""  # nothing configured yet
    device_set_stream(
        user=alpha.admin, device=recorder, source=StreamSource.RTSP, rtsp_url="rtsp://u:p@192.0.2.10:554/ch{channel}"
    )
    one, two = Device.objects.get(pk=one.pk), Device.objects.get(pk=two.pk)
    assert camera_stream_url(one) == "rtsp://u:p@192.0.2.10:554/ch1"
    assert camera_stream_url(two) == "rtsp://u:p@192.0.2.10:554/ch12"
    device_set_stream(user=alpha.admin, device=two, source=StreamSource.RTSP, rtsp_url="rtsp://192.0.2.99/own")
    assert camera_stream_url(Device.objects.get(pk=two.pk)) == "rtsp://192.0.2.99/own"


def test_bad_channels_and_recorder_settings_are_refused_with_nothing_saved(alpha, recorder):
    channel_add(user=alpha.admin, recorder=recorder, channel=1, name="Entrance ch1")
    cases = [
        ({"recorder": recorder, "channel": 1, "name": "Again ch1"}, "channel", "already registered"),
        ({"recorder": recorder, "channel": 0, "name": "Zero ch"}, "channel", "from 1 to 64"),
        ({"recorder": recorder, "channel": 65, "name": "Too high"}, "channel", "from 1 to 64"),
        ({"recorder": recorder, "channel": 3, "name": "x"}, "name", "3 to 64 characters"),
        ({"recorder": alpha.camera, "channel": 1, "name": "Not an NVR"}, "channel", "Only an edge recorder"),
    ]
    for kwargs, field, text in cases:
        before = Device.objects.count()
        with pytest.raises(ValidationError) as caught:
            channel_add(user=alpha.admin, **kwargs)
        assert text in " ".join(caught.value.message_dict[field]), kwargs
        assert Device.objects.count() == before
    with pytest.raises(ValidationError) as caught:
        device_set_stream(user=alpha.admin, device=recorder, source=StreamSource.RTSP, rtsp_url="rtsp://192.0.2.10/ch1")
    assert "{channel}" in caught.value.message_dict["rtsp_url"][0]
    assert Device.objects.get(pk=recorder.pk).rtsp_url == ""
    channel = Device.objects.get(parent=recorder, channel=1)
    with pytest.raises(ValidationError) as caught:
        device_exchange(user=alpha.admin, device=channel, new_mac="02:00:00:00:0E:77")
    assert "exchange the recorder" in caught.value.message_dict["mac"][0]


def test_a_channel_needs_an_edge_storage_license(alpha):
    # Only a free camera-direct license left: the free edge-storage ones have run out.
    License.objects.filter(customer=alpha.operator, device__isnull=True).update(ends_on=date(2020, 1, 31))
    give_camera_licenses(alpha.operator, count=1, kind=LicenseKind.CAMERA_DIRECT)
    recorder = recorder_register(user=alpha.admin, room=alpha.room, name="Lobby NVR", mac="02:00:00:00:0E:02")
    with pytest.raises(ValidationError, match="needs an edge-storage license"):
        channel_add(user=alpha.admin, recorder=recorder, channel=1, name="Entrance ch1")
    assert not recorder.children.exists()


def test_pages_register_a_recorder_with_confirmation_then_its_channels(alpha):
    give_camera_licenses(alpha.operator, count=1)
    client = client_for(alpha.admin)
    url = reverse("devices:add", kwargs={"room_id": alpha.room.pk})
    form = {"kind": "recorder", "mac": "02-00-00-00-0e-03", "name": "Shop NVR"}
    confirm = client.post(url, form)
    assert "Do you want to add this edge recorder?" in confirm.content.decode()
    assert not Device.objects.filter(kind=DeviceKind.RECORDER).exists()
    done = client.post(url, {**form, "mac": "02:00:00:00:0E:03", "confirm": "1"}, follow=True)
    recorder = Device.objects.get(kind=DeviceKind.RECORDER)
    assert done.redirect_chain[-1][0] == reverse("devices:detail", kwargs={"device_id": recorder.pk})
    page = done.content.decode()
    assert "Shop NVR was added" in page and "No channel is registered yet" in page

    add = reverse("devices:channel_add", kwargs={"device_id": recorder.pk})
    assert 'value="1"' in client.get(add).content.decode()  # the first free channel is proposed
    added = client.post(add, {"channel": "1", "name": "Till camera"}, follow=True).content.decode()
    assert "Channel 1 was added as the camera Till camera." in added and "Till camera" in added
    refused = client.post(add, {"channel": "1", "name": "Another one"}).content.decode()
    assert "Channel 1 of this recorder is already registered." in refused
    channel = Device.objects.get(parent=recorder)
    detail = client.get(reverse("devices:detail", kwargs={"device_id": channel.pk})).content.decode()
    assert "Shop NVR" in detail and "channel 1" in detail and "from the recorder" in detail

    # Only admins: the channel page of a camera or for a viewer is a 404 / 403.
    assert client.get(reverse("devices:channel_add", kwargs={"device_id": alpha.camera.pk})).status_code == 404
    assert client_for(alpha.viewer).get(add).status_code == 403


def test_the_api_registers_a_recorder_and_its_channels(alpha, bravo):
    give_camera_licenses(alpha.operator, count=1)
    client = client_for(alpha.admin)
    created = client.post(
        "/api/v1/devices/",
        {"kind": "recorder", "room": alpha.room.pk, "name": "API NVR", "mac": "02:00:00:00:0E:04"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    recorder_id = created.json()["id"]
    assert created.json()["kind"] == "recorder"
    url = f"/api/v1/devices/{recorder_id}/channels/"
    channel = client.post(url, {"channel": 4, "name": "API ch4"}, content_type="application/json")
    assert channel.status_code == 201 and channel.json()["channel"] == 4 and channel.json()["parent"] == recorder_id
    again = client.post(url, {"channel": 4, "name": "API ch4 again"}, content_type="application/json")
    assert again.status_code == 400 and "already registered" in again.json()["channel"][0]
    outsider = client_for(bravo.admin).post(url, {"channel": 5, "name": "Bravo ch"}, content_type="application/json")
    assert outsider.status_code == 404
    camera = client.post(
        f"/api/v1/devices/{alpha.camera.pk}/channels/", {"channel": 1, "name": "Nope"}, content_type="application/json"
    )
    assert camera.status_code == 404
