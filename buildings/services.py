"""Writes of buildings and rooms (the first-registration wizard, which also registers a camera, is
devices/registration.py).

Every write takes the acting `user` and checks it here (`require_admin`): views and the API only look
the object up (`access_*`, a 404 for another operator's) and translate the errors."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from tenants.access import require_admin
from tenants.models import Operator, User

from .models import Building, Room


def clean_name(value: str, label: str, max_length: int = 100) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("Enter the %(label)s.") % {"label": label}, code="required")
    if len(value) > max_length:
        raise ValidationError(
            _("The %(label)s must be at most %(max)d characters.") % {"label": label, "max": max_length},
            code="too_long",
        )
    return value


_CONTRACT_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,32}$")


def clean_contract_number(operator: Operator, value: str, *, exclude: Room | None = None) -> str:
    value = (value or "").strip()
    # ASCII only: str.isalnum() would also let full-width digits and kana through, which then never
    # match the number printed on the installation notice.
    if not _CONTRACT_NUMBER.match(value):
        raise ValidationError(
            _("Enter the contract number given at installation (letters, digits and '-', up to 32)."),
            code="contract_format",
        )
    taken = Room.objects.for_operator(operator).filter(contract_number=value)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError(
            _("The contract number %(number)s is already registered.") % {"number": value}, code="contract_taken"
        )
    return value


def check_building_name_free(operator: Operator, name: str, *, exclude: Building | None = None) -> None:
    taken = Building.objects.for_operator(operator).filter(name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError(_("A building named %(name)s already exists.") % {"name": name}, code="name_taken")


def check_room_name_free(building: Building, name: str, *, exclude: Room | None = None) -> None:
    taken = building.rooms.filter(name=name)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise ValidationError(
            _("The building already has a room named %(name)s.") % {"name": name}, code="room_name_taken"
        )


def _keyed(field: str, exc: ValidationError) -> ValidationError:
    return ValidationError({field: exc.error_list})  # the codes stay: the API answers a `_taken` one with 409


def building_rename_check(*, building: Building, name: str) -> str:
    """The cleaned new name, or ValidationError keyed "name" (used by the edit step before confirming)."""
    try:
        name = clean_name(name, _("building name"))
        check_building_name_free(building.operator, name, exclude=building)
    except ValidationError as exc:
        raise _keyed("name", exc) from None
    return name


def room_rename_check(*, room: Room, name: str) -> str:
    try:
        name = clean_name(name, _("room name"))
        check_room_name_free(room.building, name, exclude=room)
    except ValidationError as exc:
        raise _keyed("name", exc) from None
    return name


@transaction.atomic
def building_create(*, user: User, operator: Operator, name: str) -> Building:
    """A building without rooms yet (API); the wizard creates buildings through `registration_complete`."""
    require_admin(user)
    try:
        name = clean_name(name, _("building name"))
        check_building_name_free(operator, name)
    except ValidationError as exc:
        raise _keyed("name", exc) from None
    return Building.objects.create(operator=operator, name=name)


@transaction.atomic
def building_rename(*, user: User, building: Building, name: str) -> Building:
    require_admin(user)
    name = building_rename_check(building=building, name=name)
    building.name = name
    building.save(update_fields=["name"])
    return building


@transaction.atomic
def building_delete(*, user: User, building: Building) -> None:
    """Deletes the building with its rooms and device registrations (cameras are not disconnected)."""
    require_admin(user)
    building.delete()


@transaction.atomic
def room_create(*, user: User, building: Building, name: str, contract_number: str) -> Room:
    require_admin(user)
    errors: dict[str, list] = {}
    try:
        name = clean_name(name, _("room name"))
        check_room_name_free(building, name)
    except ValidationError as exc:
        errors["name"] = exc.error_list
    try:
        number = clean_contract_number(building.operator, contract_number)
    except ValidationError as exc:
        errors["contract_number"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    return Room.objects.create(operator=building.operator, building=building, name=name, contract_number=number)


@transaction.atomic
def room_rename(*, user: User, room: Room, name: str) -> Room:
    require_admin(user)
    name = room_rename_check(room=room, name=name)
    room.name = name
    room.save(update_fields=["name"])
    return room


@transaction.atomic
def room_delete(*, user: User, room: Room) -> None:
    """Deletes the room with its device registrations (cameras are not disconnected)."""
    require_admin(user)
    room.delete()


def building_delete_summary(building: Building) -> dict[str, int]:
    """What goes with a building, for the confirmation screen."""
    devices = building.rooms.aggregate(
        cameras=Count("devices", filter=Q(devices__kind="camera")),
        sensors=Count("devices", filter=Q(devices__kind="sensor")),
    )
    return {"rooms": building.rooms.count(), "cameras": devices["cameras"], "sensors": devices["sensors"]}


def room_delete_summary(room: Room) -> dict[str, int]:
    return {
        "cameras": room.devices.filter(kind="camera").count(),
        "sensors": room.devices.filter(kind="sensor").count(),
    }
