"""Forms of the device pages; checks run through the services so pages and the API agree."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIterator
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from buildings.forms import ServiceCheckedForm
from buildings.models import Building
from buildings.selectors import building_list
from tenants.models import Operator

from .models import Device, DeviceKind, StreamSource
from .registration import registration_check_building, registration_check_room, registration_check_start
from .services import (
    MAX_CHANNELS,
    NAME_MAX,
    camera_register_check,
    channel_add_check,
    device_exchange_check,
    device_rename_check,
)

_NAME_HELP = _("3 to 64 characters.")
_MAC_HELP = _("For example AA:BB:CC:DD:EE:FF, aa-bb-cc-dd-ee-ff or AABBCCDDEEFF.")


class DeviceAddForm(ServiceCheckedForm):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (DeviceKind.CAMERA, _("Camera (with its built-in motion sensor)")),
            (DeviceKind.RECORDER, _("Edge recorder (NVR): its channels are added on its page")),
        ],
        initial=DeviceKind.CAMERA,
        widget=forms.RadioSelect,
        required=False,  # a camera unless chosen otherwise
    )
    mac = forms.CharField(label=_("MAC address (S/N)"), max_length=20, help_text=_MAC_HELP)
    # Longer than the limit on purpose: the service's message states the rule and the length entered.
    name = forms.CharField(label=_("Device name"), max_length=NAME_MAX + 10, help_text=_NAME_HELP)

    def service_check(self, data: dict) -> dict:
        name, mac = camera_register_check(name=data["name"], mac=data["mac"])
        return {"kind": data.get("kind") or DeviceKind.CAMERA, "name": name, "mac": mac}


class ChannelAddForm(ServiceCheckedForm):
    channel = forms.IntegerField(
        label=_("Channel"), help_text=_("The recorder's channel number, 1 to %(max)d.") % {"max": MAX_CHANNELS}
    )
    name = forms.CharField(label=_("Camera name"), max_length=NAME_MAX + 10, help_text=_NAME_HELP)

    def __init__(self, *args, recorder: Device, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.recorder = recorder

    def service_check(self, data: dict) -> dict:
        channel, name = channel_add_check(recorder=self.recorder, channel=data["channel"], name=data["name"])
        return {"channel": channel, "name": name}


class DeviceRenameForm(ServiceCheckedForm):
    name = forms.CharField(label=_("New device name"), max_length=NAME_MAX + 10, help_text=_NAME_HELP)

    def service_check(self, data: dict) -> dict:
        return {"name": device_rename_check(name=data["name"])}


class DeviceExchangeForm(ServiceCheckedForm):
    mac = forms.CharField(label=_("MAC address (S/N) of the new camera"), max_length=20, help_text=_MAC_HELP)

    def __init__(self, *args, device: Device, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def service_check(self, data: dict) -> dict:
        return {"mac": device_exchange_check(device=self.device, new_mac=data["mac"])}


class StreamSettingsForm(forms.Form):
    """Secrets are write-only: the widgets never render a value (render_value=False) and a blank
    entry keeps what is stored. The page shows "set" / "not set" beside them."""

    source = forms.ChoiceField(
        label=_("Stream source"), choices=StreamSource.choices, widget=forms.RadioSelect, required=False
    )
    rtsp_url = forms.CharField(
        label=_("RTSP URL"),
        required=False,
        max_length=1000,
        strip=False,  # a space or line break is refused with a message, never silently removed
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("It may contain the camera's user and password, so it is never shown. Leave blank to keep it."),
    )
    onvif_host = forms.CharField(label=_("ONVIF host"), required=False, max_length=255, strip=False)
    onvif_port = forms.IntegerField(label=_("ONVIF port"), required=False, help_text=_("80 when left blank."))
    onvif_user = forms.CharField(label=_("ONVIF user"), required=False, max_length=64)
    onvif_password = forms.CharField(
        label=_("ONVIF password"),
        required=False,
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave blank to keep the stored password."),
    )


# --- the first-registration wizard (devices/registration.py) ---------------------------------------


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


class PlainSelect(forms.Select):
    """Django's `<select>`, byte for byte, written without the template engine: through the templates each
    of the camera list's building options cost its own loop of nodes and a copy of its attributes, the
    filter form a sixth of the page's Python time (docs/performance.md, "Lists at 5,000 cameras").
    Values and labels are escaped as the template escaped them; option groups go to Django's template."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        choices = [choice for choice in self.choices]  # noqa: C416 - list() would ask a queryset's len(): a COUNT
        if any(isinstance(label, (list, tuple)) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        wanted = self.format_value(value)
        parts = [f'<select name="{escape(name)}"{_attrs_html(self.build_attrs(self.attrs, attrs))}>']
        chosen = False
        for option_value, label in choices:
            option_value = "" if option_value is None else str(option_value)
            selected = not chosen and option_value in wanted  # the first match only, as optgroups() decides
            chosen |= selected
            parts.append(
                f'\n  <option value="{escape(option_value)}"{" selected" if selected else ""}>'
                f"{conditional_escape(label)}</option>\n"
            )
        parts.append("\n</select>\n")
        return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


class PlainSearchInput(forms.TextInput):
    """Django's `<input type="search">` (django/forms/widgets/input.html), written without the template
    engine as PlainSelect is."""

    input_type = "search"

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else f' value="{escape(str(widget["value"]))}"'
        head = f'<input type="{escape(widget["type"])}" name="{escape(widget["name"])}"'
        return mark_safe(f"{head}{shown}{_attrs_html(widget['attrs'])}>")  # noqa: S308 - every value is escaped


def _attrs_html(attrs: dict) -> str:
    # django/forms/widgets/attrs.html: False leaves the attribute out, True writes its name alone.
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class _NameChoices(ModelChoiceIterator):
    # The options from (id, name) rows: a building's label is its name (Building.__str__), so no model
    # instance is made per option.
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = getattr(self.field, "rows", None)
        yield from self.queryset.values_list("pk", "name") if rows is None else rows


class _BuildingChoiceField(forms.ModelChoiceField):
    iterator = _NameChoices


# Django's own string, translated by its catalogue (BoundField.label_tag): a label ending in one of them
# gets no suffix.
_LABEL_ENDS = ":?.!"


class CameraFilterForm(forms.Form):
    """The camera list's filter: one of the user's buildings (the manual's camera list is per
    building) and part of a camera name. Another operator's building is not a choice."""

    building = _BuildingChoiceField(
        label=_("Building"), queryset=None, required=False, empty_label=_("All buildings"), widget=PlainSelect
    )
    q = forms.CharField(label=_("Camera name"), required=False, max_length=64, widget=PlainSearchInput)

    def __init__(self, *args, buildings, building_rows=None, **kwargs):
        """`buildings`: the queryset a chosen building is looked up in (always asked: it decides what may be
        chosen); `building_rows`: its (id, name) rows for the options, when the caller has them kept."""
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["building"].rows = building_rows

    def as_div(self) -> SafeString:
        """Django's `as_div`, byte for byte, written without the template engine (the form was a third of
        the camera list's template time); a form with errors goes to Django's template."""
        fields = list(self)
        if self.errors or any(f.help_text or f.css_classes() or not f.label for f in fields):
            return super().as_div()
        parts = []
        for i, field in enumerate(fields):
            label = conditional_escape(field.label)
            suffix = self.label_suffix if self.label_suffix and label[-1:] not in gettext(_LABEL_ENDS) else ""
            group = f'<label for="{escape(field.id_for_label)}">{label}{suffix}</label>\n\n\n\n{field.as_widget()}'
            last = "\n      \n    " if i == len(fields) - 1 else ""
            parts.append(f"<div>\n    {group.strip()}\n    {last}\n</div>")
        return mark_safe("\n\n  ".join(parts))  # noqa: S308 - labels and widgets are escaped

    def filters(self) -> tuple[Building | None, str]:
        """(building, name search) to list by; nothing of a field that did not validate."""
        if not self.is_bound:
            return None, ""
        self.is_valid()
        data = self.cleaned_data
        return data.get("building"), (data.get("q") or "").strip()
