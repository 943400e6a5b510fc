"""Demo POS data, called by seed_demo: the demo customer's first two cameras hold POS options and
are linked, against the fake servers `manage.py pos_fake_servers` runs, to a Ubiregi store account
(OAuth2 grant), a Smaregi register over API受信 Ver.2 (contract ID + access token) and a Smaregi
register over the Platform API (client ID / secret). The credentials are the fakes' published demo
ones (DEMO below), the same in both processes; running it again resets them and changes nothing else.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from devices.models import Device, DeviceKind
from licensing import selectors, services
from licensing.models import LicenseKind
from pos_link.models import Interface, PosConnection, PosLink, Provider
from tenants.models import Operator

CUSTOMER = "Demo Mansion Co."
UBIREGI_ACCOUNT, UBIREGI_CHILD = "31", "32"
UBIREGI_ACCESS_TOKEN = "demo-ubiregi-access-token"  # noqa: S105 - the fake's published demo grant
UBIREGI_REFRESH_TOKEN = "demo-ubiregi-refresh-token"  # noqa: S105
SMAREGI_CONTRACT, SMAREGI_TOKEN = "demo-contract", "demo-token"
SMAREGI_PLATFORM_CONTRACT = "demo-platform"
SMAREGI_CLIENT_ID, SMAREGI_CLIENT_SECRET = "demo-client", "demo-client-secret"
OPTIONS = 2


@transaction.atomic
def seed_pos() -> None:
    customer = Operator.objects.filter(name=CUSTOMER, kind=Operator.Kind.CUSTOMER).first()
    if customer is None or customer.partner_id is None:
        return
    cameras = list(Device.objects.filter(operator=customer, kind=DeviceKind.CAMERA).order_by("id")[:2])
    if len(cameras) < 2:
        return
    missing = OPTIONS - selectors.option_license_count(customer, LicenseKind.POS_OPTION)
    if missing > 0:
        stock = services.stock_add(partner=customer.partner, kind=LicenseKind.POS_OPTION, months=12, count=missing)
        services.license_assign(
            partner=customer.partner, actor=None, customer=customer,
            license_ids=[lic.pk for lic in stock], kind=LicenseKind.POS_OPTION,
        )  # fmt: skip
    far = timezone.now() + timedelta(days=3650)
    ubiregi = _connection(
        customer, Provider.UBIREGI, UBIREGI_ACCOUNT, name="Demo Cafe",
        terminals=[{"id": UBIREGI_ACCOUNT, "name": "Demo Cafe"}, {"id": UBIREGI_CHILD, "name": "Demo Cafe Terrace"}],
        access_token=UBIREGI_ACCESS_TOKEN, refresh_token=UBIREGI_REFRESH_TOKEN, token_expires_at=far,
    )  # fmt: skip
    access = _connection(
        customer, Provider.SMAREGI, SMAREGI_CONTRACT, interface=Interface.SMAREGI_ACCESS, access_token=SMAREGI_TOKEN
    )
    platform = _connection(
        customer, Provider.SMAREGI, SMAREGI_PLATFORM_CONTRACT, interface=Interface.SMAREGI_PLATFORM,
        client_id=SMAREGI_CLIENT_ID, client_secret=SMAREGI_CLIENT_SECRET,
    )  # fmt: skip
    _link(customer, ubiregi, UBIREGI_ACCOUNT, cameras[0])
    _link(customer, access, "1", cameras[0])
    _link(customer, platform, "1", cameras[1])


def _connection(customer: Operator, provider: str, contract_id: str, **fields) -> PosConnection:
    connection, _created = PosConnection.objects.get_or_create(
        operator=customer, provider=provider, contract_id=contract_id
    )
    for name, value in fields.items():
        setattr(connection, name, value)
    connection.updated_at = timezone.now()
    connection.save()
    return connection


def _link(customer: Operator, connection: PosConnection, terminal_id: str, camera: Device) -> None:
    link, created = PosLink.objects.get_or_create(
        operator=customer, connection=connection, terminal_id=terminal_id, defaults={"camera": camera}
    )
    if not created and link.status == "token_revoked":
        # The fakes restarted with the demo: their published credentials work again.
        PosLink.objects.filter(pk=link.pk).update(status="pending", status_detail="", next_attempt_at=None)
