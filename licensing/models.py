"""Licenses of every kind in one model, their assignment history, reminders and proxy-login audit.

A license belongs to two operators at once: the partner that holds it in stock (`partner`) and,
once assigned, the customer that uses it (`customer`). It is therefore not a TenantModel; the
access functions in selectors.py state who may see it.
"""

from datetime import date

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import terms


class LicenseKind(models.TextChoices):
    EDGE_STORAGE = "edge_storage", _("Camera license (edge storage / SD card)")
    CAMERA_DIRECT = "camera_direct", _("Camera license (camera direct, up to 2 cameras)")
    CONGESTION_OPTION = "congestion_option", _("Congestion visualization option")
    POS_OPTION = "pos_option", _("POS link option")
    EMBED_CALLS_ADDON = "embed_calls_addon", _("Embed call add-on (100,000 calls)")


CAMERA_KINDS = (LicenseKind.EDGE_STORAGE, LicenseKind.CAMERA_DIRECT)


class LicenseState(models.TextChoices):
    IN_STOCK = "in_stock", _("In stock")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")


class License(models.Model):
    kind = models.CharField(_("kind"), max_length=24, choices=LicenseKind.choices, db_index=True)
    term_months = models.PositiveSmallIntegerField(_("paid term (months)"))
    partner = models.ForeignKey(
        "tenants.Operator", on_delete=models.PROTECT, related_name="license_stock", verbose_name=_("partner")
    )
    customer = models.ForeignKey(
        "tenants.Operator",
        on_delete=models.PROTECT,
        related_name="licenses",
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    created_at = models.DateTimeField(_("added to stock"), default=timezone.now)
    # The order a stock import brought it in with: importing the same order twice adds nothing.
    order_ref = models.CharField(_("order number"), max_length=40, blank=True, db_index=True)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        "tenants.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    auto_assigned = models.BooleanField(_("assigned automatically"), default=False)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    paid_from = models.DateField(_("paid from"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True, db_index=True)
    # Camera licenses only: the camera it covers (null while it waits for a camera to be registered).
    device = models.ForeignKey(
        "devices.Device",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="licenses",
        verbose_name=_("camera"),
    )
    # The license this one renews (same camera, or same option slot): its expiry needs no auto-assignment.
    renews = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="renewed_by", verbose_name=_("renews")
    )
    # Claimed once by the expiry job (auto-assignment), so a second run or a second worker does nothing.
    expiry_processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["kind", "term_months", "id"]
        verbose_name = _("license")
        verbose_name_plural = _("licenses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=True) | models.Q(assigned_at__isnull=False, ends_on__isnull=False),
                name="license_assigned_has_term",
            ),
            models.CheckConstraint(condition=models.Q(term_months__gte=1), name="license_term_positive"),
        ]
        indexes = [models.Index(fields=["partner", "customer", "kind"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.term_months})"

    @property
    def is_camera_license(self) -> bool:
        return self.kind in CAMERA_KINDS

    @property
    def term(self) -> terms.Term | None:
        if self.starts_on is None:
            return None
        return terms.Term(starts_on=self.starts_on, paid_from=self.paid_from, ends_on=self.ends_on)

    def state_on(self, day: date) -> str:
        if self.customer_id is None:
            return LicenseState.IN_STOCK
        # starts_on is the assignment day, never in the future: only the end matters.
        return LicenseState.ACTIVE if day <= self.ends_on else LicenseState.EXPIRED

    @property
    def expires_at(self):
        return terms.expires_at(self.ends_on) if self.ends_on else None


class AssignmentHistory(models.Model):
    """Who assigned / moved / auto-assigned which license to whom, when. Never edited."""

    class Action(models.TextChoices):
        STOCKED = "stocked", _("Added to stock")
        ASSIGNED = "assigned", _("Assigned")
        AUTO_ASSIGNED = "auto_assigned", _("Assigned automatically on expiry")
        BOUND = "bound", _("Camera set")
        MOVED = "moved", _("Moved to another camera")
        RENEWAL_FOUND = "renewal_found", _("Taken as the renewal on expiry")

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="history")
    partner = models.ForeignKey("tenants.Operator", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("tenants.Operator", on_delete=models.CASCADE, null=True, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    by = models.ForeignKey("tenants.User", on_delete=models.SET_NULL, null=True, related_name="+")
    # Set when a partner user did it while acting as the customer.
    proxy_session = models.ForeignKey("ProxySession", on_delete=models.SET_NULL, null=True, related_name="+")
    device_name = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("assignment history")
        verbose_name_plural = _("assignment history")


class ReminderSent(models.Model):
    """One row per license and reminder step: the unique constraint is what makes "exactly once"."""

    license = models.ForeignKey(License, on_delete=models.CASCADE, related_name="reminders")
    step = models.CharField(max_length=16, choices=[(c, c) for c in terms.STEP_CODES])
    # The term the reminder was about: a renewal that changes nothing here still gets its own row per step.
    ends_on = models.DateField()
    claimed_at = models.DateTimeField(default=timezone.now)
    mailed_to = models.CharField(max_length=1000, blank=True)
    skipped = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["license", "step"], name="reminder_once_per_step")]


class ProxySession(models.Model):
    """A partner user acting as one of its customers ("代理ログイン"). The customer sees these."""

    partner = models.ForeignKey("tenants.Operator", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("tenants.Operator", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey("tenants.User", on_delete=models.SET_NULL, null=True, related_name="+")
    user_email = models.EmailField()  # kept when the partner account is deleted later
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]


class ProxyAction(models.Model):
    """Every change made during a proxy session (method and page), for the audit trail."""

    session = models.ForeignKey(ProxySession, on_delete=models.CASCADE, related_name="actions")
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["at", "id"]
