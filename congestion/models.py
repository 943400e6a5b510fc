"""Congestion visualization (docs/product.md §6): registered cameras, analyses, public images, groups, alerts,
business hours and predictions.

Images (backgrounds, public images, alert / off-hours images, monitoring frames) live in the default
storage; the rows keep their storage names. Every model is tenant-owned: request-facing code
reaches them through congestion/selectors.py.
"""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantModel

from . import rules

LEVELS = (1, 2, 3, 4, 5)
DEFAULT_LEVEL = 3
MAX_GROUP_CAMERAS = 50
MAX_GROUPS = 100
MAX_ALERT_RECIPIENTS = 5
MAX_THRESHOLD = 999


def new_embed_key() -> str:
    # Placeholder for the embeds issue: re-adding a camera makes a new row, so a new key (docs/product.md §6.10).
    return secrets.token_urlsafe(24)


class Mode(models.TextChoices):
    STANDARD = "standard", _("Standard (person icon, up to about 15 m)")
    DETAILED = "detailed", _("Detailed (pose silhouette, up to about 7 m)")
    WIDE = "wide", _("Wide area (dense crowds at 10 to 30 m)")


class BackgroundPattern(models.TextChoices):
    FIXED = "fixed", _("Fixed")
    DAY_NIGHT = "day_night", _("Day / night (08:00 to 17:00 and the rest)")


class Trouble(models.TextChoices):
    NONE = "", _("No trouble")
    NO_ANSWER = "no_answer", _("The camera did not answer: the last analysis was skipped")
    BAD_FRAME = "bad_frame", _("The camera's picture could not be analysed: the last analysis was skipped")


class CongestionCamera(TenantModel):
    """A camera registered in the congestion console. Deleting and re-adding makes a new row."""

    camera = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="congestion")
    # Renaming here does not rename the device (docs/product.md §6.13).
    display_name = models.CharField(_("camera name"), max_length=64)
    enabled = models.BooleanField(_("analysis enabled"), default=True)
    mode = models.CharField(_("AI mode"), max_length=16, choices=Mode.choices, default=Mode.STANDARD)
    level = models.PositiveSmallIntegerField(_("detection level"), default=DEFAULT_LEVEL)
    background_pattern = models.CharField(
        _("background pattern"), max_length=16, choices=BackgroundPattern.choices, default=BackgroundPattern.FIXED
    )
    background_day = models.CharField(max_length=300, blank=True, default="")  # the fixed one too
    background_night = models.CharField(max_length=300, blank=True, default="")
    blur_level = models.PositiveSmallIntegerField(_("blur level"), default=3)
    # A camera's still-image URL where it has one (http(s), or file: for the demo's recorded footage);
    # without it one frame is taken from the camera's stream.
    snapshot_url = models.CharField(_("snapshot URL"), max_length=500, blank=True, default="")
    hours_enabled = models.BooleanField(_("use business hours"), default=False)
    offhours_image = models.CharField(max_length=300, blank=True, default="")
    embed_key = models.CharField(max_length=64, unique=True, default=new_embed_key, editable=False)
    trouble = models.CharField(max_length=16, choices=Trouble.choices, default=Trouble.NONE, blank=True)
    trouble_since = models.DateTimeField(null=True, blank=True)
    prediction_computed_at = models.DateTimeField(null=True, blank=True)
    prediction_days = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["display_name", "id"]
        verbose_name = _("congestion camera")
        verbose_name_plural = _("congestion cameras")

    def __str__(self) -> str:
        return self.display_name

    @property
    def effective_level(self) -> int:
        """The detection level analysis uses: the chosen one in detailed mode only (manual 003); standard
        and wide-area analyse at the default level, whatever level is left over from an earlier mode."""
        return self.level if self.mode == Mode.DETAILED else DEFAULT_LEVEL


class Analysis(TenantModel):
    """One analysed minute. The unique (camera, minute) row is the claim: a second task for the same
    minute, from a repeated beat or another worker, fails to insert it and does nothing."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        NO_ANSWER = "no_answer", _("Camera did not answer")
        BAD_FRAME = "bad_frame", _("The camera's picture could not be analysed")

    congestion_camera = models.ForeignKey(CongestionCamera, on_delete=models.CASCADE, related_name="analyses")
    minute = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    captured_at = models.DateTimeField(null=True, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField(null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-minute"]
        constraints = [
            models.UniqueConstraint(fields=["congestion_camera", "minute"], name="congestion_one_per_minute")
        ]


class PublicImage(TenantModel):
    """The latest public image (background + silhouettes only) of a camera, in storage."""

    congestion_camera = models.OneToOneField(CongestionCamera, on_delete=models.CASCADE, related_name="public_image")
    image = models.CharField(max_length=300)
    count = models.PositiveIntegerField(default=0)
    captured_at = models.DateTimeField()
    analysed_at = models.DateTimeField()


class MonitoringFrame(TenantModel):
    """A raw frame used for an analysis, for admins only; kept 24 hours."""

    congestion_camera = models.ForeignKey(CongestionCamera, on_delete=models.CASCADE, related_name="monitoring")
    image = models.CharField(max_length=300)
    captured_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-captured_at"]


def _hand_default_to_another_camera(collector, field, sub_objs, using):
    """on_delete of Group.default_camera. Removing a camera from the congestion list is refused while
    it is a group's default (services.camera_remove); but when its device, room or building is deleted
    the camera goes with it, and the group's default passes to another of its cameras that stays. A
    group left with no camera goes with its last one."""
    leaving = {obj.pk for obj in collector.data.get(CongestionCamera, ())}
    for group in sub_objs:
        heir = group.cameras.exclude(pk__in=leaving).order_by("pk").first()
        if heir is None:
            collector.collect(
                [group],
                source=field.remote_field.model,
                source_attr=field.name,
                nullable=False,
                fail_on_restricted=False,
            )
        else:
            collector.add_field_update(field, heir, [group])


class Group(TenantModel):
    name = models.CharField(_("group name"), max_length=64)
    cameras = models.ManyToManyField(CongestionCamera, related_name="groups", blank=True)
    default_camera = models.ForeignKey(
        CongestionCamera,
        on_delete=_hand_default_to_another_camera,
        related_name="default_of",
        verbose_name=_("default camera"),
    )
    embed_key = models.CharField(max_length=64, unique=True, default=new_embed_key, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class AlertSetting(TenantModel):
    """Congestion alert of one camera or one group: 2 or 3 steps (空 / 混雑, 空 / やや混雑 / 混雑).

    `thresholds` holds steps − 1 ascending counts: step 2 starts at thresholds[0], step 3 at
    thresholds[1]. `images[i]` is step i+1's image: "" none, "template" the built-in one, else a
    storage name.
    """

    congestion_camera = models.OneToOneField(
        CongestionCamera, null=True, blank=True, on_delete=models.CASCADE, related_name="alert"
    )
    group = models.OneToOneField(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="alert")
    steps = models.PositiveSmallIntegerField(_("steps"), default=2)
    thresholds = models.JSONField(default=list)
    image_enabled = models.BooleanField(_("show alert images"), default=False)
    images = models.JSONField(default=list, blank=True)
    mail_enabled = models.BooleanField(_("send alert mail"), default=False)
    recipients = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(congestion_camera__isnull=False, group__isnull=True))
                | (models.Q(congestion_camera__isnull=True, group__isnull=False)),
                name="congestion_alert_one_owner",
            )
        ]


class AlertState(TenantModel):
    """The last step seen for a camera or group; mails are claimed by a conditional update of it."""

    congestion_camera = models.OneToOneField(
        CongestionCamera, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_state"
    )
    group = models.OneToOneField(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="alert_state")
    step = models.PositiveSmallIntegerField(default=1)
    changed_at = models.DateTimeField(default=timezone.now)


class AlertMail(TenantModel):
    """One alert mail to send, written with the crossing that calls for it and sent after commit by
    the `congestion.send_alert_mail` task. Its status is the claim: only the worker that moves it
    from pending to sending mails it, so a retried or duplicated task never mails twice."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")

    congestion_camera = models.ForeignKey(
        CongestionCamera, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    recipients = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)


class HoursRule(TenantModel):
    """One line of a camera's business hours. Times are on the 30-hour day that starts at 06:00."""

    class Kind(models.TextChoices):
        BASE = "base", _("Base hours")
        SPECIAL = "special", _("Special opening hours")
        CLOSED = "closed", _("Special closed day")

    class Repeat(models.TextChoices):
        ONCE = "once", _("Once (that date)")
        YEARLY = "yearly", _("Every year (same month and day)")
        MONTHLY = "monthly", _("Every month (same day)")
        NTH_WEEKDAY = "nth_weekday", _("Every month on the Nth weekday")

    congestion_camera = models.ForeignKey(CongestionCamera, on_delete=models.CASCADE, related_name="hours_rules")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    weekdays = models.JSONField(default=list, blank=True)  # base: 0 = Monday … 6 = Sunday
    holiday = models.BooleanField(_("public holidays"), default=False)  # base: applies on public holidays
    start = models.TimeField(_("from"), null=True, blank=True)
    end = models.TimeField(_("until"), null=True, blank=True)
    repeat = models.CharField(_("repeat"), max_length=16, choices=Repeat.choices, blank=True, default="")
    date = models.DateField(_("date"), null=True, blank=True)
    nth = models.PositiveSmallIntegerField(_("week"), null=True, blank=True)
    weekday = models.PositiveSmallIntegerField(_("weekday"), null=True, blank=True)

    class Meta:
        ordering = ["kind", "id"]

    def as_line(self) -> rules.HoursLine:
        """The stored line as the pure decision object `rules.is_open` and the overlap checks take."""
        return rules.HoursLine(
            kind=self.kind,
            start=self.start,
            end=self.end,
            weekdays=tuple(self.weekdays),
            holiday=self.holiday,
            repeat=self.repeat,
            date=self.date,
            nth=self.nth,
            weekday=self.weekday,
        )


class Prediction(TenantModel):
    """Average count per weekday (0 = Monday) and 15-minute slot (0 = 00:00–00:14 … 95)."""

    congestion_camera = models.ForeignKey(CongestionCamera, on_delete=models.CASCADE, related_name="predictions")
    weekday = models.PositiveSmallIntegerField()
    slot = models.PositiveSmallIntegerField()
    average = models.FloatField()

    class Meta:
        ordering = ["weekday", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["congestion_camera", "weekday", "slot"], name="congestion_one_prediction")
        ]


class MailSetting(TenantModel):
    """The operator's own sender address for congestion alert mails; without one (or with it blank) the
    mails go out from DEFAULT_FROM_EMAIL. One row per operator."""

    from_email = models.EmailField(_("sender address of alert mails"), max_length=254, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["operator"], name="congestion_one_mail_setting")]
