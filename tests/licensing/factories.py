"""Helpers for any test that needs licensed cameras (device registration requires a license).

from tests.licensing.factories import give_camera_licenses
give_camera_licenses(alpha.operator, count=2)
"""

from licensing.models import LicenseKind
from licensing.services import license_assign, stock_add
from tenants.models import Operator
from tests.factories import OperatorFactory, UserFactory


def make_partner(name: str = "Partner Inc.", email: str | None = None):
    partner = OperatorFactory(name=name, kind=Operator.Kind.PARTNER)
    admin = UserFactory(operator=partner, email=email or f"{name.split()[0].lower()}-partner@example.com")
    return partner, admin


def give_camera_licenses(customer: Operator, *, count: int = 1, kind: str = LicenseKind.EDGE_STORAGE, months: int = 12):
    """Assign `count` licenses to `customer` from a partner's stock (creating the partner if needed)."""
    if customer.partner_id is None:
        partner, _admin = make_partner(name=f"Partner of {customer.name}", email=f"partner-{customer.pk}@example.com")
        customer.partner = partner
        customer.save(update_fields=["partner"])
    partner = customer.partner
    stock = stock_add(partner=partner, kind=kind, months=months, count=count)
    return license_assign(
        partner=partner, actor=None, customer=customer, license_ids=[lic.pk for lic in stock], kind=kind
    )
