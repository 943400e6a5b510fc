"""Device services without pages: MAC notation, exchange rules, stream settings rules."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from devices.models import Device, DeviceExchange, StreamSource
from devices.services import device_exchange, device_set_stream, normalize_mac


@pytest.mark.parametrize(
    "raw", ["AA:BB:CC:DD:EE:FF", "aa:bb:cc:dd:ee:ff", "aa-bb-cc-dd-ee-ff", "aabbccddeeff", " AABBCCDDEEFF "]
)
def test_every_accepted_notation_normalizes_the_same(raw):
    assert normalize_mac(raw) == "AA:BB:CC:DD:EE:FF"


@pytest.mark.parametrize("raw", ["", "AA:BB:CC:DD:EE", "AA:BB:CC:DD:EE:FF:00", "AA:BB-CC:DD:EE:FF", "ZZBBCCDDEEFF"])
def test_malformed_macs_are_refused(raw):
    with pytest.raises(ValidationError):
        normalize_mac(raw)


def test_exchange_keeps_id_name_room_and_settings_and_records_history(alpha):
    device_set_stream(user=alpha.admin, device=alpha.camera, source=StreamSource.RTSP, rtsp_url="rtsp://cam/1")
    old_mac = alpha.camera.mac
    device = device_exchange(user=alpha.admin, device=alpha.camera, new_mac="02-00-00-00-99-99")
    fresh = Device.objects.get(pk=alpha.camera.pk)
    assert (fresh.pk, fresh.name, fresh.room_id) == (alpha.camera.pk, "Alpha Cam", alpha.room.pk)
    assert fresh.mac == "02:00:00:00:99:99" == device.mac
    assert fresh.rtsp_url == "rtsp://cam/1"
    assert alpha.sensor.__class__.objects.get(pk=alpha.sensor.pk).parent_id == fresh.pk
    history = DeviceExchange.objects.get(device=fresh)
    assert (history.old_mac, history.new_mac, history.by) == (old_mac, "02:00:00:00:99:99", alpha.admin)


def test_exchange_refuses_a_mac_in_use_anywhere_and_the_same_mac(alpha, bravo):
    for mac, message in ((bravo.camera.mac, "is already registered"), (alpha.camera.mac, "same as the current")):
        with pytest.raises(ValidationError) as caught:
            device_exchange(user=alpha.admin, device=alpha.camera, new_mac=mac)
        assert message in str(caught.value.message_dict["mac"])
    assert not DeviceExchange.objects.exists()


def test_a_sensor_cannot_be_exchanged_on_its_own(alpha):
    with pytest.raises(ValidationError):
        device_exchange(user=alpha.admin, device=alpha.sensor, new_mac="02:00:00:00:99:98")


def test_stream_secrets_are_encrypted_at_rest(alpha):
    device_set_stream(
        user=alpha.admin,
        device=alpha.camera,
        source=StreamSource.ONVIF,
        onvif_host="192.0.2.10",
        onvif_user="admin",
        onvif_password="S3cret-onvif!",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT onvif_password, rtsp_url FROM devices_device WHERE id = %s", [alpha.camera.pk])
        stored_password, _rtsp = cursor.fetchone()
    assert stored_password and "S3cret-onvif!" not in stored_password
    assert Device.objects.get(pk=alpha.camera.pk).onvif_password == "S3cret-onvif!"

    device_set_stream(user=alpha.admin, device=alpha.camera, source=StreamSource.RTSP, rtsp_url="rtsp://u:pw9@cam/s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rtsp_url, onvif_password FROM devices_device WHERE id = %s", [alpha.camera.pk])
        stored_url, cleared_password = cursor.fetchone()
    assert "pw9" not in stored_url and "rtsp://" not in stored_url
    assert cleared_password == ""  # switching source drops the other source's credentials


def test_a_blank_password_keeps_the_stored_one(alpha):
    kwargs = {"user": alpha.admin, "device": alpha.camera, "source": StreamSource.ONVIF, "onvif_host": "cam.local"}
    device_set_stream(**kwargs, onvif_password="first-pass")
    device_set_stream(**kwargs, onvif_password=None)
    assert Device.objects.get(pk=alpha.camera.pk).onvif_password == "first-pass"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"source": "rtsp", "rtsp_url": "http://cam/1"}, "rtsp_url"),
        ({"source": "rtsp"}, "rtsp_url"),
        ({"source": "onvif", "onvif_host": ""}, "onvif_host"),
        ({"source": "onvif", "onvif_host": "http://cam/"}, "onvif_host"),
        ({"source": "onvif", "onvif_host": "cam", "onvif_port": 70000}, "onvif_port"),
        ({"source": "ftp"}, "source"),
    ],
)
def test_bad_stream_settings_are_refused_field_by_field(alpha, kwargs, field):
    with pytest.raises(ValidationError) as caught:
        device_set_stream(user=alpha.admin, device=alpha.camera, **kwargs)
    assert field in caught.value.message_dict
    assert Device.objects.get(pk=alpha.camera.pk).stream_source == ""


def test_a_sensor_has_no_stream_settings(alpha):
    with pytest.raises(ValidationError):
        device_set_stream(user=alpha.admin, device=alpha.sensor, source="rtsp", rtsp_url="rtsp://cam/1")
