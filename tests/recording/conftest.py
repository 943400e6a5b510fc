"""Fixtures for tests/recording.

`site`: Alpha gets a second room (camera + sensor) in its building and a second building, so bulk
settings and cross-room conditions have something to overwrite or cross.

`tenant` and `sim`: the live view's browser tests (test_live_mse, test_live_stale, test_live_fallbacks,
test_live_sound; helpers in tests/recording/live_page.py). Modules with a `tenant` or `sim` of their own
(another camera, another tenant) define it and so override these."""

from dataclasses import dataclass

import pytest

from tests.conftest import build_tenant
from tests.factories import BuildingFactory, CameraFactory, RoomFactory, SensorFactory
from tests.licensing.factories import give_camera_licenses
from tests.recording.live_page import sim_camera


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


@pytest.fixture
def tenant(transactional_db):
    """Alpha (tests/conftest.py's build_tenant) with a license for its one camera."""
    tenant = build_tenant("Alpha", "alpha")
    give_camera_licenses(tenant.operator, count=1)
    return tenant


@pytest.fixture
def sim(tmp_path):
    """A SimCamera looping the H.264 test footage as cam1, without sound."""
    with sim_camera(tmp_path) as camera:
        yield camera
