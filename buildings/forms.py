"""Forms of the building pages. Each one checks through the services, so a page and the API
reject the same input with the same message."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Building, Room
from .services import building_rename_check, room_rename_check


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
