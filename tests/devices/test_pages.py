"""Device pages: detail, trouble refresh, add (confirm), rename (confirm), delete (confirm),
exchange (confirm) and stream settings with write-only secrets."""

import pytest
from django.urls import reverse

from devices.models import Device, DeviceExchange, DeviceKind, StreamSource, TroubleState
from devices.services import device_exchange, device_set_stream
from tests.conftest import client_for
from tests.factories import counts

NEW_MAC = "AA:BB:CC:00:77:01"


def _url(name: str, device) -> str:
    return reverse(f"devices:{name}", kwargs={"device_id": device.pk})


def test_detail_shows_name_kind_mac_room_trouble_and_exchange_history(alpha):
    alpha.camera.trouble_state = TroubleState.STORAGE
    alpha.camera.save()
    device_exchange(user=alpha.admin, device=alpha.camera, new_mac=NEW_MAC)
    body = client_for(alpha.viewer).get(_url("detail", alpha.camera)).content.decode()
    for shown in ("Alpha Cam", "Camera", NEW_MAC, "Alpha Entrance", "Alpha Tower", "Refresh trouble info"):
        assert shown in body
    assert "Exchange history" in body and 'class="responsive exchanges"' in body
    assert "No trouble" in body  # an exchange clears the old camera's trouble


def test_detail_shows_the_trouble_state(alpha):
    alpha.camera.trouble_state = TroubleState.NETWORK
    alpha.camera.save()
    body = client_for(alpha.viewer).get(_url("detail", alpha.camera)).content.decode()
    assert "Network disconnected" in body


def test_any_role_can_refresh_the_trouble_info(alpha):
    response = client_for(alpha.viewer).post(_url("trouble_refresh", alpha.camera), follow=True)
    assert "The trouble information was refreshed." in response.content.decode()


# --- add ----------------------------------------------------------------------------------------


def test_adding_a_device_registers_camera_and_sensor_after_confirmation(alpha):
    client = client_for(alpha.admin)
    url = reverse("devices:add", kwargs={"room_id": alpha.room.pk})
    confirm = client.post(url, {"mac": "aa-bb-cc-00-77-01", "name": "Second cam"}).content.decode()
    assert NEW_MAC in confirm and "Second cam" in confirm and "Do you want to add these devices?" in confirm
    assert not Device.objects.filter(mac=NEW_MAC).exists()

    response = client.post(url, {"mac": NEW_MAC, "name": "Second cam", "confirm": "1"}, follow=True)
    camera = Device.objects.get(mac=NEW_MAC)
    assert camera.room == alpha.room and camera.kind == DeviceKind.CAMERA
    assert camera.children.filter(kind=DeviceKind.SENSOR, room=alpha.room).count() == 1
    body = response.content.decode()
    assert "and its motion sensor were added" in body
    assert "camera: 2 sensor: 2" in body


@pytest.mark.parametrize(("name", "ok"), [("ab", False), ("abc", True), ("y" * 64, True), ("y" * 65, False)])
def test_device_name_must_be_3_to_64_characters(alpha, name, ok):
    url = reverse("devices:add", kwargs={"room_id": alpha.room.pk})
    before = counts()
    response = client_for(alpha.admin).post(url, {"mac": NEW_MAC, "name": name, "confirm": "1"})
    if ok:
        assert response.status_code == 302
        assert counts()[2] == before[2] + 2
    else:
        assert f"The device name must be 3 to 64 characters (now {len(name)})." in response.content.decode()
        assert counts() == before


def test_adding_a_device_refuses_a_mac_of_another_operator(alpha, bravo):
    url = reverse("devices:add", kwargs={"room_id": alpha.room.pk})
    before = counts()
    response = client_for(alpha.admin).post(url, {"mac": bravo.camera.mac, "name": "Copy cam", "confirm": "1"})
    assert "is already registered" in response.content.decode()
    assert counts() == before


def test_the_room_chooser_offers_only_own_rooms_and_forwards(alpha, bravo):
    client = client_for(alpha.admin)
    body = client.get(reverse("devices:add_select")).content.decode()
    assert "Alpha Entrance" in body and "Bravo Entrance" not in body
    response = client.get(reverse("devices:add_select"), {"room": alpha.room.pk})
    assert response.url == reverse("devices:add", kwargs={"room_id": alpha.room.pk})
    assert client.get(reverse("devices:add_select"), {"room": bravo.room.pk}).status_code == 404


# --- rename / delete ----------------------------------------------------------------------------


def test_device_rename_goes_through_a_confirmation(alpha):
    client = client_for(alpha.admin)
    url = _url("rename", alpha.camera)
    confirm = client.post(url, {"name": "Parking cam 2"}).content.decode()
    assert "Alpha Cam" in confirm and "Parking cam 2" in confirm and "Alpha Entrance" in confirm
    alpha.camera.refresh_from_db()
    assert alpha.camera.name == "Alpha Cam"
    response = client.post(url, {"name": "Parking cam 2", "confirm": "1"}, follow=True)
    alpha.camera.refresh_from_db()
    assert alpha.camera.name == "Parking cam 2"
    assert "The device was renamed." in response.content.decode()


@pytest.mark.parametrize("name", ["ab", "z" * 65])
def test_device_rename_refuses_bad_lengths(alpha, name):
    response = client_for(alpha.admin).post(_url("rename", alpha.camera), {"name": name})
    assert "The device name must be 3 to 64 characters" in response.content.decode()
    alpha.camera.refresh_from_db()
    assert alpha.camera.name == "Alpha Cam"


def test_device_delete_confirms_then_removes_camera_and_sensor(alpha):
    client = client_for(alpha.admin)
    body = client.get(_url("delete", alpha.camera)).content.decode()
    assert "1 camera" in body and "1 sensor" in body and "not disconnected" in body
    response = client.post(_url("delete", alpha.camera), follow=True)
    assert "The device Alpha Cam was deleted." in response.content.decode()
    assert not Device.objects.filter(pk__in=[alpha.camera.pk, alpha.sensor.pk]).exists()


# --- exchange -----------------------------------------------------------------------------------


def test_exchange_confirms_old_and_new_mac_then_keeps_everything_else(alpha):
    client = client_for(alpha.admin)
    old_mac = alpha.camera.mac
    confirm = client.post(_url("exchange", alpha.camera), {"mac": "aabbcc007701"}).content.decode()
    assert old_mac in confirm and NEW_MAC in confirm
    assert Device.objects.get(pk=alpha.camera.pk).mac == old_mac
    response = client.post(_url("exchange", alpha.camera), {"mac": NEW_MAC, "confirm": "1"}, follow=True)
    camera = Device.objects.get(pk=alpha.camera.pk)
    assert (camera.mac, camera.name, camera.room_id) == (NEW_MAC, "Alpha Cam", alpha.room.pk)
    assert DeviceExchange.objects.filter(device=camera, old_mac=old_mac, new_mac=NEW_MAC).exists()
    assert f"{old_mac} → {NEW_MAC}" in response.content.decode()


def test_exchange_refuses_a_mac_in_use(alpha, bravo):
    response = client_for(alpha.admin).post(_url("exchange", alpha.camera), {"mac": bravo.camera.mac, "confirm": "1"})
    assert "is already registered" in response.content.decode()
    assert Device.objects.get(pk=alpha.camera.pk).mac == alpha.camera.mac
    assert not DeviceExchange.objects.exists()


# --- stream settings ----------------------------------------------------------------------------


def test_stream_settings_never_render_stored_secrets(alpha):
    device_set_stream(
        user=alpha.admin, device=alpha.camera, source=StreamSource.RTSP, rtsp_url="rtsp://admin:rtsp-pw-42@cam/live"
    )
    client = client_for(alpha.admin)
    for name in ("stream", "detail"):
        body = client.get(_url(name, alpha.camera)).content.decode()
        assert "rtsp-pw-42" not in body and "rtsp://admin" not in body
    assert "secret-state" in client.get(_url("stream", alpha.camera)).content.decode()
    assert ">set<" in client.get(_url("stream", alpha.camera)).content.decode()


def test_stream_form_saves_onvif_and_a_blank_password_keeps_the_stored_one(alpha):
    client = client_for(alpha.admin)
    data = {"source": "onvif", "onvif_host": "192.0.2.5", "onvif_port": "8080", "onvif_user": "op"}
    response = client.post(_url("stream", alpha.camera), {**data, "onvif_password": "pw-onvif-1"}, follow=True)
    assert "The stream settings were saved." in response.content.decode()
    client.post(_url("stream", alpha.camera), {**data, "onvif_password": ""})
    camera = Device.objects.get(pk=alpha.camera.pk)
    assert (camera.onvif_host, camera.onvif_port, camera.onvif_password) == ("192.0.2.5", 8080, "pw-onvif-1")
    page = client.get(_url("stream", alpha.camera)).content.decode()
    assert "pw-onvif-1" not in page and 'value="192.0.2.5"' in page


def test_stream_form_shows_errors_and_does_not_echo_the_secret(alpha):
    response = client_for(alpha.admin).post(
        _url("stream", alpha.camera), {"source": "rtsp", "rtsp_url": "http://user:leak-me@cam/"}
    )
    body = response.content.decode()
    assert "Enter an RTSP URL that starts with rtsp://" in body
    assert "leak-me" not in body
    assert Device.objects.get(pk=alpha.camera.pk).stream_source == ""


# --- who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_get_403_on_device_settings_and_change_nothing(alpha, role):
    client = client_for(getattr(alpha, role))
    urls = [_url(n, alpha.camera) for n in ("rename", "delete", "exchange", "stream")]
    urls.append(reverse("devices:add", kwargs={"room_id": alpha.room.pk}))
    assert client.get(reverse("devices:add_select")).status_code == 403
    before = counts()
    for url in urls:
        assert client.get(url).status_code == 403, url
        data = {"name": "Hacked", "mac": NEW_MAC, "source": "rtsp", "rtsp_url": "rtsp://x/", "confirm": "1"}
        assert client.post(url, data).status_code == 403, url
    assert counts() == before
    camera = Device.objects.get(pk=alpha.camera.pk)
    assert (camera.name, camera.mac, camera.stream_source) == ("Alpha Cam", alpha.camera.mac, "")


def test_another_operators_admin_gets_404_on_every_device_page(alpha, bravo):
    client = client_for(bravo.admin)
    before = counts()
    for name in ("detail", "rename", "delete", "exchange", "stream"):
        assert client.get(_url(name, alpha.camera)).status_code == 404, name
    for name in ("trouble_refresh", "rename", "delete", "exchange", "stream"):
        assert client.post(_url(name, alpha.camera), {"name": "Hacked", "confirm": "1"}).status_code == 404, name
    assert client.get(reverse("devices:add", kwargs={"room_id": alpha.room.pk})).status_code == 404
    assert counts() == before


def test_device_pages_render_in_japanese(alpha):
    client = client_for(alpha.admin)
    assert "トラブル情報更新" in client.get(_url("detail", alpha.camera), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "デバイス交換" in client.get(_url("exchange", alpha.camera), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
