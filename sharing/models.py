"""Camera sharing between operators (docs/product.md §4) and per-user camera scopes inside one operator.

A `CameraShare` belongs to the owning operator (`operator`, as every tenant model) and names the
receiving operator. It is visible to both sides and to nobody else; what the receiver may do with the
camera is decided by `devices.selectors` (read only, never write), which gets the approved shares and
the per-user limits from `sharing.selectors` through `devices.visibility`.

The tables keep the names they had when these models lived in `devices` (migration
sharing/0001_initial moved them without touching the data).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import Operator, TenantModel


class ShareStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for approval")
    APPROVED = "approved", _("Shared")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled by the owner")
    REMOVED = "removed", _("Removed by the receiver")


OPEN_STATUSES = (ShareStatus.REQUESTED, ShareStatus.APPROVED)


class CameraShare(TenantModel):
    """One camera offered by its owner (`operator`) to another operator (`receiver`).

    A request for several cameras makes one row per camera, so each can be approved, cancelled
    or removed on its own. A finished share (declined / cancelled / removed) stays for the record;
    sharing the same camera again makes a new row.
    """

    receiver = models.ForeignKey(
        Operator, on_delete=models.CASCADE, related_name="+", db_index=True, verbose_name=_("shared with")
    )
    camera = models.ForeignKey(
        "devices.Device", on_delete=models.CASCADE, related_name="shares", verbose_name=_("camera")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ShareStatus.choices, default=ShareStatus.REQUESTED, db_index=True
    )
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey("tenants.User", null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey("tenants.User", null=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey("tenants.User", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "devices_camerashare"
        ordering = ["-requested_at", "-id"]
        verbose_name = _("camera share")
        verbose_name_plural = _("camera shares")
        constraints = [
            # At most one open share of a camera to one receiver: a double request or a double approval
            # racing each other fails here instead of making two rows.
            models.UniqueConstraint(
                fields=["camera", "receiver"],
                condition=Q(status__in=["requested", "approved"]),
                name="one_open_share_per_camera_and_receiver",
            ),
            models.CheckConstraint(condition=~Q(operator=models.F("receiver")), name="share_not_to_oneself"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id} → {self.receiver_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ShareAction(models.TextChoices):
    REQUEST = "request", _("Requested")
    APPROVE = "approve", _("Approved")
    DECLINE = "decline", _("Declined")
    CANCEL = "cancel", _("Cancelled")
    REMOVE = "remove", _("Removed")


class ShareAuditEvent(TenantModel):
    """One step of a share, readable by both sides. `operator` is the owner, like its share's.

    Names are copied at the time of the event so the log still reads right after a rename or a
    deleted account.
    """

    share = models.ForeignKey(CameraShare, on_delete=models.CASCADE, related_name="events")
    receiver = models.ForeignKey(Operator, on_delete=models.CASCADE, related_name="+", db_index=True)
    action = models.CharField(_("action"), max_length=16, choices=ShareAction.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey("tenants.User", null=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=254, blank=True)
    actor_operator_name = models.CharField(max_length=200, blank=True)
    camera_name = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "devices_shareauditevent"
        ordering = ["-at", "-id"]


class UserCameraScope(TenantModel):
    """Limits one viewer / device operator to chosen rooms and cameras of what the operator sees.

    No row: the user sees every camera of the operator (the default). A row with nothing chosen:
    the user sees no camera. Keeping "restricted" as the row itself (not as its choices) means a
    deleted room or camera can never widen a restricted user's view to everything.
    """

    user = models.OneToOneField("tenants.User", on_delete=models.CASCADE, related_name="camera_scope")
    rooms = models.ManyToManyField("buildings.Room", blank=True, related_name="+", verbose_name=_("rooms"))
    cameras = models.ManyToManyField("devices.Device", blank=True, related_name="+", verbose_name=_("cameras"))
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey("tenants.User", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "devices_usercamerascope"
        verbose_name = _("camera access limit")
        verbose_name_plural = _("camera access limits")
