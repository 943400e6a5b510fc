"""POS provider connections (tokens), terminal → camera links and the transactions pulled from them.

A connection holds one set of provider credentials (a Ubiregi OAuth grant, a Smaregi contract ID +
access token for API受信 Ver.2, or a Smaregi contract ID + client ID / secret for the Platform
API), encrypted at rest, and the secret of its webhook URL (Smaregi's API送信 pushes per
contract). A link ties one terminal of a connection to one camera; one camera may have many
terminals. Transactions are unique per operator, provider, contract and
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


class Interface(models.TextChoices):
    """How a connection talks to its provider (Ubiregi has one: blank)."""

    NONE = "", _("OAuth2 authorization")
    SMAREGI_ACCESS = "smaregi_access", _("Smaregi API receiving (API受信 Ver.2)")
    SMAREGI_PLATFORM = "smaregi_platform", _("Smaregi Platform API")


class LinkStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the first fetch")
    OK = "ok", _("OK")
    # A revoked or expired grant, wrong credentials, or (Ubiregi 402) an ended subscription: only the
    # operator can fix it, so the link is not retried until new credentials are saved.
    TOKEN_REVOKED = "token_revoked", _("Needs re-authorization")
    NO_OPTION = "no_option", _("Stopped: the camera has no POS link option")
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


class WebhookState(models.TextChoices):
    NONE = "", _("No push received yet")
    OK = "ok", _("OK")
    REFUSED = "refused", _("Refused: wrong secret or contract")
    MALFORMED = "malformed", _("Refused: not the documented format")


class PosConnection(TenantModel):
    provider = models.CharField(_("provider"), max_length=16, choices=Provider.choices)
    interface = models.CharField(_("interface"), max_length=20, choices=Interface.choices, default="", blank=True)
    # Smaregi: the contract ID (契約ID); Ubiregi: the account ID the grant belongs to.
    contract_id = models.CharField(_("contract ID"), max_length=64)
    name = models.CharField(_("account name"), max_length=200, blank=True)
    # Terminals the provider listed at connect time ([{"id", "name"}]; Ubiregi: the account and its
    # children): the add form's choices.
    terminals = models.JSONField(default=list, blank=True)
    access_token = EncryptedTextField(_("access token"), blank=True)
    refresh_token = EncryptedTextField(_("refresh token"), blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    # Smaregi Platform API: the app's client ID / secret for this contract.
    client_id = models.CharField(_("client ID"), max_length=100, blank=True)
    client_secret = EncryptedTextField(_("client secret"), blank=True)
    # The webhook URL carries this secret (Smaregi's API送信 setting takes a URL only).
    webhook_secret = models.CharField(max_length=64, default=new_webhook_secret, editable=False)
    webhook_state = models.CharField(max_length=12, choices=WebhookState.choices, default="", blank=True)
    webhook_detail = models.CharField(max_length=300, blank=True)
    webhook_at = models.DateTimeField(null=True, blank=True)
    webhook_success_at = models.DateTimeField(null=True, blank=True)
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

    def terminal_choices(self) -> list[tuple[str, str]]:
        """(id, label) of the terminals the provider listed; older rows stored bare ids."""
        out = []
        for item in self.terminals or []:
            tid, name = (
                (str(item.get("id", "")), str(item.get("name") or "")) if isinstance(item, dict) else (str(item), "")
            )
            if tid:
                out.append((tid, f"{name} ({tid})" if name else tid))
        return out


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
    # The sale time at the register (Smaregi terminalTranDateTime, Ubiregi paid_at): the list, the
    # thumbnail and the seek use it. `server_at` is when the provider's server received it.
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    server_at = models.DateTimeField(_("server time"), null=True, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=TransactionKind.choices)
    receipt_no = models.CharField(_("receipt no."), max_length=64, blank=True)
    register_no = models.CharField(_("register no."), max_length=32, blank=True)
    staff = models.CharField(_("staff"), max_length=100, blank=True)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, null=True, blank=True)
    deposit = models.DecimalField(_("deposit"), max_digits=14, decimal_places=2, null=True, blank=True)
    change = models.DecimalField(_("change"), max_digits=14, decimal_places=2, null=True, blank=True)
    entered_at = models.DateTimeField(_("entry time"), null=True, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=100, blank=True)
    # Smaregi: the voiding record (disposeDivision 2) that turned this sale into a cancellation.
    void_id = models.CharField(max_length=64, blank=True)
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
