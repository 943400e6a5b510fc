"""The first-registration wizard: contract number + MAC → building → room + camera → confirm."""

import pytest
from django.urls import reverse

from buildings.models import Building, Room
from devices.models import Device, DeviceKind
from tests.conftest import client_for
from tests.factories import counts

STEP1, STEP2, STEP3, CONFIRM = (
    reverse("buildings:register"),
    reverse("buildings:register_building"),
    reverse("buildings:register_room"),
    reverse("buildings:register_confirm"),
)
NEW_MAC = "AA:BB:CC:00:11:22"


def _walk_to_confirm(
    client, *, building=None, mac=NEW_MAC, contract="SP-1001", room="Garbage area", camera="Garbage cam"
):
    assert client.post(STEP1, {"contract_number": contract, "mac": mac}).url == STEP2
    if building is None:
        data = {"choice": "new", "building_name": "Itsuko Mansion"}
    else:
        data = {"choice": "existing", "building": building.pk}
    assert client.post(STEP2, data).url == STEP3
    assert client.post(STEP3, {"room_name": room, "camera_name": camera}).url == CONFIRM


def test_wizard_creates_building_room_camera_and_sensor(alpha):
    client = client_for(alpha.admin)
    _walk_to_confirm(client, mac="aa-bb-cc-00-11-22")
    page = client.get(CONFIRM).content.decode()
    for shown in ("SP-1001", NEW_MAC, "Itsuko Mansion", "Garbage area", "Garbage cam"):
        assert shown in page  # the confirmation restates everything before saving
    assert Building.objects.filter(name="Itsuko Mansion").count() == 0

    response = client.post(CONFIRM, {"confirm": "1"}, follow=True)

    building = Building.objects.get(operator=alpha.operator, name="Itsuko Mansion")
    room = Room.objects.get(building=building)
    assert room.name == "Garbage area" and room.contract_number == "SP-1001"
    camera = Device.objects.get(room=room, kind=DeviceKind.CAMERA)
    assert camera.mac == NEW_MAC and camera.name == "Garbage cam" and camera.operator == alpha.operator
    assert Device.objects.filter(parent=camera, kind=DeviceKind.SENSOR, room=room).count() == 1
    assert response.redirect_chain[-1][0] == reverse("buildings:detail", kwargs={"building_id": building.pk})
    body = response.content.decode()
    assert "was registered with its sensor" in body
    assert "camera: 1 sensor: 1" in body


def test_wizard_adds_a_room_to_an_existing_building(alpha):
    client = client_for(alpha.admin)
    _walk_to_confirm(client, building=alpha.building, room="Bicycle parking")
    assert "Existing building" in client.get(CONFIRM).content.decode()
    before = Building.objects.count()
    client.post(CONFIRM, {"confirm": "1"})
    assert Building.objects.count() == before
    assert alpha.building.rooms.filter(name="Bicycle parking", contract_number="SP-1001").exists()


def test_each_step_shows_the_step_indicator(alpha):
    client = client_for(alpha.admin)
    body = client.get(STEP1).content.decode()
    assert '<ul class="steps"' in body and 'class="current"' in body


@pytest.mark.parametrize("mac", ["AA:BB:CC:00:11:22", "aa-bb-cc-00-11-22", "aabbcc001122", "AABBCC001122"])
def test_step_one_accepts_every_mac_notation(alpha, mac):
    client = client_for(alpha.admin)
    assert client.post(STEP1, {"contract_number": "SP-1", "mac": mac}).url == STEP2
    assert client.session["buildings.registration"]["mac"] == NEW_MAC


@pytest.mark.parametrize(
    ("mac", "message"),
    [
        ("AA:BB:CC:00:11", "Enter the MAC address as AA:BB:CC:DD:EE:FF"),
        ("GG:BB:CC:00:11:22", "Enter the MAC address as AA:BB:CC:DD:EE:FF"),
        ("AA:BB-CC:00:11:22", "Enter the MAC address as AA:BB:CC:DD:EE:FF"),
    ],
)
def test_step_one_rejects_a_malformed_mac(alpha, mac, message):
    client = client_for(alpha.admin)
    before = counts()
    response = client.post(STEP1, {"contract_number": "SP-1", "mac": mac})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert counts() == before


def test_step_one_rejects_a_mac_registered_by_this_operator(alpha):
    response = client_for(alpha.admin).post(STEP1, {"contract_number": "SP-1", "mac": alpha.camera.mac.lower()})
    assert f"The camera {alpha.camera.mac} is already registered" in response.content.decode()


def test_step_one_rejects_a_mac_registered_by_another_operator(alpha, bravo):
    response = client_for(alpha.admin).post(STEP1, {"contract_number": "SP-1", "mac": bravo.camera.mac})
    assert response.status_code == 200
    assert "is already registered" in response.content.decode()
    assert "Bravo" not in response.content.decode()  # says "taken", never whose


def test_step_one_rejects_a_contract_number_already_registered(alpha):
    response = client_for(alpha.admin).post(STEP1, {"contract_number": alpha.room.contract_number, "mac": NEW_MAC})
    assert f"The contract number {alpha.room.contract_number} is already registered." in response.content.decode()


def test_a_contract_number_of_another_operator_is_free(alpha, bravo):
    response = client_for(alpha.admin).post(STEP1, {"contract_number": bravo.room.contract_number, "mac": NEW_MAC})
    assert response.url == STEP2


def test_step_one_rejects_full_width_contract_numbers(alpha):
    response = client_for(alpha.admin).post(STEP1, {"contract_number": "ＳＰ１２３", "mac": NEW_MAC})
    assert "Enter the contract number given at installation" in response.content.decode()


@pytest.mark.parametrize(("name", "ok"), [("ab", False), ("abc", True), ("x" * 64, True), ("x" * 65, False)])
def test_camera_name_must_be_3_to_64_characters(alpha, name, ok):
    client = client_for(alpha.admin)
    client.post(STEP1, {"contract_number": "SP-1", "mac": NEW_MAC})
    client.post(STEP2, {"choice": "new", "building_name": "New"})
    before = counts()
    response = client.post(STEP3, {"room_name": "Entrance", "camera_name": name})
    if ok:
        assert response.url == CONFIRM
    else:
        assert response.status_code == 200
        assert f"The device name must be 3 to 64 characters (now {len(name)})." in response.content.decode()
    assert counts() == before


def test_step_two_rejects_a_building_name_already_used(alpha):
    client = client_for(alpha.admin)
    client.post(STEP1, {"contract_number": "SP-1", "mac": NEW_MAC})
    response = client.post(STEP2, {"choice": "new", "building_name": alpha.building.name})
    assert f"A building named {alpha.building.name} already exists." in response.content.decode()


def test_step_two_refuses_another_operators_building(alpha, bravo):
    client = client_for(alpha.admin)
    client.post(STEP1, {"contract_number": "SP-1", "mac": NEW_MAC})
    response = client.post(STEP2, {"choice": "existing", "building": bravo.building.pk})
    assert response.status_code == 200  # the choice is not valid: the form only offers alpha's buildings
    assert "Bravo Tower" not in response.content.decode()
    assert client.session["buildings.registration"]["done"] == 1


def test_step_three_rejects_a_room_name_taken_in_the_chosen_building(alpha):
    client = client_for(alpha.admin)
    client.post(STEP1, {"contract_number": "SP-1", "mac": NEW_MAC})
    client.post(STEP2, {"choice": "existing", "building": alpha.building.pk})
    response = client.post(STEP3, {"room_name": alpha.room.name, "camera_name": "Cam 1"})
    assert f"The building already has a room named {alpha.room.name}." in response.content.decode()


def test_back_buttons_keep_what_was_entered(alpha):
    client = client_for(alpha.admin)
    _walk_to_confirm(client, room="Parking lot", camera="Parking cam")
    assert client.post(CONFIRM, {"back": "1"}).url == STEP3
    step3 = client.get(STEP3).content.decode()
    assert 'value="Parking lot"' in step3 and 'value="Parking cam"' in step3
    # Going back from step 3 with an edited (not yet valid) value keeps it too.
    assert client.post(STEP3, {"back": "1", "room_name": "Parking lot 2", "camera_name": "x"}).url == STEP2
    assert 'value="Itsuko Mansion"' in client.get(STEP2).content.decode()
    assert client.post(STEP2, {"back": "1", "choice": "new", "building_name": "Itsuko Mansion"}).url == STEP1
    step1 = client.get(STEP1).content.decode()
    assert 'value="SP-1001"' in step1 and f'value="{NEW_MAC}"' in step1
    client.post(STEP1, {"contract_number": "SP-1001", "mac": NEW_MAC})
    client.post(STEP2, {"choice": "new", "building_name": "Itsuko Mansion"})
    assert 'value="Parking lot 2"' in client.get(STEP3).content.decode()


def test_later_steps_cannot_be_opened_before_the_earlier_ones(alpha):
    client = client_for(alpha.admin)
    assert client.get(CONFIRM).url == STEP1
    client.post(STEP1, {"contract_number": "SP-1", "mac": NEW_MAC})
    assert client.get(CONFIRM).url == STEP3 or client.get(CONFIRM).url == STEP2
    assert client.post(CONFIRM, {"confirm": "1"}).status_code == 302
    assert not Device.objects.filter(mac=NEW_MAC).exists()


def test_confirm_saves_nothing_when_the_mac_was_taken_meanwhile(alpha, bravo):
    client = client_for(alpha.admin)
    _walk_to_confirm(client)
    bravo.camera.mac = NEW_MAC  # another operator registered the same camera in between
    bravo.camera.save()
    before = counts()
    response = client.post(CONFIRM, {"confirm": "1"})
    assert response.status_code == 200
    assert "is already registered" in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert counts() == before
    assert not Building.objects.filter(name="Itsuko Mansion").exists()


def test_confirm_sends_back_to_step_two_when_the_chosen_building_was_deleted(alpha):
    client = client_for(alpha.admin)
    extra = Building.objects.create(operator=alpha.operator, name="Short-lived")
    _walk_to_confirm(client, building=extra)
    extra.delete()
    response = client.post(CONFIRM, {"confirm": "1"})
    assert response.url == STEP2
    assert not Room.objects.filter(contract_number="SP-1001").exists()


@pytest.mark.parametrize("url", [STEP1, STEP2, STEP3, CONFIRM])
def test_viewers_and_device_operators_get_403_on_every_step(alpha, url):
    for user in (alpha.viewer, alpha.device_operator):
        client = client_for(user)
        assert client.get(url).status_code == 403
        before = counts()
        assert client.post(url, {"contract_number": "SP-9", "mac": NEW_MAC, "confirm": "1"}).status_code == 403
        assert counts() == before


def test_the_wizard_renders_in_japanese(alpha):
    client = client_for(alpha.admin)
    body = client.get(STEP1, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "契約番号" in body
    response = client.post(STEP1, {"contract_number": "SP-1", "mac": "nope"}, HTTP_ACCEPT_LANGUAGE="ja")
    assert "MACアドレス" in response.content.decode()


def test_confirm_saves_nothing_without_a_camera_license(bravo):
    client = client_for(bravo.admin)  # bravo holds no license: the camera cannot be registered
    _walk_to_confirm(client)
    before = counts()
    response = client.post(CONFIRM, {"confirm": "1"})
    assert "No camera license is available" in response.content.decode()
    assert counts() == before  # the new building and room were rolled back with the camera
