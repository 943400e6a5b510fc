"""Alpha gets a second room (camera + sensor) in its building and a second building, so bulk
settings and cross-room conditions have something to overwrite or cross."""

from dataclasses import dataclass

import pytest

from tests.factories import BuildingFactory, CameraFactory, RoomFactory, SensorFactory


@dataclass
class Site:
    room2: object
    camera2: object
    sensor2: object
    other_building: object
    other_room: object


@pytest.fixture
def site(alpha) -> Site:
    room2 = RoomFactory(building=alpha.building, name="Alpha Parking")
    camera2 = CameraFactory(room=room2, name="Alpha Parking Cam")
    sensor2 = SensorFactory(parent=camera2, name="Alpha Parking Sensor")
    other_building = BuildingFactory(operator=alpha.operator, name="Alpha Annex")
    other_room = RoomFactory(building=other_building, name="Annex Hall")
    return Site(room2, camera2, sensor2, other_building, other_room)
