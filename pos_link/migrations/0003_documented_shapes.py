"""Sale time and server time, Smaregi's two interfaces, the webhook per contract, void merging.

Existing Smaregi rows were stored with the server time (transactionDateTime) as their time and
terminalTranId as their receipt number; the data step moves them to the sale time
(terminalTranDateTime) and transactionUuid where the stored raw row has them, keeping the server
time in `server_at`. The per-link webhook secret goes: Smaregi pushes per contract, so the secret
now lives on the connection (a new one; the old per-link URLs were never shown to anyone).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import migrations, models

import portal.fields
import pos_link.models

JAPAN = ZoneInfo("Asia/Tokyo")


def _when(value):
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=JAPAN)


def sale_time_forward(apps, schema_editor):
    PosTransaction = apps.get_model("pos_link", "PosTransaction")
    PosConnection = apps.get_model("pos_link", "PosConnection")
    PosConnection.objects.filter(provider="smaregi", interface="").update(interface="smaregi_access")
    for conn in PosConnection.objects.all().only("pk"):
        conn.webhook_secret = pos_link.models.new_webhook_secret()
        conn.save(update_fields=["webhook_secret"])
    rows = PosTransaction.objects.filter(provider="smaregi", server_at__isnull=True)
    for tx in rows.iterator(chunk_size=500):
        raw = tx.raw if isinstance(tx.raw, dict) else {}
        sale = _when(raw.get("terminalTranDateTime"))
        tx.server_at = tx.occurred_at
        if sale is not None:
            tx.occurred_at = sale
        if raw.get("transactionUuid"):
            tx.receipt_no = str(raw["transactionUuid"])[:64]
        if raw.get("charge") not in (None, "") and tx.change is None:
            try:
                from decimal import Decimal

                tx.change = Decimal(str(raw["charge"]))
            except ArithmeticError:
                pass
        tx.save(update_fields=["server_at", "occurred_at", "receipt_no", "change"])


def sale_time_backward(apps, schema_editor):
    PosTransaction = apps.get_model("pos_link", "PosTransaction")
    for tx in PosTransaction.objects.filter(provider="smaregi", server_at__isnull=False).iterator(chunk_size=500):
        tx.occurred_at = tx.server_at
        tx.save(update_fields=["occurred_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("pos_link", "0002_transaction_thumbnail"),
    ]

    operations = [
        migrations.AddField(
            model_name="posconnection",
            name="interface",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "OAuth2 authorization"),
                    ("smaregi_access", "Smaregi API receiving (API受信 Ver.2)"),
                    ("smaregi_platform", "Smaregi Platform API"),
                ],
                default="",
                max_length=20,
                verbose_name="interface",
            ),
        ),
        migrations.AddField(
            model_name="posconnection",
            name="client_id",
            field=models.CharField(blank=True, max_length=100, verbose_name="client ID"),
        ),
        migrations.AddField(
            model_name="posconnection",
            name="client_secret",
            field=portal.fields.EncryptedTextField(blank=True, verbose_name="client secret"),
        ),
        migrations.AddField(
            model_name="posconnection",
            name="webhook_secret",
            field=models.CharField(default=pos_link.models.new_webhook_secret, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="posconnection",
            name="webhook_state",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "No push received yet"),
                    ("ok", "OK"),
                    ("refused", "Refused: wrong secret or contract"),
                    ("malformed", "Refused: not the documented format"),
                ],
                default="",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="posconnection",
            name="webhook_detail",
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name="posconnection",
            name="webhook_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="posconnection",
            name="webhook_success_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RemoveField(
            model_name="poslink",
            name="webhook_secret",
        ),
        migrations.AlterField(
            model_name="poslink",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting for the first fetch"),
                    ("ok", "OK"),
                    ("token_revoked", "Needs re-authorization"),
                    ("no_option", "Stopped: the camera has no POS link option"),
                    ("rate_limited", "Rate limited by the provider"),
                    ("provider_error", "Provider error"),
                    ("malformed", "Unexpected answer from the provider"),
                ],
                default="pending",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="postransaction",
            name="server_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="server time"),
        ),
        migrations.AddField(
            model_name="postransaction",
            name="void_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(sale_time_forward, sale_time_backward),
    ]
