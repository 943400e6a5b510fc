"""Forms of the building pages. Each one checks through the services, so a page and the API
reject the same input with the same message."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from devices.services import NAME_MAX
from tenants.models import Operator

from .models import Building, Room
from .selectors import building_list
from .services import (
    building_rename_check,
    registration_check_building,
    registration_check_room,
    registration_check_start,
    room_rename_check,
)


class ServiceCheckedForm(forms.Form):
    """Runs one service check in `clean()` and places its field-keyed errors on the fields."""

    def service_check(self, data: dict) -> dict:
        raise NotImplementedError

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            data.update(self.service_check(data))
        except ValidationError as exc:
            self.add_error(None, exc)
        return data


class RegistrationStartForm(ServiceCheckedForm):
    contract_number = forms.CharField(
        label=_("Contract number"),
        max_length=32,
        help_text=_("The number given at installation (on the installation notice)."),
    )
    mac = forms.CharField(
        label=_("Camera MAC address (S/N)"),
        max_length=20,
        help_text=_("For example AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff or AABBCCDDEEFF."),
    )

    def __init__(self, *args, operator: Operator, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.operator = operator

    def service_check(self, data: dict) -> dict:
        number, mac = registration_check_start(
            operator=self.operator, contract_number=data["contract_number"], mac=data["mac"]
        )
        return {"contract_number": number, "mac": mac}


class RegistrationBuildingForm(ServiceCheckedForm):
    NEW, EXISTING = "new", "existing"
    choice = forms.ChoiceField(
        label=_("Building"),
        choices=[(NEW, _("Create a new building")), (EXISTING, _("Add to an existing building"))],
        widget=forms.RadioSelect,
        initial=NEW,
    )
    building_name = forms.CharField(label=_("New building name"), max_length=100, required=False)
    building = forms.ModelChoiceField(
        label=_("Existing building"), queryset=None, required=False, empty_label=_("Choose…")
    )

    def __init__(self, *args, operator: Operator, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.operator = operator
        # Only this operator's buildings can be offered or accepted.
        self.fields["building"].queryset = building_list(operator=operator)
        if not self.fields["building"].queryset.exists():
            self.fields["choice"].choices = self.fields["choice"].choices[:1]
            del self.fields["building"]

    def service_check(self, data: dict) -> dict:
        if data["choice"] == self.EXISTING:
            if not data.get("building"):
                raise ValidationError({"building": _("Choose a building.")})
            building, _name = registration_check_building(
                operator=self.operator, building_id=data["building"].pk, building_name=""
            )
            return {"building": building, "building_name": ""}
        _none, name = registration_check_building(
            operator=self.operator, building_id=None, building_name=data.get("building_name", "")
        )
        return {"building": None, "building_name": name}


class RegistrationRoomForm(ServiceCheckedForm):
    room_name = forms.CharField(
        label=_("Room name"),
        max_length=100,
        help_text=_("Where the camera is: entrance, garbage area, bicycle parking, parking lot…"),
    )
    camera_name = forms.CharField(
        label=_("Camera name"),
        max_length=NAME_MAX + 10,  # longer input reaches the service so its message (with the length) shows
        help_text=_("3 to 64 characters."),
    )

    def __init__(self, *args, building: Building | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.building = building

    def service_check(self, data: dict) -> dict:
        room_name, camera_name = registration_check_room(
            building=self.building, room_name=data["room_name"], camera_name=data["camera_name"]
        )
        return {"room_name": room_name, "camera_name": camera_name}


class BuildingRenameForm(ServiceCheckedForm):
    name = forms.CharField(label=_("New building name"), max_length=100)

    def __init__(self, *args, building: Building, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.building = building

    def service_check(self, data: dict) -> dict:
        return {"name": building_rename_check(building=self.building, name=data["name"])}


class RoomRenameForm(ServiceCheckedForm):
    name = forms.CharField(label=_("New room name"), max_length=100)

    def __init__(self, *args, room: Room, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.room = room

    def service_check(self, data: dict) -> dict:
        return {"name": room_rename_check(room=self.room, name=data["name"])}
