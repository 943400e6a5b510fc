"""Reads of buildings and rooms, always scoped to one operator."""

from django.db.models import Count, Q, QuerySet

from tenants.access import get_scoped_or_404, require_admin
from tenants.models import Operator, User

from .models import Building, Room


def building_list(*, operator: Operator) -> QuerySet[Building]:
    # distinct: the room and device joins multiply rows, so each count must count its own ids.
    return (
        Building.objects.for_operator(operator)
        .annotate(
            room_count=Count("rooms", distinct=True),
            camera_count=Count("rooms__devices", filter=Q(rooms__devices__kind="camera"), distinct=True),
            trouble_count=Count("rooms__devices", filter=~Q(rooms__devices__trouble_state=""), distinct=True),
        )
        .order_by("name", "id")
    )  # Meta.ordering is dropped from aggregate queries; pagination needs one


def room_list(
    *, operator: Operator, building: Building | None = None, building_id: int | None = None
) -> QuerySet[Room]:
    rooms = Room.objects.for_operator(operator).select_related("building")
    if building is not None:
        rooms = rooms.filter(building=building)
    if building_id is not None:
        rooms = rooms.filter(building_id=building_id)  # still inside `operator`: another's id gives nothing
    return rooms.annotate(
        camera_count=Count("devices", filter=Q(devices__kind="camera")),
        sensor_count=Count("devices", filter=Q(devices__kind="sensor")),
        trouble_count=Count("devices", filter=~Q(devices__trouble_state="")),
    ).order_by("building__name", "name", "id")


def access_building(*, operator: Operator, user: User, pk, write: bool = False) -> Building:
    """A building of `operator`. Security guarantee: 404 for another operator's building or a
    missing one (indistinguishable); 403 when `write` and the user is not an admin."""
    building = get_scoped_or_404(Building.objects.all(), operator=operator, pk=pk)
    if write:
        require_admin(user)
    return building


def access_room(*, operator: Operator, user: User, pk, write: bool = False) -> Room:
    """A room of `operator`. Security guarantee: 404 for another operator's room or a missing
    one; 403 when `write` and the user is not an admin."""
    room = get_scoped_or_404(Room.objects.select_related("building"), operator=operator, pk=pk)
    if write:
        require_admin(user)
    return room
