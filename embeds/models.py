"""Public embeds of congestion images, generated group web sites, the monthly call quota (docs/product.md §6.10–6.12).

The public URL of a camera or group embed is its `embed_key` (congestion/models.py): deleting the
camera or group deletes the key with the row, re-adding makes a new row and so a new key; an admin
can also give it a new key (embeds.services.embed_key_rotate), which makes the old URL a 404 at once.
The rows here only hold how the embed looks. A generated web site has its own key, deleted when the site is
turned off, so turning it on again gives a new URL.

The tables keep the names they had when these models lived in congestion (`db_table`), so moving
the code moved no data.
"""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import TenantModel


def new_site_key() -> str:
    # 24 random bytes = 192 bits, URL-safe: nobody finds a site by guessing.
    return secrets.token_urlsafe(24)


class View(models.TextChoices):
    VISUALIZATION = "visualization", _("Congestion image")
    PREDICTION = "prediction", _("Congestion prediction")


class SizeMode(models.TextChoices):
    FIXED = "fixed", _("Fixed size (does not scale)")
    SCALE_HD = "scale_hd", _("Scales with the page, at most HD size")
    SCALE = "scale", _("Scales with the page, no size limit")


class LinkMode(models.TextChoices):
    QR_TOP = "qr_top", _("QR code at the top")
    QR_BOTTOM = "qr_bottom", _("QR code at the bottom")
    BUTTON = "button", _("Link button")
    NONE = "none", _("Not shown")


class EmbedSetting(TenantModel):
    """How the embed of one camera or one group looks. Missing row = the defaults below."""

    congestion_camera = models.OneToOneField(
        "congestion.CongestionCamera", null=True, blank=True, on_delete=models.CASCADE, related_name="embed_setting"
    )
    group = models.OneToOneField(
        "congestion.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="embed_setting"
    )
    show_visualization = models.BooleanField(_("show the congestion image"), default=True)
    show_prediction = models.BooleanField(_("show the congestion prediction"), default=True)
    initial_view = models.CharField(_("first view"), max_length=16, choices=View.choices, default=View.VISUALIZATION)
    size_mode = models.CharField(_("size"), max_length=16, choices=SizeMode.choices, default=SizeMode.FIXED)
    auto_refresh = models.BooleanField(_("refresh every minute"), default=True)
    show_count = models.BooleanField(_("show the number of people"), default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "congestion_embedsetting"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(congestion_camera__isnull=False, group__isnull=True))
                | (models.Q(congestion_camera__isnull=True, group__isnull=False)),
                name="congestion_embed_one_owner",
            )
        ]


class GroupSite(TenantModel):
    """A generated public web site of a group. Exists only while the site is on."""

    group = models.OneToOneField("congestion.Group", on_delete=models.CASCADE, related_name="site")
    key = models.CharField(max_length=64, unique=True, default=new_site_key, editable=False)
    name = models.CharField(_("site name"), max_length=64)
    link_mode = models.CharField(_("external link"), max_length=16, choices=LinkMode.choices, default=LinkMode.NONE)
    link_title = models.CharField(_("link title"), max_length=64, blank=True)
    link_description = models.CharField(_("link description"), max_length=200, blank=True)
    link_url = models.URLField(_("link URL"), max_length=500, blank=True)
    show_visualization = models.BooleanField(_("show the congestion image"), default=True)
    show_prediction = models.BooleanField(_("show the congestion prediction"), default=True)
    initial_view = models.CharField(_("first view"), max_length=16, choices=View.choices, default=View.VISUALIZATION)
    auto_refresh = models.BooleanField(_("refresh every minute"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "congestion_groupsite"


class CallCount(TenantModel):
    """Embed image calls of one operator in one calendar month (Asia/Tokyo), as last flushed.

    With Redis the live counter is in Redis and the flusher copies it here; without Redis the
    requests update this row directly (an atomic `n = n + 1`)."""

    month = models.DateField()  # the 1st of the month
    count = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "congestion_callcount"
        constraints = [models.UniqueConstraint(fields=["operator", "month"], name="congestion_one_call_count")]


class QuotaNoticeDismissal(TenantModel):
    """A user hid the "fewer than 5,000 calls left" notice for that month."""

    user = models.ForeignKey("tenants.User", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "congestion_quotanoticedismissal"
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="congestion_one_notice_dismissal")]
