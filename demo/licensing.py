"""Demo licensing data, called by seed_demo: a partner with stock, the demo customers as its
customers, and every demo camera covered by an assigned license. Running it again changes nothing
(it only tops up what is missing), so the demo cameras stay licensed and registration keeps working."""

from django.db import transaction

from licensing import selectors, services
from licensing.models import LicenseKind
from tenants.models import Operator, Role, User

PARTNER_NAME = "Demo Partner Inc."
PARTNER_EMAIL = "partner@demo.example"
# Stock kept on hand for the demo: (kind, months, at least this many in stock).
STOCK = [
    (LicenseKind.EDGE_STORAGE, 12, 5),
    (LicenseKind.CAMERA_DIRECT, 12, 2),
    (LicenseKind.CONGESTION_OPTION, 12, 3),
    (LicenseKind.POS_OPTION, 12, 2),
    (LicenseKind.EMBED_CALLS_ADDON, 12, 1),
]
SPARE_CAMERA_LICENSES = 2  # per customer, so that registering a camera in the demo works at once


@transaction.atomic
def seed_licensing(*, customer_names: list[str], password: str) -> Operator:
    partner = Operator.objects.filter(name=PARTNER_NAME, kind=Operator.Kind.PARTNER).first()
    if partner is None:
        partner = Operator.objects.create(name=PARTNER_NAME, kind=Operator.Kind.PARTNER)
    if not User.objects.filter(email=PARTNER_EMAIL).exists():
        User.objects.create_user(PARTNER_EMAIL, password, operator=partner, name="Demo Partner", role=Role.ADMIN)
    for name in customer_names:
        customer = Operator.objects.filter(name=name, kind=Operator.Kind.CUSTOMER).first()
        if customer is None:
            continue
        if customer.partner_id is None:
            customer.partner = partner
            customer.save(update_fields=["partner"])
        if customer.partner_id != partner.pk:
            continue
        lapsed = selectors.cameras_without_license(customer=customer).count()
        free = selectors.free_camera_licenses(customer=customer).count()
        missing = lapsed + SPARE_CAMERA_LICENSES - free
        if missing > 0:
            _assign(partner, customer, LicenseKind.EDGE_STORAGE, missing)
    for kind, months, minimum in STOCK:
        have = selectors.stock_count(partner=partner, kind=kind, term_months=months)
        if have < minimum:
            services.stock_add(partner=partner, kind=kind, months=months, count=minimum - have)
    return partner


def _assign(partner: Operator, customer: Operator, kind: str, count: int) -> None:
    stock = services.stock_add(partner=partner, kind=kind, months=12, count=count)
    services.license_assign(
        partner=partner, actor=None, customer=customer, license_ids=[lic.pk for lic in stock], kind=kind
    )
