"""Notification settings per room, the notification log, and recording conditions (撮影条件)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantModel


class NotificationType(models.TextChoices):
    """What a room's recipients are mailed about (SPEC §5). The seed's "device operation only" and
    "reservation" types are "not used by this service", so they are not offered."""

    NONE = "none", _("No notifications")
    ALL = "all", _("Everything (motion, recorded video, troubles and recoveries)")
    TROUBLES = "troubles", _("Troubles only (recommended)")
    VIDEO = "video", _("Recorded video only")
    VIDEO_TROUBLES = "video_troubles", _("Recorded video and troubles")


class NotificationEvent(models.TextChoices):
    TROUBLE = "trouble", _("Trouble")
    RECOVERY = "recovery", _("Trouble resolved")
    MOTION = "motion", _("Motion detected")
    VIDEO = "video", _("Recorded video")


DEFAULT_NOTIFICATION_TYPE = NotificationType.TROUBLES


class NotificationSetting(TenantModel):
    """A room's recipients and notification type. A room without a row behaves as the default
    (troubles only, no recipients), so rooms made by other apps need nothing from this one."""

    room = models.OneToOneField("buildings.Room", on_delete=models.CASCADE, related_name="notification_setting")
    notification_type = models.CharField(
        _("notification type"), max_length=16, choices=NotificationType.choices, default=DEFAULT_NOTIFICATION_TYPE
    )
    # A list of normalized, de-duplicated addresses; JSON so SQLite (development) and PostgreSQL both work.
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey("tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("notification setting")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return f"{self.room_id}: {self.notification_type}"


class DeviceNotificationState(TenantModel):
    """The trouble state last mailed about for one device. Claiming a transition is a conditional
    UPDATE of this row, so two workers or a retried task can never mail the same transition twice."""

    device = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="notification_state")
    notified_state = models.CharField(max_length=16, blank=True, default="")  # "" = no trouble mailed
    changed_at = models.DateTimeField(default=timezone.now)


class NotificationLog(TenantModel):
    """One mail to send (or skipped for lack of recipients). Delivery claims `pending → sending`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("No recipients")

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="notification_logs")
    event = models.CharField(max_length=16, choices=NotificationEvent.choices)
    trouble_state = models.CharField(max_length=16, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)
    clip_path = models.CharField(max_length=500, blank=True, default="")
    # Unique per event occurrence: a retried motion task finds its row instead of making a second one.
    dedupe_key = models.CharField(max_length=200, unique=True)
    recipients = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]


class RecordingCondition(TenantModel):
    """A cross-room condition: `camera` records when `sensor` (in another room) fires.

    Same-room triggers are automatic and never stored: `selectors.cameras_triggered_by` derives
    them from the rooms, so they exist for every camera and sensor and cannot be deleted.
    """

    camera = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="recording_conditions")
    sensor = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="triggered_conditions")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("tenants.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["sensor__room__building__name", "sensor__room__name", "sensor__name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["camera", "sensor"], name="recording_condition_unique"),
        ]
        verbose_name = _("recording condition")
        verbose_name_plural = _("recording conditions")

    def __str__(self) -> str:
        return f"{self.sensor_id} → {self.camera_id}"
