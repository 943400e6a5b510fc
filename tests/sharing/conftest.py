from dataclasses import dataclass

import pytest

from devices.models import Device
from sharing.models import CameraShare, ShareAuditEvent, UserCameraScope
from tests.conftest import Tenant, build_tenant
from tests.factories import CameraFactory, RoomFactory
from tests.sharing.factories import make_share


@pytest.fixture
def charlie(db) -> Tenant:
    """A third operator: it takes part in no share between alpha and bravo and must see none of it."""
    return build_tenant("Charlie", "charlie")


@pytest.fixture
def shared(alpha, bravo) -> CameraShare:
    """Alpha's camera shared to bravo and approved."""
    return make_share(alpha, bravo.operator, bravo.admin)


@pytest.fixture
def requested(alpha, bravo) -> CameraShare:
    """Alpha's camera offered to bravo, not yet decided."""
    return make_share(alpha, bravo.operator, bravo.admin, approve=False)


@dataclass(frozen=True)
class Snapshot:
    shares: tuple
    events: int
    scopes: int
    devices: tuple


def snapshot() -> Snapshot:
    """Everything sharing could change, system-wide: 'nothing changed' means this is equal."""
    return Snapshot(
        shares=tuple(CameraShare.objects.order_by("pk").values_list("pk", "status", "decided_at", "ended_at")),
        events=ShareAuditEvent.objects.count(),
        scopes=UserCameraScope.objects.count(),
        devices=tuple(Device.objects.order_by("pk").values_list("pk", "name", "mac", "operator_id", "rtsp_url")),
    )


def second_room(tenant: Tenant, name: str = "Garage"):
    """Another room with a camera in `tenant`, for per-user limits."""
    room = RoomFactory(building=tenant.building, name=f"{tenant.operator.name} {name}")
    camera = CameraFactory(room=room, name=f"{tenant.operator.name} {name} Cam")
    return room, camera
