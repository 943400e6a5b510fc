"""Forms of the notification settings and the recording-condition steps."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DEFAULT_NOTIFICATION_TYPE, NotificationType
from .rules import clean_recipients, max_recipients, split_addresses


class NotificationSettingForm(forms.Form):
    recipients = forms.CharField(
        label=_("Recipient email addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "off", "spellcheck": "false"}),
    )
    notification_type = forms.ChoiceField(
        label=_("Notification type"),
        choices=NotificationType.choices,
        initial=DEFAULT_NOTIFICATION_TYPE,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipients"].help_text = _(
            "One address per line, at most %(limit)d. Duplicates are removed. "
            "“Troubles only” is recommended: “Everything” mails every motion detection with the recorded video."
        ) % {"limit": max_recipients()}

    def clean_recipients(self) -> list[str]:
        return clean_recipients(split_addresses(self.cleaned_data.get("recipients", "")))

    @staticmethod
    def initial_for(setting) -> dict:
        return {"recipients": "\n".join(setting.recipients), "notification_type": setting.notification_type}


class ConditionRoomForm(forms.Form):
    room = forms.TypedChoiceField(label=_("Room of the triggering sensor"), coerce=int)

    def __init__(self, *args, rooms, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].choices = [(r.pk, f"{r.building.name} / {r.name}") for r in rooms]


class ConditionSensorForm(forms.Form):
    sensor = forms.TypedChoiceField(label=_("Triggering motion sensor"), coerce=int)

    def __init__(self, *args, sensors, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sensor"].choices = [(s.pk, s.name) for s in sensors]
