from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tenants.models import Role
from tests.factories import UserFactory
from tests.licensing.factories import make_partner

# 2025-01-15 10:00 JST: every test that does not move the clock runs on this day.
START = datetime(2025, 1, 15, 1, 0, tzinfo=UTC)


@dataclass
class Partner:
    operator: object
    admin: object
    viewer: object


@pytest.fixture(autouse=True)
def fixed_clock(settings):
    settings.PORTAL_FAKE_NOW = START
    return settings


@pytest.fixture
def set_now(settings):
    def _set(at: datetime) -> None:
        settings.PORTAL_FAKE_NOW = at

    return _set


@pytest.fixture
def partner(alpha) -> Partner:
    """A partner whose customer is alpha."""
    operator, admin = make_partner("Acme Partner", "acme-admin@example.com")
    viewer = UserFactory(operator=operator, email="acme-viewer@example.com", role=Role.VIEWER)
    alpha.operator.partner = operator
    alpha.operator.save(update_fields=["partner"])
    return Partner(operator, admin, viewer)


@pytest.fixture
def other_partner(bravo) -> Partner:
    """Another partner, whose customer is bravo."""
    operator, admin = make_partner("Zeta Partner", "zeta-admin@example.com")
    viewer = UserFactory(operator=operator, email="zeta-viewer@example.com", role=Role.VIEWER)
    bravo.operator.partner = operator
    bravo.operator.save(update_fields=["partner"])
    return Partner(operator, admin, viewer)
