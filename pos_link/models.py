"""POS provider connections (tokens), terminal → camera links and the transactions pulled from them.

A connection holds one set of provider credentials (a Ubiregi OAuth grant or a Smaregi contract
ID + access token), encrypted at rest. A link ties one terminal of a connection to one camera;
one camera may have many terminals. Transactions are unique per operator, provider, contract and
the provider's transaction ID, which is what makes ingestion idempotent.
"""

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedTextField
from tenants.models import TenantModel


class Provider(models.TextChoices):
    UBIREGI = "ubiregi", _("Ubiregi")
    SMAREGI = "smaregi", _("Smaregi")


class LinkStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the first fetch")
    OK = "ok", _("OK")
    TOKEN_REVOKED = "token_revoked", _("Token revoked or expired")
    RATE_LIMITED = "rate_limited", _("Rate limited by the provider")
    PROVIDER_ERROR = "provider_error", _("Provider error")
    MALFORMED = "malformed", _("Unexpected answer from the provider")


class ThumbnailState(models.TextChoices):
    PENDING = "pending", _("Waiting for the recording")
    READY = "ready", _("Ready")
    NONE = "none", _("No recording at that time")


class TransactionKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    CANCEL = "cancel", _("Cancel")
    MODIFY = "modify", _("Modify")
    DELETE = "delete", _("Delete")


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class PosConnection(TenantModel):
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    # Smaregi: the contract ID (契約ID); Ubiregi: the account ID the grant belongs to.
    contract_id = models.CharField(_("contract ID"), max_length=64)
    name = models.CharField(_("account name"), max_length=200, blank=True)
    # Terminal (account / register) IDs the provider reported at connect time: the add form's suggestions.
    terminals = models.JSONField(default=list, blank=True)
    access_token = EncryptedTextField(_("access token"), blank=True)
    refresh_token = EncryptedTextField(_("refresh token"), blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["provider", "contract_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "provider", "contract_id"], name="pos_connection_unique"),
        ]
        verbose_name = _("POS connection")
        verbose_name_plural = _("POS connections")

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.contract_id}"


class PosLink(TenantModel):
    connection = models.ForeignKey(PosConnection, on_delete=models.CASCADE, related_name="links")
    terminal_id = models.CharField(_("terminal ID"), max_length=32)
    camera = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="pos_links")

    status = models.CharField(_("status"), max_length=16, choices=LinkStatus.choices, default=LinkStatus.PENDING)
    status_detail = models.CharField(_("status detail"), max_length=300, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    # Exponential backoff: no poll before this time. Null = due now.
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A poll claims the link until this time, so two workers never poll one terminal at once.
    lease_until = models.DateTimeField(null=True, blank=True)
    # Where the provider's listing continues; saved in the same transaction as the rows it covers.
    cursor = models.TextField(blank=True)
    # Authenticates the provider's pushes to this link's webhook URL.
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["connection__provider", "connection__contract_id", "terminal_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "terminal_id"], name="pos_link_terminal_unique"),
        ]
        verbose_name = _("POS link")
        verbose_name_plural = _("POS links")

    def __str__(self) -> str:
        return f"{self.connection} / {self.terminal_id}"

    @property
    def provider(self) -> str:
        return self.connection.provider


class PosTransaction(TenantModel):
    link = models.ForeignKey(PosLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="transactions")
    camera = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="pos_transactions")
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    contract_id = models.CharField(_("contract ID"), max_length=64)
    provider_transaction_id = models.CharField(_("transaction ID"), max_length=64)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=TransactionKind.choices)
    receipt_no = models.CharField(_("receipt no."), max_length=64, blank=True)
    register_no = models.CharField(_("register no."), max_length=32, blank=True)
    staff = models.CharField(_("staff"), max_length=100, blank=True)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, null=True, blank=True)
    deposit = models.DecimalField(_("deposit"), max_digits=14, decimal_places=2, null=True, blank=True)
    change = models.DecimalField(_("change"), max_digits=14, decimal_places=2, null=True, blank=True)
    entered_at = models.DateTimeField(_("entry time"), null=True, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=100, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    # The camera's frame at `occurred_at`, cut once from the recording segment covering it (storage name).
    thumbnail = models.CharField(max_length=300, blank=True, default="")
    thumbnail_state = models.CharField(max_length=8, choices=ThumbnailState.choices, default=ThumbnailState.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "provider", "contract_id", "provider_transaction_id"], name="pos_transaction_unique"
            ),
        ]
        indexes = [models.Index(fields=["camera", "occurred_at"], name="pos_tx_camera_time")]
        verbose_name = _("POS transaction")
        verbose_name_plural = _("POS transactions")

    def __str__(self) -> str:
        return f"{self.provider} {self.provider_transaction_id}"
