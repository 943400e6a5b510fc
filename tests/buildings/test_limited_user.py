"""A viewer limited to one room sees only that room's cameras in every list and count (issue 6)."""

import pytest
from django.urls import reverse

from sharing.services import user_scope_set
from tests.conftest import client_for
from tests.factories import BuildingFactory, CameraFactory, RoomFactory, SensorFactory


@pytest.fixture
def limited(alpha):
    """Alpha gets a second building with a camera; its viewer is limited to that building's room."""
    building = BuildingFactory(operator=alpha.operator, name="Alpha Annex")
    room = RoomFactory(building=building, name="Annex Lobby")
    camera = CameraFactory(room=room, name="Annex Cam")
    SensorFactory(parent=camera, name="Annex Sensor")
    user_scope_set(operator=alpha.operator, user=alpha.admin, target=alpha.viewer, room_ids=[room.pk], camera_ids=[])
    return building, room


def test_building_list_shows_only_buildings_with_visible_cameras_and_their_counts(alpha, limited):
    body = client_for(alpha.viewer).get(reverse("buildings:list")).content.decode()
    assert "Alpha Annex" in body
    assert "Alpha Tower" not in body
    api = client_for(alpha.viewer).get("/api/v1/buildings/").json()["results"]
    assert [b["name"] for b in api] == ["Alpha Annex"]


def test_room_counts_and_hidden_rooms_for_a_limited_user(alpha, limited):
    building, room = limited
    viewer = client_for(alpha.viewer)
    rooms = viewer.get("/api/v1/rooms/").json()["results"]
    assert [r["name"] for r in rooms] == ["Annex Lobby"]
    assert viewer.get(reverse("buildings:detail", kwargs={"building_id": alpha.building.pk})).status_code == 404
    assert viewer.get(reverse("buildings:room_detail", kwargs={"room_id": alpha.room.pk})).status_code == 404
    assert viewer.get(reverse("buildings:room_detail", kwargs={"room_id": room.pk})).status_code == 200


def test_the_admin_and_unlimited_users_still_see_everything(alpha, limited):
    body = client_for(alpha.admin).get(reverse("buildings:list")).content.decode()
    assert "Alpha Annex" in body and "Alpha Tower" in body
    body = client_for(alpha.device_operator).get(reverse("buildings:list")).content.decode()
    assert "Alpha Tower" in body
