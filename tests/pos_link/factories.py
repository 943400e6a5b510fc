"""POS link objects made directly (no provider call), for isolation walks and view tests."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from licensing.models import LicenseKind
from pos_link.models import PosConnection, PosLink, PosTransaction, Provider
from tests.licensing.factories import give_camera_licenses


def give_pos_options(operator, count: int = 1):
    return give_camera_licenses(operator, count=count, kind=LicenseKind.POS_OPTION)


def link_of(tenant, *, provider: str = Provider.SMAREGI, contract_id: str | None = None, terminal_id: str = "1"):
    connection, _ = PosConnection.objects.get_or_create(
        operator=tenant.operator,
        provider=provider,
        contract_id=contract_id or f"ct-{tenant.operator.pk}",
        defaults={"access_token": "stored-secret-token-value", "name": f"{tenant.operator.name} shop"},
    )
    link, _ = PosLink.objects.get_or_create(
        operator=tenant.operator, connection=connection, terminal_id=terminal_id, defaults={"camera": tenant.camera}
    )
    return link


def transaction_of(tenant, *, provider_id: str = "9001", **fields):
    link = link_of(tenant)
    values = {
        "operator": tenant.operator,
        "link": link,
        "camera": link.camera,
        "provider": link.connection.provider,
        "contract_id": link.connection.contract_id,
        "provider_transaction_id": provider_id,
        "occurred_at": timezone.now() - timedelta(minutes=5),
        "kind": "payment",
        "receipt_no": f"R{provider_id}",
        "register_no": link.terminal_id,
        "staff": "Tanaka",
        "total": Decimal("550"),
        "deposit": Decimal("1000"),
        "change": Decimal("450"),
        "payment_method": "cash",
    }
    values.update(fields)
    return PosTransaction.objects.create(**values)
