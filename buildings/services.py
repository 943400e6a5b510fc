"""Writes of buildings and rooms, including the first-registration wizard.

Every write takes the acting `user` and checks it here (`require_admin`): views and the API only look
the object up (`access_*`, a 404 for another operator's) and translate the errors."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from devices.models import Device
from devices.services import camera_register, clean_new_mac, validate_device_name
from tenants.access import require_admin
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
    """Step 1: the contract number and the camera's MAC. Raises ValidationError with every problem,
    keyed "contract_number" / "mac"; returns them cleaned (MAC normalized)."""
    errors: dict[str, list] = {}
    try:
        contract_number = clean_contract_number(operator, contract_number)
    except ValidationError as exc:
        errors["contract_number"] = exc.messages
    try:
        mac = clean_new_mac(mac)
    except ValidationError as exc:
        errors["mac"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return contract_number, mac


def registration_check_building(
    *, operator: Operator, building_id: int | None, building_name: str
) -> tuple[Building | None, str]:
    """Step 2: an existing building of `operator` (by id) or the name of a new one.

    Returns (building, "") or (None, cleaned new name). Errors keyed "building" / "building_name".
    """
    if building_id:
        building = Building.objects.for_operator(operator).filter(pk=building_id).first()
        if building is None:
            raise ValidationError({"building": _("The selected building no longer exists.")}, code="building_missing")
        return building, ""
    try:
        name = _clean_name(building_name, _("building name"))
        check_building_name_free(operator, name)
    except ValidationError as exc:
        raise ValidationError({"building_name": exc.messages}) from None
    return None, name


def registration_check_room(*, building: Building | None, room_name: str, camera_name: str) -> tuple[str, str]:
    """Step 3: the room (new in `building`, or in a building still to be created) and the camera name.
    Errors keyed "room_name" / "camera_name"."""
    errors: dict[str, list] = {}
    try:
        room_name = _clean_name(room_name, _("room name"))
        if building is not None:
            check_room_name_free(building, room_name)
    except ValidationError as exc:
        errors["room_name"] = exc.messages
    try:
        camera_name = validate_device_name(camera_name)
    except ValidationError as exc:
        errors["camera_name"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return room_name, camera_name


def _collect(errors: dict[str, list], exc: ValidationError) -> None:
    for field, messages in exc.message_dict.items():
        errors.setdefault(field, []).extend(messages)


@transaction.atomic
def registration_complete(*, operator: Operator, user: User, registration: Registration) -> Device:
    """Create (or reuse) the building, create the room, register the camera and its sensor.

    All or nothing: every step is checked again (the wizard's session may be stale), and any problem
    raises ValidationError keyed by the wizard's field names with nothing saved; PermissionDenied
    unless `user` is an admin.
    """
    require_admin(user)
    errors: dict[str, list] = {}
    contract_number = mac = building_name = ""
    building = None
    try:
        contract_number, mac = registration_check_start(
            operator=operator, contract_number=registration.contract_number, mac=registration.mac
        )
    except ValidationError as exc:
        _collect(errors, exc)
    try:
        building, building_name = registration_check_building(
            operator=operator, building_id=registration.building_id, building_name=registration.building_name
        )
    except ValidationError as exc:
        _collect(errors, exc)
    try:
        room_name, camera_name = registration_check_room(
            building=building, room_name=registration.room_name, camera_name=registration.camera_name
        )
    except ValidationError as exc:
        _collect(errors, exc)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            if building is None:
                building = Building.objects.create(operator=operator, name=building_name)
            room = Room.objects.create(
                operator=operator, building=building, name=room_name, contract_number=contract_number
            )
            return camera_register(user=user, room=room, name=camera_name, mac=mac)
    except IntegrityError:
        # A concurrent registration took the name, number or MAC between the checks and the insert.
        raise ValidationError(
            {"__all__": [_("Someone registered the same data at the same time. Check the entries and try again.")]}
        ) from None


def _keyed(field: str, exc: ValidationError) -> ValidationError:
    return ValidationError({field: exc.messages})


def building_rename_check(*, building: Building, name: str) -> str:
    """The cleaned new name, or ValidationError keyed "name" (used by the edit step before confirming)."""
    try:
        name = _clean_name(name, _("building name"))
        check_building_name_free(building.operator, name, exclude=building)
    except ValidationError as exc:
        raise _keyed("name", exc) from None
    return name


def room_rename_check(*, room: Room, name: str) -> str:
    try:
        name = _clean_name(name, _("room name"))
        check_room_name_free(room.building, name, exclude=room)
    except ValidationError as exc:
        raise _keyed("name", exc) from None
    return name


@transaction.atomic
def building_create(*, user: User, operator: Operator, name: str) -> Building:
    """A building without rooms yet (API); the wizard creates buildings through `registration_complete`."""
    require_admin(user)
    try:
        name = _clean_name(name, _("building name"))
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
        name = _clean_name(name, _("room name"))
        check_room_name_free(building, name)
    except ValidationError as exc:
        errors["name"] = exc.messages
    try:
        number = clean_contract_number(building.operator, contract_number)
    except ValidationError as exc:
        errors["contract_number"] = exc.messages
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
