"""REST API of devices: reads for all roles, writes for admins, secrets write-only, tenant-scoped ids."""

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from devices.models import Device, DeviceExchange, DeviceKind
from tests.conftest import client_for
from tests.factories import counts

DEVICES = "/api/v1/devices/"
NEW_MAC = "AA:BB:CC:00:88:01"


def _device(pk, action: str = "") -> str:
    return f"{DEVICES}{pk}/" + (f"{action}/" if action else "")


def test_any_role_lists_and_reads_own_devices(alpha, bravo):
    for user in (alpha.admin, alpha.viewer, alpha.device_operator):
        client = client_for(user)
        names = {d["name"] for d in client.get(DEVICES).json()["results"]}
        assert names == {"Alpha Cam", "Alpha Sensor"}
        camera = client.get(_device(alpha.camera.pk)).json()
        assert camera["mac"] == alpha.camera.mac and camera["sensor"] == alpha.sensor.pk
        assert camera["building"] == alpha.building.pk


def test_devices_filter_by_room_and_kind(alpha, bravo):
    client = client_for(alpha.viewer)
    assert [d["kind"] for d in client.get(DEVICES, {"kind": "camera"}).json()["results"]] == ["camera"]
    assert len(client.get(DEVICES, {"room": alpha.room.pk}).json()["results"]) == 2
    assert client.get(DEVICES, {"room": bravo.room.pk}).json()["results"] == []


def test_create_registers_camera_and_sensor_into_own_room(alpha):
    body = {"room": alpha.room.pk, "name": "API cam", "mac": "aa:bb:cc:00:88:01", "operator": 12345}
    response = client_for(alpha.admin).post(DEVICES, body, content_type="application/json")
    assert response.status_code == 201, response.content
    camera = Device.objects.get(pk=response.json()["id"])
    assert camera.mac == NEW_MAC and camera.operator == alpha.operator and camera.room == alpha.room
    assert Device.objects.get(pk=response.json()["sensor"]).kind == DeviceKind.SENSOR


def test_create_into_another_operators_room_is_refused(alpha, bravo):
    before = counts()
    body = {"room": bravo.room.pk, "name": "Sneaky cam", "mac": NEW_MAC}
    response = client_for(alpha.admin).post(DEVICES, body, content_type="application/json")
    assert response.status_code == 400
    assert "Not found" in response.json()["room"][0]
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "ab"}, "name", "The device name must be 3 to 64 characters (now 2)."),
        ({"name": "n" * 65}, "name", "The device name must be 3 to 64 characters (now 65)."),
        ({"mac": "AA:BB"}, "mac", "Enter the MAC address as"),
    ],
)
def test_create_validates_each_field(alpha, body, field, message):
    before = counts()
    payload = {"room": alpha.room.pk, "name": "Good name", "mac": NEW_MAC, **body}
    response = client_for(alpha.admin).post(DEVICES, payload, content_type="application/json")
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert counts() == before


def test_create_refuses_a_mac_registered_elsewhere(alpha, bravo):
    payload = {"room": alpha.room.pk, "name": "Good name", "mac": bravo.camera.mac}
    response = client_for(alpha.admin).post(DEVICES, payload, content_type="application/json")
    assert response.status_code == 409 and "is already registered" in response.json()["mac"][0]


def test_rename_and_delete(alpha):
    client = client_for(alpha.admin)
    response = client.patch(_device(alpha.camera.pk), {"name": "Renamed cam"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["name"] == "Renamed cam"
    bad = client.patch(_device(alpha.camera.pk), {"name": "no"}, content_type="application/json")
    assert bad.status_code == 400 and "3 to 64" in bad.json()["name"][0]
    assert client.delete(_device(alpha.camera.pk)).status_code == 204
    assert not Device.objects.filter(pk__in=[alpha.camera.pk, alpha.sensor.pk]).exists()


def test_exchange_action(alpha, bravo):
    client = client_for(alpha.admin)
    taken = client.post(
        _device(alpha.camera.pk, "exchange"), {"mac": bravo.camera.mac}, content_type="application/json"
    )
    assert taken.status_code == 409 and "is already registered" in taken.json()["mac"][0]
    response = client.post(_device(alpha.camera.pk, "exchange"), {"mac": NEW_MAC}, content_type="application/json")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["name"], response.json()["mac"]) == (
        alpha.camera.pk,
        "Alpha Cam",
        NEW_MAC,
    )
    assert DeviceExchange.objects.filter(device=alpha.camera, new_mac=NEW_MAC).count() == 1


def test_stream_secrets_are_write_only_and_encrypted(alpha):
    client = client_for(alpha.admin)
    url = _device(alpha.camera.pk, "stream")
    body = {"stream_source": "rtsp", "rtsp_url": "rtsp://root:api-secret-7@cam/h264"}
    response = client.put(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["rtsp_url_set"] is True
    assert "api-secret-7" not in response.content.decode()
    for read in (client.get(url), client.get(_device(alpha.camera.pk)), client.get(DEVICES)):
        assert "api-secret-7" not in read.content.decode() and "rtsp://" not in read.content.decode()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rtsp_url FROM devices_device WHERE id = %s", [alpha.camera.pk])
        assert "api-secret-7" not in cursor.fetchone()[0]

    onvif = {"stream_source": "onvif", "onvif_host": "cam.local", "onvif_password": "onvif-secret-8"}
    response = client.put(url, onvif, content_type="application/json")
    data = response.json()
    assert data["onvif_password_set"] is True and data["rtsp_url_set"] is False and data["onvif_port"] == 80
    assert "onvif-secret-8" not in json.dumps(data)
    # A PATCH without the password keeps it.
    client.patch(url, {"onvif_user": "admin"}, content_type="application/json")
    camera = Device.objects.get(pk=alpha.camera.pk)
    assert (camera.onvif_user, camera.onvif_password) == ("admin", "onvif-secret-8")


def test_stream_validation_errors_are_per_field(alpha):
    url = _device(alpha.camera.pk, "stream")
    response = client_for(alpha.admin).put(url, {"stream_source": "onvif"}, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"onvif_host": ["Enter the ONVIF host."]}
    response = client_for(alpha.admin).put(
        _device(alpha.sensor.pk, "stream"), {"stream_source": "none"}, content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_cannot_write(alpha, role):
    client = client_for(getattr(alpha, role))
    before = counts()
    payload = {"room": alpha.room.pk, "name": "Viewer cam", "mac": NEW_MAC}
    assert client.post(DEVICES, payload, content_type="application/json").status_code == 403
    pk = alpha.camera.pk
    assert client.patch(_device(pk), {"name": "Hacked"}, content_type="application/json").status_code == 403
    assert client.delete(_device(pk)).status_code == 403
    assert client.post(_device(pk, "exchange"), {"mac": NEW_MAC}, content_type="application/json").status_code == 403
    stream = {"stream_source": "rtsp", "rtsp_url": "rtsp://x/"}
    assert client.put(_device(pk, "stream"), stream, content_type="application/json").status_code == 403
    assert counts() == before
    camera = Device.objects.get(pk=pk)
    assert (camera.name, camera.mac, camera.rtsp_url) == ("Alpha Cam", alpha.camera.mac, "")


def test_another_operators_device_ids_are_404(alpha, bravo):
    client = client_for(bravo.admin)
    before = counts()
    pk = alpha.camera.pk
    assert client.get(_device(pk)).status_code == 404
    assert client.get(_device(pk, "stream")).status_code == 404
    assert client.patch(_device(pk), {"name": "Hacked"}, content_type="application/json").status_code == 404
    assert client.delete(_device(pk)).status_code == 404
    assert client.post(_device(pk, "exchange"), {"mac": NEW_MAC}, content_type="application/json").status_code == 404
    stream = {"stream_source": "rtsp", "rtsp_url": "rtsp://x/"}
    assert client.put(_device(pk, "stream"), stream, content_type="application/json").status_code == 404
    assert counts() == before


# --- the request schema says what validation reads (issue #14 §1, tests/test_api_fuzz.py with FUZZ_POSITIVE=1) ---


@pytest.fixture(scope="module")
def openapi():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def _request(openapi, path: str, method: str) -> dict:
    content = openapi["paths"][DEVICES + path][method]["requestBody"]["content"]
    ref = content["application/json"]["schema"]["$ref"].split("/")[-1]
    return openapi["components"]["schemas"][ref]


def test_a_camera_without_a_free_license_is_a_409(bravo):
    # bravo holds no license: a well-formed registration is refused by what the operator holds.
    payload = {"room": bravo.room.pk, "name": "Good name", "mac": NEW_MAC}
    response = client_for(bravo.admin).post(DEVICES, payload, content_type="application/json")
    assert response.status_code == 409 and "No camera license" in response.json()["non_field_errors"][0]


@pytest.mark.parametrize(
    "name, valid",
    [("abc", True), ("  abc  ", True), ("a b", True), (" ab ", False), ("   ", False), ("x" * 64, True)],
)
def test_the_device_name_pattern_is_the_services_rule(openapi, name, valid):
    from devices.services import validate_device_name

    prop = _request(openapi, "", "post")["properties"]["name"]
    assert prop["maxLength"] == 64
    assert bool(re.search(prop["pattern"], name)) is valid
    try:
        validate_device_name(name)
    except ValidationError:
        assert not valid
    else:
        assert valid


@pytest.mark.parametrize(
    "mac", ["AA:BB:CC:DD:EE:FF", "aa-bb-cc-dd-ee-ff", "AABBCCDDEEFF", "AA:BB-CC:DD:EE:FF", "AA:BB:CC:DD:EE", "GG" * 6]
)
def test_the_mac_pattern_takes_the_three_shapes_normalize_mac_takes(openapi, mac):
    from devices.services import normalize_mac

    for path, method in (("", "post"), ("{device_id}/exchange/", "post")):
        matches = bool(re.search(_request(openapi, path, method)["properties"]["mac"]["pattern"], mac))
        try:
            normalize_mac(mac)
        except ValidationError:
            assert not matches
        else:
            assert matches


@pytest.mark.parametrize(
    "url",
    ["rtsp://cam.example.com/h264", "rtsps://user:pw@cam-1.example:8554/live?ch=1", "rtsp://cam", ""],
)
def test_every_stream_url_the_pattern_admits_is_taken(openapi, url):
    from devices.outbound import clean_stream_url

    pattern = _request(openapi, "{device_id}/stream/", "put")["properties"]["rtsp_url"]["pattern"]
    assert re.search(pattern, url)
    if url:
        clean_stream_url(url)  # no ValidationError


def test_onvif_needs_its_host_in_the_schema_as_in_validation(alpha, openapi):
    schema = _request(openapi, "{device_id}/stream/", "put")
    onvif = [
        branch
        for branch in schema["anyOf"]
        if branch["properties"].get("stream_source") == {"allOf": [{"enum": ["onvif"]}]}
    ]
    assert onvif and "onvif_host" in onvif[0]["required"]
    assert openapi["components"]["schemas"]["StreamSettingsRequest"]["properties"]["stream_source"] == {
        "oneOf": [{"$ref": "#/components/schemas/StreamSourceEnum"}, {"$ref": "#/components/schemas/BlankEnum"}]
    }  # the field's own choice set, not one of the branches
    # A form cannot spell the null port: the stream settings take JSON.
    url = _device(alpha.camera.pk, "stream")
    form = client_for(alpha.admin).put(
        url, "stream_source=&onvif_port=", content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 415
    assert list(openapi["paths"][DEVICES + "{device_id}/stream/"]["put"]["requestBody"]["content"]) == [
        "application/json"
    ]
