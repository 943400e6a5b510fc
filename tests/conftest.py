"""Shared fixtures: two operators built the same way (healthchecks' hc/test.py pattern).

`alpha` is the operator under test with an admin, a viewer and a device operator; `bravo`
is the outsider whose objects must always be a 404 for alpha's users.
"""

import os
from dataclasses import dataclass

import pytest
from django.test import Client

from tenants.models import Role
from tests.factories import (
    PASSWORD,
    BuildingFactory,
    CameraFactory,
    OperatorFactory,
    RoomFactory,
    SensorFactory,
    UserFactory,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@dataclass
class Tenant:
    operator: object
    admin: object
    viewer: object
    device_operator: object
    building: object
    room: object
    camera: object
    sensor: object


def build_tenant(name: str, prefix: str) -> Tenant:
    operator = OperatorFactory(name=name)
    admin = UserFactory(operator=operator, email=f"{prefix}-admin@example.com", name=f"{name} admin", role=Role.ADMIN)
    viewer = UserFactory(operator=operator, email=f"{prefix}-viewer@example.com", role=Role.VIEWER)
    devop = UserFactory(operator=operator, email=f"{prefix}-devop@example.com", role=Role.DEVICE_OPERATOR)
    building = BuildingFactory(operator=operator, name=f"{name} Tower")
    room = RoomFactory(building=building, name=f"{name} Entrance")
    camera = CameraFactory(room=room, name=f"{name} Cam")
    sensor = SensorFactory(parent=camera, name=f"{name} Sensor")
    return Tenant(operator, admin, viewer, devop, building, room, camera, sensor)


@pytest.fixture
def alpha(db) -> Tenant:
    return build_tenant("Alpha", "alpha")


@pytest.fixture
def bravo(db) -> Tenant:
    return build_tenant("Bravo", "bravo")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture(autouse=True)
def english_by_default():
    """A request in Japanese leaves Japanese active in the thread; each test starts in English."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")
