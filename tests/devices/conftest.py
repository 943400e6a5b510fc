import pytest
from django.utils import translation

from buildings.models import Building, Room
from devices.models import Device
from tests.licensing.factories import give_camera_licenses


def counts() -> tuple[int, int, int]:
    """Buildings, rooms and devices in the whole database: 'nothing saved' means this is unchanged."""
    return Building.objects.count(), Room.objects.count(), Device.objects.count()


@pytest.fixture(autouse=True)
def alpha_licensed(alpha):
    """Registering a camera needs a free license (SPEC §7); alpha holds a few. Bravo holds none."""
    give_camera_licenses(alpha.operator, count=5)
    return alpha


@pytest.fixture(autouse=True)
def english_outside_requests():
    """A request with Accept-Language: ja leaves Japanese active in the thread; service calls made
    directly by a later test would then speak Japanese. Start every test from the default."""
    translation.activate("en")
    yield
    translation.deactivate()
