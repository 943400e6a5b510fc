"""Notification settings per room, the notification log, and recording conditions (撮影条件)."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedTextField
from tenants.models import TenantModel


class NotificationType(models.TextChoices):
    """What a room's recipients are mailed about (docs/product.md §5). The seed's "device operation only" and
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
    # One follow-up mail listing the motion / video mails a room's cooldown held back (docs/product.md §5.3).
    DIGEST = "digest", _("Follow-up of held detections")


DEFAULT_NOTIFICATION_TYPE = NotificationType.TROUBLES
# Motion / recorded-video mails of a room: after one goes, the room's others wait this long and go together
# in one follow-up mail (docs/product.md §5.3). Below a minute would be a flood again; above a day, stale.
DEFAULT_COOLDOWN_MINUTES = 10
MIN_COOLDOWN_MINUTES = 1
MAX_COOLDOWN_MINUTES = 24 * 60


class NotificationSetting(TenantModel):
    """A room's recipients and notification type. A room without a row behaves as the default
    (troubles only, no recipients), so rooms made by other apps need nothing from this one."""

    room = models.OneToOneField("buildings.Room", on_delete=models.CASCADE, related_name="notification_setting")
    notification_type = models.CharField(
        _("notification type"), max_length=16, choices=NotificationType.choices, default=DEFAULT_NOTIFICATION_TYPE
    )
    # A list of normalized, de-duplicated addresses; JSON so SQLite (development) and PostgreSQL both work.
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    cooldown_minutes = models.PositiveIntegerField(_("mail cooldown (minutes)"), default=DEFAULT_COOLDOWN_MINUTES)
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
        HELD = "held", _("Held by the room's cooldown")  # waits for the window's follow-up mail
        BUNDLED = "bundled", _("Listed in a follow-up mail")

    # The follow-up (event "digest") names its first held event's device; it lists every camera of the room.
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
    # The room's cooldown window this mail opened (sent at once), was held on, or follows up.
    window = models.ForeignKey(
        "NotificationWindow", null=True, blank=True, on_delete=models.SET_NULL, related_name="logs"
    )

    class Meta:
        ordering = ["created_at", "id"]


class NotificationWindow(TenantModel):
    """A room's mail cooldown (docs/product.md §5.3). The motion / video mail that opens it goes at once;
    the room's motion / video mails until `ends_at` are held on it, and when it ends one follow-up mail
    lists them. Closing is a conditional UPDATE `open → closed`, so with several workers the follow-up is
    made once; the state lives here, so a worker restarted mid-window loses nothing."""

    class State(models.TextChoices):
        OPEN = "open", _("Collecting")
        CLOSED = "closed", _("Followed up")

    room = models.ForeignKey("buildings.Room", on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [models.Index(fields=["state", "ends_at"], name="recording_window_due")]


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


# ----------------------------------------------------------------------------- media: recording and ingest


class MotionSource(models.TextChoices):
    SERVER = "server", _("Server-side motion detection")
    SENSOR = "sensor", _("The camera's own motion sensor")
    # ONVIF cameras and edge recorder channels: the device's motion events (PullPoint), nothing decoded;
    # server-side motion while the device has no event service or its subscription fails.
    ONVIF = "onvif", _("The camera's ONVIF motion events")


class MotionDecode(models.TextChoices):
    """How the recorder watches a camera for motion right now (docs/user-guide.md, "Server-side motion")."""

    KEYFRAMES = "keyframes", _("Keyframes only")
    FULL = "full", _("Every frame (full decode)")
    NONE = "none", _("Nothing decoded (the camera's own sensor)")


class MotionStream(models.TextChoices):
    MAIN = "main", _("Main stream")
    SUB = "sub", _("Sub-stream")


class MotionNote(models.TextChoices):
    LONG_GOP = "long_gop", _("Keyframes too seldom")
    SUB_STREAM_DOWN = "sub_stream_down", _("Sub-stream stopped")
    EVENTS_DOWN = "events_down", _("ONVIF motion events unavailable")


class CameraRecording(TenantModel):
    """Per-camera recording settings and the camera-list thumbnail. A camera without a row records
    with the defaults (settings RECORDING_QUOTA_BYTES, server-side motion)."""

    camera = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="recording")
    quota_bytes = models.BigIntegerField(_("continuous recording quota (bytes)"), null=True, blank=True)
    # The longest span one export may convert, set by the camera's owner (docs/product.md §4.2: not by a
    # receiver of a shared camera); empty: the RECORDING_EXPORT_MAX_MINUTES default.
    export_max_minutes = models.PositiveIntegerField(_("export-length limit (minutes)"), null=True, blank=True)
    motion_source = models.CharField(
        _("motion detection"), max_length=8, choices=MotionSource.choices, default=MotionSource.SERVER
    )
    thumbnail = models.CharField(max_length=300, blank=True, default="")  # storage name of a JPEG
    thumbnail_at = models.DateTimeField(null=True, blank=True)  # capture time shown under it
    # ONVIF cameras: the URIs the camera gave last (without credentials); re-resolved when recording fails.
    onvif_stream_uri = models.CharField(max_length=500, blank=True, default="")
    onvif_snapshot_uri = models.CharField(max_length=500, blank=True, default="")
    onvif_resolved_at = models.DateTimeField(null=True, blank=True)
    onvif_sub_stream_uri = models.CharField(max_length=500, blank=True, default="")  # the second profile's
    # A lighter second stream for server-side motion (RTSP, through the outbound-connection policy).
    motion_sub_stream_url = EncryptedTextField(_("sub-stream RTSP URL"), blank=True, default="")
    # What the recorder found and does (written by the ingest worker, shown on the camera page).
    motion_decode = models.CharField(max_length=10, blank=True, default="", choices=MotionDecode.choices)
    motion_stream = models.CharField(max_length=4, blank=True, default="", choices=MotionStream.choices)
    motion_gop_seconds = models.FloatField(null=True, blank=True)
    motion_note = models.CharField(max_length=20, blank=True, default="", choices=MotionNote.choices)
    motion_status_at = models.DateTimeField(null=True, blank=True)
    # The device itself (an edge recorder's or a camera's SD card) reports its storage failed (ONVIF event
    # tns1:Device/HardwareFailure/StorageFailure): the "storage" trouble stays until it reports it fixed.
    device_storage_failed = models.BooleanField(default=False)
    # The camera's sound goes into recordings and live view (AAC copied, other codecs transcoded to AAC);
    # off: video only (privacy). The running recorder follows a change within one tick.
    record_audio = models.BooleanField(_("Record sound"), default=True)


class SegmentKind(models.TextChoices):
    CONTINUOUS = "continuous", _("Continuous recording")
    EVENT = "event", _("Event recording")


class RecordingSegment(TenantModel):
    """One ~1-minute MP4 of continuous recording in the default storage. A row exists only for a file
    that was probed playable and stored; deleting goes file first, then the row."""

    camera = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="segments")
    start = models.DateTimeField(db_index=True)
    duration = models.FloatField()
    size = models.BigIntegerField()
    storage_name = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=12, choices=SegmentKind.choices, default=SegmentKind.CONTINUOUS)
    complete = models.BooleanField(default=True)  # False: cut short by an outage or a stop (still playable)
    # Whether the file carries sound (False: the camera has none, or "Record sound" was off); None: not known
    # (stored before this was noted, or the file's header could not be read). The player's mute follows it.
    has_audio = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "id"]
        indexes = [models.Index(fields=["camera", "start"], name="recording_segment_cam_start")]

    @property
    def end(self):
        from datetime import timedelta

        return self.start + timedelta(seconds=self.duration)


class MotionEvent(TenantModel):
    """A detection on a camera (its own sensor, server-side detection, or a recording condition on
    another room's sensor). `clip_state` is claimed by a conditional UPDATE: one clip per event."""

    class Source(models.TextChoices):
        SENSOR = "sensor", _("Motion sensor")
        SERVER = "server", _("Server-side detection")

    class ClipState(models.TextChoices):
        PENDING = "pending", _("Waiting for the recording")
        MAKING = "making", _("Being cut")
        DONE = "done", _("Clip stored")
        FAILED = "failed", _("No recording to cut from")

    camera = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="motion_events")
    triggered_by = models.ForeignKey(
        "devices.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the sensor (or camera) that fired; another room's for a recording condition
    source = models.CharField(max_length=8, choices=Source.choices)
    at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField()
    thumbnail = models.CharField(max_length=300, blank=True, default="")
    clip_state = models.CharField(max_length=8, choices=ClipState.choices, default=ClipState.PENDING, db_index=True)
    clip_claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]


class EventClip(TenantModel):
    """An event recording: pre-roll + motion + post-roll cut out of the segments by stream copy."""

    camera = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="event_clips")
    motion = models.OneToOneField(MotionEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="clip")
    motion_at = models.DateTimeField(db_index=True)
    start = models.DateTimeField()
    duration = models.FloatField()
    size = models.BigIntegerField()
    storage_name = models.CharField(max_length=300, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["motion_at", "id"]


class Export(TenantModel):
    """A span of continuous recording converted to one MP4 for download. A user keeps at most 10, each
    for 7 days (the oldest goes when an 11th is made)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Converting")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    camera = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="exports")
    user = models.ForeignKey("tenants.User", on_delete=models.CASCADE, related_name="recording_exports")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    storage_name = models.CharField(max_length=300, blank=True, default="")
    size = models.BigIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]


class IngestLease(TenantModel):
    """Which ingest worker records a camera. Taking it is a conditional UPDATE (free or expired →
    mine), renewing one requires still holding it, so two workers never record the same camera."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for a worker")
        STARTING = "starting", _("Starting")
        RECORDING = "recording", _("Recording")
        OUTAGE = "outage", _("Camera unreachable")
        STOPPED = "stopped", _("Stopped")

    camera = models.OneToOneField("devices.Device", on_delete=models.CASCADE, related_name="ingest_lease")
    worker_id = models.CharField(max_length=100, blank=True, default="", db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.WAITING)
    message = models.CharField(max_length=300, blank=True, default="")
    enabled = models.BooleanField(default=True)  # False: the supervisor found the camera ineligible
    disabled_reason = models.CharField(max_length=100, blank=True, default="")
    last_segment_at = models.DateTimeField(null=True, blank=True)
    bitrate_bps = models.FloatField(default=0.0)
    restarts = models.PositiveIntegerField(default=0)
    live_requested_at = models.DateTimeField(null=True, blank=True)  # a viewer wants live HLS
    updated_at = models.DateTimeField(default=timezone.now)


class IngestWorker(models.Model):
    """Heartbeat of one `manage.py run_ingest` process (system-wide; no operator)."""

    worker_id = models.CharField(max_length=100, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    cameras = models.PositiveIntegerField(default=0)
    capacity = models.PositiveIntegerField(default=0)  # --capacity, a hard cap (0: by CPU alone)
    # Measured CPU of the worker's process tree (Python + every ffmpeg child) over the last ticks, as a
    # fraction of its cores; it takes cameras while under cpu_limit and gives some back when over.
    cpu_load = models.FloatField(default=0.0)
    cpu_limit = models.FloatField(default=0.0)
    cores = models.PositiveIntegerField(default=0)
    # Where this process serves its cameras' live feed (workers/live.py, LIVE_FEED_BIND): host:port.
    live_address = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["worker_id"]


class TroubleRefresh(TenantModel):
    """ "Refresh trouble info" for a whole building: a task asks each of its cameras in turn; the page and
    the API show how far it got."""

    class State(models.TextChoices):
        RUNNING = "running", _("Checking")
        DONE = "done", _("Done")

    building = models.ForeignKey("buildings.Building", on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey("tenants.User", null=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    troubles = models.PositiveIntegerField(default=0)  # cameras found in trouble so far
    # Cameras not asked because the license stops their remote maintenance (docs/product.md §7.8), each
    # {"id", "name", "reason"} with reason media_selectors.LICENSE_EXPIRED or LICENSE_MISSING; they count in `done`.
    skipped = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
