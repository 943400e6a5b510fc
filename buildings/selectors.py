"""Reads of buildings and rooms, always scoped to one operator."""

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from tenants.access import get_scoped_or_404, require_admin
from tenants.models import Operator, User

from . import hooks
from .models import Building, Room


def _visible_devices(operator: Operator, user: User | None):
    """Ids of the devices `user` may see, or None when the user sees all of the operator's.

    A viewer / device operator limited to chosen rooms or cameras (sharing.UserCameraScope) gets
    buildings, rooms and counts of what is visible to them only. The rule is devices' (`hooks`)."""
    return hooks.visible_devices(operator=operator, user=user)


def building_list(*, operator: Operator, user: User | None = None) -> QuerySet[Building]:
    visible = _visible_devices(operator, user)
    buildings = Building.objects.for_operator(operator)
    device_q = Q()
    if visible is not None:
        buildings = buildings.filter(rooms__devices__in=visible).distinct()
        device_q = Q(rooms__devices__in=visible)
    # distinct: the room and device joins multiply rows, so each count must count its own ids.
    room_count = (
        Count("rooms", distinct=True)
        if visible is None
        else Count("rooms", filter=Q(rooms__devices__in=visible), distinct=True)
    )
    return buildings.annotate(
        room_count=room_count,
        camera_count=Count("rooms__devices", filter=device_q & Q(rooms__devices__kind="camera"), distinct=True),
        trouble_count=Count("rooms__devices", filter=device_q & ~Q(rooms__devices__trouble_state=""), distinct=True),
    ).order_by("name", "id")  # Meta.ordering is dropped from aggregate queries; pagination needs one


def building_choices(*, operator: Operator, user: User | None = None) -> QuerySet[Building]:
    """The buildings `user` may pick from (as `building_list`, without its counts: a filter's choices)."""
    visible = _visible_devices(operator, user)
    buildings = Building.objects.for_operator(operator)
    if visible is not None:
        buildings = buildings.filter(rooms__devices__in=visible).distinct()
    return buildings.order_by("name", "id")


def room_list(
    *,
    operator: Operator,
    building: Building | None = None,
    building_id: int | None = None,
    user: User | None = None,
) -> QuerySet[Room]:
    rooms = Room.objects.for_operator(operator).select_related("building")
    if building is not None:
        rooms = rooms.filter(building=building)
    if building_id is not None:
        rooms = rooms.filter(building_id=building_id)  # still inside `operator`: another's id gives nothing
    visible = _visible_devices(operator, user)
    device_q = Q()
    if visible is not None:
        rooms = rooms.filter(devices__in=visible).distinct()
        device_q = Q(devices__in=visible)
    return rooms.annotate(
        camera_count=Count("devices", filter=device_q & Q(devices__kind="camera"), distinct=True),
        sensor_count=Count("devices", filter=device_q & Q(devices__kind="sensor"), distinct=True),
        trouble_count=Count("devices", filter=device_q & ~Q(devices__trouble_state=""), distinct=True),
    ).order_by("building__name", "name", "id")


def access_building(*, operator: Operator, user: User, pk, write: bool = False) -> Building:
    """A building of `operator`. Security guarantee: 404 for another operator's building, a
    missing one and one a limited user has no visible device in (indistinguishable); 403 when
    `write` and the user is not an admin."""
    building = get_scoped_or_404(Building.objects.all(), operator=operator, pk=pk)
    visible = _visible_devices(operator, user)
    if visible is not None and not Room.objects.filter(building=building, devices__in=visible).exists():
        raise Http404  # a limited user's hidden building: the same answer as another operator's
    if write:
        require_admin(user)
    return building


def access_room(*, operator: Operator, user: User, pk, write: bool = False) -> Room:
    """A room of `operator`. Security guarantee: 404 for another operator's room, a missing
    one and one a limited user has no visible device in; 403 when `write` and the user is not an
    admin."""
    room = get_scoped_or_404(Room.objects.select_related("building"), operator=operator, pk=pk)
    visible = _visible_devices(operator, user)
    if visible is not None and not room.devices.filter(pk__in=visible).exists():
        raise Http404
    if write:
        require_admin(user)
    return room
