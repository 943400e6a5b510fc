"""Forms of the congestion pages. They parse input; the services decide what is allowed."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LEVELS, BackgroundPattern, HoursRule, Mode
from .services.images import (
    ALERT_IMAGE_MAX,
    ALERT_IMAGE_MAX_BYTES,
    BACKGROUND_MAX,
    BACKGROUND_MAX_BYTES,
    jpeg_upload_read,
)

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
LEVEL_CHOICES = [(n, str(n)) for n in LEVELS]


class JpegField(forms.FileField):
    """A JPEG upload; cleaned_data holds its bytes (or None). Oversize files and images are refused
    from the file's size and the JPEG header, before the file is read whole or anything is decoded."""

    def __init__(self, *, max_size=ALERT_IMAGE_MAX, max_bytes=ALERT_IMAGE_MAX_BYTES, **kwargs):
        self.max_size, self.max_bytes = max_size, max_bytes
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        return jpeg_upload_read(upload, max_size=self.max_size, max_bytes=self.max_bytes)


class CameraAddForm(forms.Form):
    camera = forms.TypedChoiceField(label=_("Camera"), coerce=int)

    def __init__(self, *args, cameras=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["camera"].choices = [(c.pk, f"{c.name} ({c.room.name})") for c in cameras]


class CameraSettingsForm(forms.Form):
    display_name = forms.CharField(
        label=_("Camera name"),
        max_length=64,
        help_text=_("Changing it here does not rename the camera in the camera service."),
    )
    enabled = forms.BooleanField(label=_("Analysis enabled"), required=False)
    mode = forms.ChoiceField(label=_("AI mode"), choices=Mode.choices)
    level = forms.TypedChoiceField(
        label=_("Detection level (detailed mode)"),
        choices=LEVEL_CHOICES,
        coerce=int,
        required=False,  # detailed mode only: hidden and ignored for standard and wide-area
        empty_value=None,
        help_text=_(
            "Level 3 suits most places. Higher levels find more people in the dark or in crowds, "
            "and more false detections."
        ),
    )
    background_pattern = forms.ChoiceField(label=_("Background"), choices=BackgroundPattern.choices)


class BackgroundForm(forms.Form):
    which = forms.ChoiceField(
        label=_("Background to set"), choices=[("day", _("Fixed / day")), ("night", _("Night"))], initial="day"
    )
    source = forms.ChoiceField(
        label=_("Source"),
        choices=[("capture", _("Capture the camera's current image")), ("upload", _("Upload an image"))],
        initial="capture",
        widget=forms.RadioSelect,
    )
    blur_level = forms.TypedChoiceField(
        label=_("Blur level (captured image)"), choices=LEVEL_CHOICES, coerce=int, initial=3
    )
    image = JpegField(label=_("Image (JPEG)"), required=False, max_size=BACKGROUND_MAX, max_bytes=BACKGROUND_MAX_BYTES)

    def clean(self):
        data = super().clean()
        if data.get("source") == "upload" and not data.get("image") and "image" not in self.errors:
            self.add_error("image", _("Choose a JPEG file to upload."))
        return data


IMAGE_ACTIONS = [
    ("keep", _("Keep the current image")),
    ("none", _("No image")),
    ("template", _("Use the built-in template")),
    ("upload", _("Upload a JPEG")),
]


class AlertForm(forms.Form):
    steps = forms.TypedChoiceField(label=_("Steps"), choices=[(2, _("2 steps")), (3, _("3 steps"))], coerce=int)
    threshold_1 = forms.IntegerField(label=_("Crowded from (people)"), required=False)
    threshold_2 = forms.IntegerField(label=_("Crowded from, 3rd step (people)"), required=False)
    image_enabled = forms.BooleanField(label=_("Show alert images instead of the public image"), required=False)
    image_action_1 = forms.ChoiceField(label=_("Step 1 image"), choices=IMAGE_ACTIONS, initial="keep")
    image_file_1 = JpegField(label=_("Step 1 file"), required=False)
    image_action_2 = forms.ChoiceField(label=_("Step 2 image"), choices=IMAGE_ACTIONS, initial="keep")
    image_file_2 = JpegField(label=_("Step 2 file"), required=False)
    image_action_3 = forms.ChoiceField(label=_("Step 3 image"), choices=IMAGE_ACTIONS, initial="keep")
    image_file_3 = JpegField(label=_("Step 3 file"), required=False)
    mail_enabled = forms.BooleanField(label=_("Send alert mail"), required=False)
    recipients = forms.CharField(
        label=_("Mail addresses (one per line, at most 5)"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        images: list = []
        for n in (1, 2, 3):
            action = data[f"image_action_{n}"]
            upload = data.get(f"image_file_{n}")
            if action == "upload" and upload is None and f"image_file_{n}" not in self.errors:
                self.add_error(f"image_file_{n}", _("Choose a JPEG file to upload."))
            images.append({"keep": None, "none": "", "template": "template"}.get(action, upload))
        return {
            "steps": data["steps"],
            "thresholds": [data.get("threshold_1"), data.get("threshold_2")][: data["steps"] - 1],
            "image_enabled": data["image_enabled"],
            "images": images,
            "mail_enabled": data["mail_enabled"],
            "recipients": data["recipients"].split(),
        }


class HoursRuleForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=HoursRule.Kind.choices)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays (base hours)"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    holiday = forms.BooleanField(label=_("Public holidays (base hours)"), required=False)
    start = forms.TimeField(label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(
        label=_("Until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Days start at 06:00: Monday 23:00 until 05:00 means Monday 23:00 to Tuesday 05:00."),
    )
    repeat = forms.ChoiceField(
        label=_("Repeat (special hours and closed days)"),
        choices=[("", "—"), *HoursRule.Repeat.choices],
        required=False,
    )
    date = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    nth = forms.TypedChoiceField(
        label=_("Week of the month"),
        choices=[("", "—")] + [(n, str(n)) for n in range(1, 6)],
        coerce=int,
        required=False,
        empty_value=None,
    )
    weekday = forms.TypedChoiceField(
        label=_("Weekday"), choices=[("", "—"), *WEEKDAYS], coerce=int, required=False, empty_value=None
    )


class OffhoursImageForm(forms.Form):
    image = JpegField(label=_("Off-hours image (JPEG, at most 1920×1280 pixels and 1 MB)"), required=False)
    use_default = forms.BooleanField(label=_("Use the default image"), required=False)


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=64)
    cameras = forms.TypedMultipleChoiceField(
        label=_("Cameras (at most 50)"), coerce=int, widget=forms.CheckboxSelectMultiple, required=False
    )
    default_camera = forms.TypedChoiceField(
        label=_("Default camera"),
        coerce=int,
        help_text=_("Its image and business hours are used by the group's embed."),
    )

    def __init__(self, *args, cameras=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(c.pk, c.display_name) for c in cameras]
        self.fields["cameras"].choices = choices
        self.fields["default_camera"].choices = choices


class MonthForm(forms.Form):
    month = forms.RegexField(
        label=_("Month"), regex=r"^\d{4}-(0[1-9]|1[0-2])$", widget=forms.TextInput(attrs={"type": "month"})
    )

    def year_month(self) -> tuple[int, int]:
        year, month = self.cleaned_data["month"].split("-")
        return int(year), int(month)


class AlertSenderForm(forms.Form):
    from_email = forms.EmailField(
        label=_("Sender address of alert mails"),
        max_length=254,
        required=False,
        help_text=_(
            "Leave it empty to send from the portal's address. Use an address the portal's mail server may "
            "send as, or the mails may be refused or land in spam."
        ),
    )
