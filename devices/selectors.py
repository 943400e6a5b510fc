"""Reads of devices, always scoped to one operator (and later to what a user may see)."""

from django.db.models import QuerySet

from tenants.access import get_scoped_or_404, require_admin
from tenants.models import Operator, User

from .models import Device, DeviceExchange, DeviceKind


def device_list(
    *, operator: Operator, user: User | None = None, room=None, kind: str | None = None
) -> QuerySet[Device]:
    devices = Device.objects.for_operator(operator).select_related("room", "room__building", "parent")
    if room is not None:
        devices = devices.filter(room=room)
    if kind:
        devices = devices.filter(kind=kind)
    return devices


def camera_list(*, operator: Operator, user: User | None = None, room=None) -> QuerySet[Device]:
    return device_list(operator=operator, user=user, room=room, kind=DeviceKind.CAMERA)


def access_device(*, operator: Operator, user: User, pk, write: bool = False) -> Device:
    """A device of `operator`. Security guarantee: 404 for another operator's device or a
    missing one; 403 when `write` and the user is not an admin."""
    device = get_scoped_or_404(Device.objects.select_related("room", "room__building"), operator=operator, pk=pk)
    if write:
        require_admin(user)
    return device


def device_exchange_list(*, operator: Operator, device: Device) -> QuerySet[DeviceExchange]:
    return DeviceExchange.objects.for_operator(operator).filter(device=device)
