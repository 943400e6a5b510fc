"""Forms of the link page. Camera choices come from the POS option rule (selectors); tokens and
secrets are write-only inputs that never render a value back."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Interface
from .selectors import connection_list, pos_camera_choices


class CameraChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.room.building.name} / {obj.room.name})"


def _camera_field(operator, keep=None, lazy: bool = False) -> CameraChoiceField:
    # `lazy`: the caller sets the choices itself (a display-only form), so no query is made here.
    queryset = None if lazy else pos_camera_choices(operator=operator, keep=keep)
    return CameraChoiceField(
        label=_("Camera"),
        queryset=queryset.select_related("room", "room__building") if queryset is not None else None,
        empty_label=_("Choose a camera"),
        help_text=_("Only cameras holding the POS link option are listed."),
    )


def _secret(label, help_text="", required=False):
    return forms.CharField(
        label=label,
        max_length=512,
        required=required,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=help_text,
    )


class SmaregiLinkForm(forms.Form):
    interface = forms.ChoiceField(
        label=_("Smaregi interface"),
        choices=[
            (Interface.SMAREGI_ACCESS, _("API receiving (API受信 Ver.2)")),
            (Interface.SMAREGI_PLATFORM, _("Platform API")),
        ],
        initial=Interface.SMAREGI_ACCESS,
        required=False,  # API受信 Ver.2, the interface the manual sets up, unless chosen otherwise
        widget=forms.RadioSelect,
    )
    contract_id = forms.CharField(label=_("Contract ID"), max_length=64)
    access_token = _secret(
        _("Access token"),
        _("API receiving: Settings → System integration → Smaregi API → API receiving settings."),
    )
    client_id = forms.CharField(
        label=_("Client ID"),
        max_length=100,
        required=False,
        help_text=_("Platform API: the app's client ID for this contract (Smaregi Developers)."),
    )
    client_secret = _secret(_("Client secret"), _("Platform API: the app's client secret for this contract."))
    terminal_id = forms.CharField(label=_("Terminal ID"), max_length=32)

    def __init__(self, *args, operator, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["camera"] = _camera_field(operator)

    def clean_interface(self) -> str:
        return self.cleaned_data.get("interface") or Interface.SMAREGI_ACCESS


class UbiregiLinkForm(forms.Form):
    """The terminal is picked from the list each connected account gave at consent (itself and
    its child store accounts): a Ubiregi checkout names no register, so nothing is typed."""

    terminal = forms.ChoiceField(
        label=_("Store account"), help_text=_("The Ubiregi account (store) whose checkouts are shown.")
    )

    def __init__(self, *args, operator, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections = {str(c.pk): c for c in connection_list(operator=operator, provider="ubiregi")}
        groups = []
        for pk, connection in self.connections.items():
            options = [(f"{pk}:{tid}", label) for tid, label in connection.terminal_choices()]
            if options:
                groups.append((connection.name or connection.contract_id, options))
        self.fields["terminal"].choices = groups
        self.fields["camera"] = _camera_field(operator)

    def clean(self):
        data = super().clean()
        value = data.get("terminal") or ""
        pk, _sep, terminal_id = value.partition(":")
        if value:
            data["connection"], data["terminal_id"] = self.connections[pk], terminal_id
        return data


class LinkUpdateForm(forms.Form):
    terminal_id = forms.CharField(label=_("Terminal ID"), max_length=32)

    def __init__(self, *args, operator, link, cameras=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["camera"] = _camera_field(operator, keep=link.camera, lazy=cameras is not None)
        if cameras is not None:  # the links page: every row's choices worked out at once
            field = self.fields["camera"]
            field.choices = [("", field.empty_label)] + [(c.pk, field.label_from_instance(c)) for c in cameras]


class TransactionFilterForm(forms.Form):
    kind = forms.CharField(required=False)
    q = forms.CharField(required=False, max_length=64)
