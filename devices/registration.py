"""The first-registration wizard: a contract number and a camera's MAC, a new or existing building,
a room and the camera with its sensor, registered at once (the pages in devices/views.py, the one-call
API `registrations/` in devices/api.py).

Each step is checked on its own (`registration_check_*`, errors keyed by the wizard's field names)
and again, all together, by `registration_complete`, which saves everything or nothing.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from buildings.models import Building, Room
from buildings.services import check_building_name_free, check_room_name_free, clean_contract_number, clean_name
from tenants.access import require_admin
from tenants.models import Operator, User

from .models import Device
from .services import camera_register, clean_new_mac, validate_device_name


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
        errors["contract_number"] = exc.error_list
    try:
        mac = clean_new_mac(mac)
    except ValidationError as exc:
        errors["mac"] = exc.error_list
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
        name = clean_name(building_name, _("building name"))
        check_building_name_free(operator, name)
    except ValidationError as exc:
        raise ValidationError({"building_name": exc.error_list}) from None
    return None, name


def registration_check_room(*, building: Building | None, room_name: str, camera_name: str) -> tuple[str, str]:
    """Step 3: the room (new in `building`, or in a building still to be created) and the camera name.
    Errors keyed "room_name" / "camera_name"."""
    errors: dict[str, list] = {}
    try:
        room_name = clean_name(room_name, _("room name"))
        if building is not None:
            check_room_name_free(building, room_name)
    except ValidationError as exc:
        errors["room_name"] = exc.error_list
    try:
        camera_name = validate_device_name(camera_name)
    except ValidationError as exc:
        errors["camera_name"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    return room_name, camera_name


def _collect(errors: dict[str, list], exc: ValidationError) -> None:
    # The errors themselves, not their messages: the codes stay, and the API answers a `_taken` one with 409.
    for field, field_errors in exc.error_dict.items():
        errors.setdefault(field, []).extend(field_errors)


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
