"""Forms of the link page. Camera choices come from the POS option rule (selectors); tokens are
write-only inputs that never render a value back."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Provider
from .selectors import connection_list, pos_camera_choices


class CameraChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.room.building.name} / {obj.room.name})"


def _camera_field(operator, keep=None) -> CameraChoiceField:
    return CameraChoiceField(
        label=_("Camera"),
        queryset=pos_camera_choices(operator=operator, keep=keep).select_related("room", "room__building"),
        empty_label=_("Choose a camera"),
        help_text=_("Only cameras holding the POS link option are listed."),
    )


class SmaregiLinkForm(forms.Form):
    contract_id = forms.CharField(label=_("Contract ID"), max_length=64)
    access_token = forms.CharField(
        label=_("Access token"),
        max_length=512,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Smaregi: Settings → System integration → Smaregi API → API receiving settings."),
    )
    terminal_id = forms.CharField(label=_("Terminal ID"), max_length=32)

    def __init__(self, *args, operator, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["camera"] = _camera_field(operator)


class UbiregiLinkForm(forms.Form):
    terminal_id = forms.CharField(
        label=_("Terminal ID"), max_length=32, help_text=_("The Ubiregi account ID of the register's store.")
    )

    def __init__(self, *args, operator, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"] = forms.ModelChoiceField(
            label=_("Ubiregi account"),
            queryset=connection_list(operator=operator, provider=Provider.UBIREGI),
            empty_label=None,
        )
        self.fields["camera"] = _camera_field(operator)
        self.order_fields(["connection", "terminal_id", "camera"])


class LinkUpdateForm(forms.Form):
    terminal_id = forms.CharField(label=_("Terminal ID"), max_length=32)

    def __init__(self, *args, operator, link, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["camera"] = _camera_field(operator, keep=link.camera)


class TransactionFilterForm(forms.Form):
    kind = forms.CharField(required=False)
    q = forms.CharField(required=False, max_length=64)
