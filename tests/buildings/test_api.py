"""REST API of buildings, rooms and the one-call registration."""

import pytest
from django.urls import reverse

from buildings.models import Building, Room
from devices.models import Device, DeviceKind
from tests.conftest import client_for
from tests.factories import counts

BUILDINGS = "/api/v1/buildings/"
ROOMS = "/api/v1/rooms/"
REGISTRATIONS = "/api/v1/registrations/"


def _building(pk) -> str:
    return f"{BUILDINGS}{pk}/"


def _room(pk) -> str:
    return f"{ROOMS}{pk}/"


def test_any_role_reads_only_its_own_buildings(alpha, bravo):
    for user in (alpha.admin, alpha.viewer, alpha.device_operator):
        data = client_for(user).get(BUILDINGS).json()
        assert [b["name"] for b in data["results"]] == ["Alpha Tower"]
        assert data["results"][0]["room_count"] == 1


def test_admin_creates_renames_and_deletes_a_building(alpha):
    client = client_for(alpha.admin)
    created = client.post(BUILDINGS, {"name": "Annex", "operator": 999}, content_type="application/json")
    assert created.status_code == 201, created.content
    building = Building.objects.get(pk=created.json()["id"])
    assert building.operator == alpha.operator  # never the operator in the body
    renamed = client.patch(_building(building.pk), {"name": "Annex 2"}, content_type="application/json")
    assert renamed.json()["name"] == "Annex 2"
    assert client.delete(_building(building.pk)).status_code == 204
    assert not Building.objects.filter(pk=building.pk).exists()


def test_building_delete_through_the_api_cascades(alpha):
    assert client_for(alpha.admin).delete(_building(alpha.building.pk)).status_code == 204
    assert not Room.objects.filter(operator=alpha.operator).exists()
    assert not Device.objects.filter(operator=alpha.operator).exists()


def test_a_duplicate_building_name_is_a_409_with_the_message(alpha):
    response = client_for(alpha.admin).post(BUILDINGS, {"name": "Alpha Tower"}, content_type="application/json")
    assert response.status_code == 409  # well formed, refused by what is stored: a conflict
    assert response.json() == {"name": ["A building named Alpha Tower already exists."]}


def test_messages_come_back_in_the_callers_language(alpha):
    response = client_for(alpha.admin).post(
        BUILDINGS, {"name": "Alpha Tower"}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="ja"
    )
    assert "既に" in response.json()["name"][0]


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_cannot_write(alpha, role):
    client = client_for(getattr(alpha, role))
    before = counts()
    assert client.post(BUILDINGS, {"name": "X"}, content_type="application/json").status_code == 403
    assert client.patch(_building(alpha.building.pk), {"name": "X"}, content_type="application/json").status_code == 403
    assert client.delete(_building(alpha.building.pk)).status_code == 403
    assert client.delete(_room(alpha.room.pk)).status_code == 403
    body = {
        "contract_number": "N-1",
        "mac": "AA:BB:CC:00:00:01",
        "building_name": "B",
        "room_name": "R",
        "camera_name": "Cam",
    }
    assert client.post(REGISTRATIONS, body, content_type="application/json").status_code == 403
    assert counts() == before
    alpha.building.refresh_from_db()
    assert alpha.building.name == "Alpha Tower"


def test_another_operators_ids_are_404(alpha, bravo):
    client = client_for(bravo.admin)
    before = counts()
    for url in (_building(alpha.building.pk), _room(alpha.room.pk)):
        assert client.get(url).status_code == 404
        assert client.patch(url, {"name": "Hacked"}, content_type="application/json").status_code == 404
        assert client.put(url, {"name": "Hacked"}, content_type="application/json").status_code == 404
        assert client.delete(url).status_code == 404
    assert counts() == before


def test_room_create_in_own_building(alpha):
    body = {"building": alpha.building.pk, "name": "Parking", "contract_number": "SP-77"}
    response = client_for(alpha.admin).post(ROOMS, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["camera_count"] == 0
    assert Room.objects.get(pk=response.json()["id"]).operator == alpha.operator


def test_room_create_in_another_operators_building_is_refused(alpha, bravo):
    before = counts()
    body = {"building": bravo.building.pk, "name": "Sneaky", "contract_number": "SP-78"}
    response = client_for(alpha.admin).post(ROOMS, body, content_type="application/json")
    assert response.status_code == 400
    assert "Not found" in response.json()["building"][0]
    assert counts() == before


def test_room_create_reports_each_bad_field(alpha):
    body = {"building": alpha.building.pk, "name": alpha.room.name, "contract_number": alpha.room.contract_number}
    response = client_for(alpha.admin).post(ROOMS, body, content_type="application/json")
    assert response.status_code == 409  # both taken: a conflict (a mixed one is a 400, below)
    errors = response.json()
    assert errors["name"] == [f"The building already has a room named {alpha.room.name}."]
    assert errors["contract_number"] == [f"The contract number {alpha.room.contract_number} is already registered."]


def test_rooms_filter_by_building_and_show_device_counts(alpha, bravo):
    client = client_for(alpha.viewer)
    rooms = client.get(ROOMS, {"building": alpha.building.pk}).json()["results"]
    assert [(r["name"], r["camera_count"], r["sensor_count"]) for r in rooms] == [("Alpha Entrance", 1, 1)]
    assert client.get(ROOMS, {"building": bravo.building.pk}).json()["results"] == []
    assert client.get(ROOMS, {"building": "x"}).status_code == 400


def test_room_contract_number_cannot_be_changed(alpha):
    response = client_for(alpha.admin).patch(
        _room(alpha.room.pk), {"contract_number": "OTHER-1"}, content_type="application/json"
    )
    assert response.status_code == 400
    alpha.room.refresh_from_db()
    assert alpha.room.contract_number != "OTHER-1"


# --- registrations/ : the wizard in one call -----------------------------------------------------


def _registration(**overrides) -> dict:
    body = {
        "contract_number": "SP-2001",
        "mac": "aabbcc112233",
        "building_name": "Itsuko Mansion",
        "room_name": "Entrance",
        "camera_name": "Entrance cam",
    }
    body.update(overrides)
    return body


def test_registration_creates_everything_at_once(alpha):
    response = client_for(alpha.admin).post(REGISTRATIONS, _registration(), content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    camera = Device.objects.get(pk=data["camera"])
    assert camera.mac == "AA:BB:CC:11:22:33" and camera.room_id == data["room"]
    assert Device.objects.get(pk=data["sensor"]).kind == DeviceKind.SENSOR
    assert Building.objects.get(pk=data["building"]).name == "Itsuko Mansion"


def test_registration_into_an_existing_building(alpha):
    body = _registration(building=alpha.building.pk, building_name="")
    response = client_for(alpha.admin).post(REGISTRATIONS, body, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["building"] == alpha.building.pk


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"mac": "AA:BB:CC"}, "mac", "Enter the MAC address as AA:BB:CC:DD:EE:FF"),
        ({"camera_name": "ab"}, "camera_name", "The device name must be 3 to 64 characters (now 2)."),
        ({"camera_name": "x" * 65}, "camera_name", "The device name must be 3 to 64 characters (now 65)."),
        ({"building_name": ""}, "building_name", "Enter the building name."),
    ],
)
def test_registration_rejects_bad_input_and_saves_nothing(alpha, overrides, field, message):
    before = counts()
    response = client_for(alpha.admin).post(REGISTRATIONS, _registration(**overrides), content_type="application/json")
    assert response.status_code == 400
    assert any(message in m for m in response.json()[field]), response.json()
    assert counts() == before


def test_registration_rejects_taken_mac_contract_number_and_name_as_a_conflict(alpha, bravo):
    # Well formed, refused by what is stored: 409, with the messages per field as a 400 carries them.
    before = counts()
    body = _registration(mac=bravo.camera.mac, contract_number=alpha.room.contract_number, building_name="Alpha Tower")
    response = client_for(alpha.admin).post(REGISTRATIONS, body, content_type="application/json")
    assert response.status_code == 409
    assert "is already registered" in response.json()["mac"][0]
    assert "is already registered" in response.json()["contract_number"][0]
    assert response.json()["building_name"] == ["A building named Alpha Tower already exists."]
    assert counts() == before


def test_registration_takes_a_null_building_as_left_out(alpha):
    # The schema says "leave out" (a form cannot send null); JSON's null still means the same.
    body = _registration(building=None)
    response = client_for(alpha.admin).post(REGISTRATIONS, body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Building.objects.get(pk=response.json()["building"]).name == "Itsuko Mansion"


def test_registration_into_another_operators_building_is_refused(alpha, bravo):
    before = counts()
    body = _registration(building=bravo.building.pk)
    response = client_for(alpha.admin).post(REGISTRATIONS, body, content_type="application/json")
    assert response.status_code == 400
    assert "building" in response.json()
    assert counts() == before
    assert bravo.building.rooms.count() == 1


def test_the_api_schema_generates(alpha):
    response = client_for(alpha.admin).get(reverse("api-schema"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "/api/v1/registrations/" in body and "{building_id}" in body and "{device_id}" in body
    assert "onvif_password_set" in body


def test_a_room_put_needs_only_its_name_and_refuses_another_contract_number(alpha):
    # The building and the contract number are read-only in the PUT/PATCH schema (RoomUpdateRequest).
    client = client_for(alpha.admin)
    renamed = client.put(_room(alpha.room.pk), {"name": "Renamed"}, content_type="application/json")
    assert renamed.status_code == 200, renamed.content
    same = {"name": "Again", "contract_number": alpha.room.contract_number, "building": alpha.building.pk}
    assert client.put(_room(alpha.room.pk), same, content_type="application/json").status_code == 200
    other = client.patch(_room(alpha.room.pk), {"contract_number": "SP-OTHER"}, content_type="application/json")
    assert other.status_code == 400 and other.json() == {
        "contract_number": ["This cannot be changed after registration."]
    }
    assert Room.objects.get(pk=alpha.room.pk).contract_number == alpha.room.contract_number


def test_a_taken_name_beside_a_malformed_contract_number_is_a_400(alpha):
    # 409 only when every refusal is one by what is stored (buildings.serializers.is_conflict).
    body = {"building": alpha.building.pk, "name": alpha.room.name, "contract_number": "no spaces"}
    response = client_for(alpha.admin).post(ROOMS, body, content_type="application/json")
    assert response.status_code == 400 and set(response.json()) == {"name", "contract_number"}


def test_the_room_schema_says_what_validation_reads():
    import re

    from drf_spectacular.generators import SchemaGenerator

    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    room = schemas["RoomRequest"]["properties"]
    for number, valid in (("SP-0001", True), ("sp1", True), ("ＳＰ１", False), ("SP 1", False), ("x" * 33, False)):
        assert bool(re.search(room["contract_number"]["pattern"], number)) is valid
    assert re.search(room["name"]["pattern"], "  ") is None and re.search(room["name"]["pattern"], " a ")
    assert set(schemas["PatchedRoomUpdateRequest"]["properties"]) == {"name"}
