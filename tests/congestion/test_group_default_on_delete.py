"""Deleting a device, room or building takes its congestion camera with it; a group whose default
camera that was keeps going with another of its cameras, or goes with its last one (was a 500:
ProtectedError from Group.default_camera)."""

from buildings.services import building_delete, room_delete
from congestion.models import CongestionCamera, Group
from devices.services import device_delete
from tests.congestion.conftest import register
from tests.factories import BuildingFactory, CameraFactory, RoomFactory


def _group(operator, cameras):
    group = Group.objects.create(operator=operator, name="Floor", default_camera=cameras[0])
    group.cameras.add(*cameras)
    return group


def test_deleting_the_default_cameras_device_hands_the_default_to_another_camera(alpha):
    first = register(alpha)
    second = register(CameraFactory(room=alpha.room, name="Second"))
    group = _group(alpha.operator, [first, second])

    device_delete(user=alpha.admin, device=alpha.camera)

    group.refresh_from_db()
    assert group.default_camera == second
    assert list(group.cameras.all()) == [second]
    assert not CongestionCamera.objects.filter(pk=first.pk).exists()


def test_a_group_whose_last_camera_goes_goes_with_it_and_nothing_else_does(alpha, bravo):
    only = register(alpha)
    group = _group(alpha.operator, [only])
    other = register(bravo)
    others_group = _group(bravo.operator, [other])

    room_delete(user=alpha.admin, room=alpha.room)

    assert not Group.objects.filter(pk=group.pk).exists()
    assert Group.objects.filter(pk=others_group.pk, default_camera=other).exists()


def test_deleting_a_building_with_every_camera_of_a_group_keeps_the_groups_elsewhere(alpha):
    here = register(alpha)
    elsewhere_room = RoomFactory(building=BuildingFactory(operator=alpha.operator, name="Annex"), name="Hall")
    there = register(CameraFactory(room=elsewhere_room, name="Annex cam"))
    group = _group(alpha.operator, [here, there])

    building_delete(user=alpha.admin, building=alpha.building)

    group.refresh_from_db()
    assert group.default_camera == there
