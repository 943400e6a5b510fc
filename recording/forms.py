"""Forms of the notification settings and the recording-condition steps."""

from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import (
    DEFAULT_COOLDOWN_MINUTES,
    DEFAULT_NOTIFICATION_TYPE,
    MAX_COOLDOWN_MINUTES,
    MIN_COOLDOWN_MINUTES,
    MotionSource,
    NotificationType,
)
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
    # The range is the service's rule (services.cooldown_error), so the page and the API refuse alike;
    # left empty it keeps the room's.
    cooldown_minutes = forms.IntegerField(
        label=_("Mail cooldown (minutes)"),
        required=False,
        initial=DEFAULT_COOLDOWN_MINUTES,
        widget=forms.NumberInput(attrs={"min": MIN_COOLDOWN_MINUTES, "max": MAX_COOLDOWN_MINUTES, "step": 1}),
        help_text=_(
            "After a motion or recorded-video mail, the room's next ones wait this long and then go together in "
            "one follow-up mail. Trouble and recovery mails are never held. 1 to 1440 minutes (24 hours)."
        ),
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
        return {
            "recipients": "\n".join(setting.recipients),
            "notification_type": setting.notification_type,
            "cooldown_minutes": setting.cooldown_minutes,
        }


class BulkRecipientsForm(forms.Form):
    """The manual's bulk recipients (通知先メールアドレスの一括設定): the rooms' types stay."""

    recipients = NotificationSettingForm.base_fields["recipients"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipients"].help_text = _(
            "One address per line, at most %(limit)d. Duplicates are removed. Every room of the building "
            "gets these addresses; each room's notification type stays as it is."
        ) % {"limit": max_recipients()}

    def clean_recipients(self) -> list[str]:
        return clean_recipients(split_addresses(self.cleaned_data.get("recipients", "")))


class BulkTypeForm(forms.Form):
    """The manual's bulk notification type (一括通知タイプ設定): the rooms' recipients stay."""

    notification_type = NotificationSettingForm.base_fields["notification_type"]


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


class ExportForm(forms.Form):
    """A span of one day to convert to one MP4."""

    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time", "step": 1}))
    end_time = forms.TimeField(label=_("To"), widget=forms.TimeInput(attrs={"type": "time", "step": 1}))

    def clean(self):
        data = super().clean()
        if data.get("start_time") and data.get("end_time") and data["end_time"] <= data["start_time"]:
            self.add_error("end_time", _("The end must be after the start."))
        return data

    def span(self):
        """The span as aware datetimes in the portal's time zone."""
        day = self.cleaned_data["day"]
        start = timezone.make_aware(datetime.combine(day, self.cleaned_data["start_time"]))
        end = timezone.make_aware(datetime.combine(day, self.cleaned_data["end_time"]))
        return start, end


class MotionSettingsForm(forms.Form):
    """The sub-stream URL is write-only like the main one (it may carry the camera's password)."""

    motion_source = forms.ChoiceField(
        label=_("Motion detection"), choices=MotionSource.choices, widget=forms.RadioSelect
    )
    sub_stream_url = forms.CharField(
        label=_("Sub-stream RTSP URL"),
        required=False,
        max_length=1000,
        strip=False,  # a space or line break is refused with a message, never silently removed
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Optional: the camera's second, smaller stream, watched for motion instead of the main one. "
            "It may contain the camera's user and password, so it is never shown. Leave blank to keep it."
        ),
    )
    clear_sub_stream = forms.BooleanField(label=_("Remove the sub-stream URL"), required=False)
    record_audio = forms.BooleanField(
        label=_("Record sound"),
        required=False,
        help_text=_("Untick to record video only (privacy): no sound in recordings, clips or live view."),
    )


class RecordingSettingsForm(forms.Form):
    """The owner's per-camera quota (GB, decimal as the default 128 GB) and export-length limit."""

    quota_gb = forms.DecimalField(
        label=_("Continuous-recording quota (GB)"),
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=2,
        help_text=_("Empty: the default. When it is full the oldest files are deleted and recording goes on."),
    )
    export_max_minutes = forms.IntegerField(
        label=_("Export-length limit (minutes)"),
        required=False,
        help_text=_("The longest span one export may convert, 1 to 1440 (24 hours). Empty: the default."),
    )
    confirm_deletion = forms.BooleanField(
        label=_("Yes, delete the oldest recordings that do not fit in the new quota"), required=False
    )

    def quota_bytes(self) -> int | None:
        gb = self.cleaned_data.get("quota_gb")
        return None if gb is None else int(gb * 10**9)
