"""Writes of buildings and rooms, including the first-registration wizard."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from devices.models import Device
from devices.services import camera_register, ensure_mac_free, normalize_mac, validate_device_name
from tenants.models import Operator, User

from .models import Building, Room


def _clean_name(value: str, label: str, max_length: int = 100) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(_("Enter the %(label)s.") % {"label": label}, code="required")
    if len(value) > max_length:
        raise ValidationError(
            _("The %(label)s must be at most %(max)d characters.") % {"label": label, "max": max_length},
            code="too_long",
        )
    return value


def clean_contract_number(operator: Operator, value: str, *, exclude: Room | None = None) -> str:
    value = (value or "").strip()
    if not value or len(value) > 32 or not value.replace("-", "").isalnum():
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


@dataclass(frozen=True)
class Registration:
    """What the wizard collected; validated step by step, saved at once by `registration_complete`."""

    contract_number: str
    mac: str
    building_id: int | None
    building_name: str
    room_name: str
    camera_name: str


def registration_check_start(*, operator: Operator, contract_number: str, mac: str) -> tuple[str, str]:
    """Step 1: the contract number and the camera's MAC. Raises ValidationError with every problem."""
    errors: dict[str, list] = {}
    try:
        contract_number = clean_contract_number(operator, contract_number)
    except ValidationError as exc:
        errors["contract_number"] = exc.messages
    try:
        mac = normalize_mac(mac)
        ensure_mac_free(mac)
    except ValidationError as exc:
        errors["mac"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return contract_number, mac


@transaction.atomic
def registration_complete(*, operator: Operator, user: User, registration: Registration) -> Device:
    """Create (or reuse) the building, create the room, register the camera and its sensor.

    All or nothing: any problem raises ValidationError and nothing is saved.
    """
    contract_number, mac = registration_check_start(
        operator=operator, contract_number=registration.contract_number, mac=registration.mac
    )
    if registration.building_id:
        building = Building.objects.for_operator(operator).filter(pk=registration.building_id).first()
        if building is None:
            raise ValidationError(_("The selected building no longer exists."), code="building_missing")
    else:
        name = _clean_name(registration.building_name, _("building name"))
        check_building_name_free(operator, name)
        building = Building.objects.create(operator=operator, name=name)
    room_name = _clean_name(registration.room_name, _("room name"))
    check_room_name_free(building, room_name)
    camera_name = validate_device_name(registration.camera_name)
    room = Room.objects.create(operator=operator, building=building, name=room_name, contract_number=contract_number)
    return camera_register(user=user, room=room, name=camera_name, mac=mac)


@transaction.atomic
def building_rename(*, user: User, building: Building, name: str) -> Building:
    name = _clean_name(name, _("building name"))
    check_building_name_free(building.operator, name, exclude=building)
    building.name = name
    building.save(update_fields=["name"])
    return building


@transaction.atomic
def building_delete(*, user: User, building: Building) -> None:
    """Deletes the building with its rooms and device registrations (cameras are not disconnected)."""
    building.delete()


@transaction.atomic
def room_create(*, user: User, building: Building, name: str, contract_number: str) -> Room:
    name = _clean_name(name, _("room name"))
    check_room_name_free(building, name)
    number = clean_contract_number(building.operator, contract_number)
    return Room.objects.create(operator=building.operator, building=building, name=name, contract_number=number)


@transaction.atomic
def room_rename(*, user: User, room: Room, name: str) -> Room:
    name = _clean_name(name, _("room name"))
    check_room_name_free(room.building, name, exclude=room)
    room.name = name
    room.save(update_fields=["name"])
    return room


@transaction.atomic
def room_delete(*, user: User, room: Room) -> None:
    room.delete()


def building_delete_summary(building: Building) -> dict[str, int]:
    """What goes with a building, for the confirmation screen."""
    devices = Device.objects.filter(room__building=building)
    return {
        "rooms": building.rooms.count(),
        "cameras": devices.filter(kind="camera").count(),
        "sensors": devices.filter(kind="sensor").count(),
    }


def room_delete_summary(room: Room) -> dict[str, int]:
    return {
        "cameras": room.devices.filter(kind="camera").count(),
        "sensors": room.devices.filter(kind="sensor").count(),
    }
