"""The permission check lives in the service: a write service called for a non-admin refuses with
PermissionDenied and changes nothing, whoever calls it (a page, the API, a task, a script)."""

import pytest
from django.core.exceptions import PermissionDenied

from buildings import services as buildings_services
from buildings.models import Building, Room
from devices import registration
from devices import services as devices_services
from devices.models import Device, DeviceExchange, DeviceKind, StreamSource
from licensing import services as licensing_services
from tenants.models import Operator, Role
from tests.factories import UserFactory
from tests.licensing.factories import make_partner


def _registration():
    return registration.Registration(
        contract_number="C-900",
        mac="02:00:00:00:90:01",
        building_id=None,
        building_name="New building",
        room_name="New room",
        camera_name="New camera",
    )


def _recorder(t):
    return Device.objects.get(operator=t.operator, kind=DeviceKind.RECORDER)


WRITES = {
    "registration_complete": lambda t, u: registration.registration_complete(
        operator=t.operator, user=u, registration=_registration()
    ),
    "building_create": lambda t, u: buildings_services.building_create(user=u, operator=t.operator, name="Annex"),
    "building_rename": lambda t, u: buildings_services.building_rename(user=u, building=t.building, name="Renamed"),
    "building_delete": lambda t, u: buildings_services.building_delete(user=u, building=t.building),
    "room_create": lambda t, u: buildings_services.room_create(
        user=u, building=t.building, name="Store room", contract_number="C-901"
    ),
    "room_rename": lambda t, u: buildings_services.room_rename(user=u, room=t.room, name="Renamed"),
    "room_delete": lambda t, u: buildings_services.room_delete(user=u, room=t.room),
    "camera_register": lambda t, u: devices_services.camera_register(
        user=u, room=t.room, name="Another camera", mac="02:00:00:00:90:03"
    ),
    "recorder_register": lambda t, u: devices_services.recorder_register(
        user=u, room=t.room, name="Another NVR", mac="02:00:00:00:90:04"
    ),
    "channel_add": lambda t, u: devices_services.channel_add(user=u, recorder=_recorder(t), channel=1, name="Ch one"),
    "device_rename": lambda t, u: devices_services.device_rename(user=u, device=t.camera, name="Renamed"),
    "device_delete": lambda t, u: devices_services.device_delete(user=u, device=t.camera),
    "device_exchange": lambda t, u: devices_services.device_exchange(
        user=u, device=t.camera, new_mac="02:00:00:00:90:05"
    ),
    "device_set_stream": lambda t, u: devices_services.device_set_stream(
        user=u, device=t.camera, source=StreamSource.RTSP, rtsp_url="rtsp://192.0.2.10/1"
    ),
}


def _state(t) -> tuple:
    return (
        list(Building.objects.filter(operator=t.operator).values_list("id", "name")),
        list(Room.objects.filter(operator=t.operator).values_list("id", "name")),
        list(Device.objects.filter(operator=t.operator).values_list("id", "name", "mac", "rtsp_url")),
        DeviceExchange.objects.count(),
    )


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_service_refuses_a_non_admin_and_changes_nothing(alpha, role, write):
    Device.objects.create(
        operator=alpha.operator, room=alpha.room, kind=DeviceKind.RECORDER, name="Lobby NVR", mac="02:00:00:00:90:02"
    )
    before = _state(alpha)
    with pytest.raises(PermissionDenied):
        WRITES[write](alpha, getattr(alpha, role))
    assert _state(alpha) == before


def test_creating_a_customer_refuses_a_partner_viewer(db):
    partner, _admin = make_partner()
    viewer = UserFactory(operator=partner, email="partner-viewer@example.com", role=Role.VIEWER)
    count = Operator.objects.count()
    with pytest.raises(PermissionDenied):
        licensing_services.customer_create(partner=partner, actor=viewer, name="Shop", email="shop@example.com")
    assert Operator.objects.count() == count
