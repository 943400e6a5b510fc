"""Building list, room list, rename (edit → confirm → success) and delete (confirm → success)."""

import pytest
from django.urls import reverse

from buildings.models import Building, Room
from devices.models import Device, TroubleState
from tests.conftest import client_for
from tests.factories import BuildingFactory, CameraFactory, RoomFactory, SensorFactory, counts


def test_building_list_shows_own_buildings_with_room_counts(alpha, bravo):
    RoomFactory(building=alpha.building, name="Parking")
    body = client_for(alpha.viewer).get(reverse("buildings:list")).content.decode()
    assert "Alpha Tower" in body and "Bravo Tower" not in body
    assert '<td data-label="Rooms">2</td>' in body


def test_building_list_has_an_empty_state(db):
    from tests.factories import OperatorFactory, UserFactory

    admin = UserFactory(operator=OperatorFactory())
    body = client_for(admin).get(reverse("buildings:list")).content.decode()
    assert "No buildings are registered yet" in body


def test_room_list_shows_contract_number_device_counts_and_trouble(alpha):
    alpha.camera.trouble_state = TroubleState.NETWORK
    alpha.camera.save()
    empty_room = RoomFactory(building=alpha.building, name="Bicycle parking")
    body = client_for(alpha.viewer).get(reverse("buildings:detail", kwargs={"building_id": alpha.building.pk}))
    body = body.content.decode()
    assert alpha.room.contract_number in body and empty_room.contract_number in body
    assert "camera: 1 sensor: 1" in body
    assert "camera: 0 sensor: 0" in body
    assert "1 device in trouble" in body


def test_room_list_paginates_long_lists(alpha):
    for i in range(55):
        RoomFactory(building=alpha.building, name=f"Room {i:02d}")
    url = reverse("buildings:detail", kwargs={"building_id": alpha.building.pk})
    first = client_for(alpha.admin).get(url).content.decode()
    assert "Page 1 of 2" in first
    assert "Room 54" not in first
    assert "Room 54" in client_for(alpha.admin).get(url + "?page=2").content.decode()


def test_room_page_lists_its_devices(alpha):
    body = client_for(alpha.viewer).get(reverse("buildings:room_detail", kwargs={"room_id": alpha.room.pk}))
    assert "Alpha Cam" in body.content.decode() and "Alpha Sensor" in body.content.decode()


def test_viewer_sees_no_edit_links(alpha):
    body = client_for(alpha.viewer).get(reverse("buildings:detail", kwargs={"building_id": alpha.building.pk}))
    assert reverse("buildings:rename", kwargs={"building_id": alpha.building.pk}) not in body.content.decode()


# --- rename -------------------------------------------------------------------------------------


def test_building_rename_goes_through_a_confirmation(alpha):
    client = client_for(alpha.admin)
    url = reverse("buildings:rename", kwargs={"building_id": alpha.building.pk})
    assert 'value="Alpha Tower"' in client.get(url).content.decode()

    confirm = client.post(url, {"name": "Alpha Yoga Tower"}).content.decode()
    assert "Alpha Tower" in confirm and "Alpha Yoga Tower" in confirm
    assert "Do you really want to change it?" in confirm
    alpha.building.refresh_from_db()
    assert alpha.building.name == "Alpha Tower"  # nothing changed before confirming

    response = client.post(url, {"name": "Alpha Yoga Tower", "confirm": "1"}, follow=True)
    alpha.building.refresh_from_db()
    assert alpha.building.name == "Alpha Yoga Tower"
    assert "The building was renamed." in response.content.decode()


def test_back_from_the_rename_confirmation_keeps_the_new_name(alpha):
    url = reverse("buildings:rename", kwargs={"building_id": alpha.building.pk})
    body = client_for(alpha.admin).post(url, {"name": "Alpha Yoga Tower", "back": "1"}).content.decode()
    assert 'value="Alpha Yoga Tower"' in body
    alpha.building.refresh_from_db()
    assert alpha.building.name == "Alpha Tower"


def test_building_rename_refuses_a_name_in_use(alpha):
    BuildingFactory(operator=alpha.operator, name="Annex")
    url = reverse("buildings:rename", kwargs={"building_id": alpha.building.pk})
    body = client_for(alpha.admin).post(url, {"name": "Annex", "confirm": "1"}).content.decode()
    assert "A building named Annex already exists." in body
    alpha.building.refresh_from_db()
    assert alpha.building.name == "Alpha Tower"


def test_room_rename_goes_through_a_confirmation(alpha):
    client = client_for(alpha.admin)
    url = reverse("buildings:room_rename", kwargs={"room_id": alpha.room.pk})
    confirm = client.post(url, {"name": "Garbage area"}).content.decode()
    assert "Alpha Entrance" in confirm and "Garbage area" in confirm and "Alpha Tower" in confirm
    response = client.post(url, {"name": "Garbage area", "confirm": "1"}, follow=True)
    alpha.room.refresh_from_db()
    assert alpha.room.name == "Garbage area"
    assert "The room was renamed." in response.content.decode()


def test_room_rename_refuses_a_blank_name(alpha):
    url = reverse("buildings:room_rename", kwargs={"room_id": alpha.room.pk})
    response = client_for(alpha.admin).post(url, {"name": "   ", "confirm": "1"})
    assert "This field is required." in response.content.decode()
    alpha.room.refresh_from_db()
    assert alpha.room.name == "Alpha Entrance"


# --- delete -------------------------------------------------------------------------------------


def test_building_delete_confirmation_names_what_goes_with_it(alpha):
    second_room = RoomFactory(building=alpha.building)
    SensorFactory(parent=CameraFactory(room=second_room))
    url = reverse("buildings:delete", kwargs={"building_id": alpha.building.pk})
    body = client_for(alpha.admin).get(url).content.decode()
    assert "2 rooms" in body and "2 cameras" in body and "2 sensors" in body
    assert "The physical cameras are not disconnected" in body
    assert Building.objects.filter(pk=alpha.building.pk).exists()


def test_deleting_a_building_deletes_its_rooms_and_devices_only(alpha, bravo):
    client = client_for(alpha.admin)
    url = reverse("buildings:delete", kwargs={"building_id": alpha.building.pk})
    response = client.post(url, follow=True)
    assert "The building Alpha Tower was deleted." in response.content.decode()
    assert not Building.objects.filter(pk=alpha.building.pk).exists()
    assert not Room.objects.filter(operator=alpha.operator).exists()
    assert not Device.objects.filter(operator=alpha.operator).exists()
    assert Device.objects.filter(operator=bravo.operator).count() == 2


def test_deleting_a_room_deletes_its_devices(alpha):
    other_room = RoomFactory(building=alpha.building)
    CameraFactory(room=other_room)
    url = reverse("buildings:room_delete", kwargs={"room_id": alpha.room.pk})
    body = client_for(alpha.admin).get(url).content.decode()
    assert "1 camera" in body and "1 sensor" in body
    client_for(alpha.admin).post(url)
    assert not Room.objects.filter(pk=alpha.room.pk).exists()
    assert not Device.objects.filter(pk__in=[alpha.camera.pk, alpha.sensor.pk]).exists()
    assert Device.objects.filter(room=other_room).count() == 1


# --- who may -------------------------------------------------------------------------------------


def _admin_urls(t) -> list[str]:
    return [
        reverse("buildings:rename", kwargs={"building_id": t.building.pk}),
        reverse("buildings:delete", kwargs={"building_id": t.building.pk}),
        reverse("buildings:room_rename", kwargs={"room_id": t.room.pk}),
        reverse("buildings:room_delete", kwargs={"room_id": t.room.pk}),
    ]


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_non_admins_get_403_on_settings_pages_and_change_nothing(alpha, role):
    client = client_for(getattr(alpha, role))
    before = counts()
    for url in _admin_urls(alpha):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Hacked", "confirm": "1"}).status_code == 403, url
    assert counts() == before
    alpha.building.refresh_from_db()
    alpha.room.refresh_from_db()
    assert (alpha.building.name, alpha.room.name) == ("Alpha Tower", "Alpha Entrance")


def test_another_operators_admin_gets_404_on_every_building_page(alpha, bravo):
    client = client_for(bravo.admin)
    before = counts()
    for url in _admin_urls(alpha):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"name": "Hacked", "confirm": "1"}).status_code == 404, url
    for url in (
        reverse("buildings:detail", kwargs={"building_id": alpha.building.pk}),
        reverse("buildings:room_detail", kwargs={"room_id": alpha.room.pk}),
    ):
        assert client.get(url).status_code == 404, url
    assert counts() == before


@pytest.mark.parametrize("url_name", ["buildings:list", "buildings:detail", "buildings:room_detail"])
def test_pages_render_in_japanese_and_english(alpha, url_name):
    kwargs = {
        "buildings:detail": {"building_id": alpha.building.pk},
        "buildings:room_detail": {"room_id": alpha.room.pk},
    }
    url = reverse(url_name, kwargs=kwargs.get(url_name))
    client = client_for(alpha.admin)
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    japanese = client.get(url, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "Buildings" in english
    assert "建物一覧" in japanese and "Buildings</a>" not in japanese
