"""Forms of the device pages; checks run through the services so pages and the API agree."""

from django import forms
from django.utils.translation import gettext_lazy as _

from buildings.forms import ServiceCheckedForm

from .models import Device, DeviceKind, StreamSource
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
