"""Fake provider servers started per test (real HTTP on 127.0.0.1) with the settings pointing at them."""

import pytest

from pos_link.fakes import FakeSmaregi, FakeUbiregi

try:  # Chromium fixtures for test_browser.py, wherever the shared conftest keeps them
    from tests.browser.conftest import browser, page, screenshot  # noqa: F401
except ImportError:  # moved to tests/conftest.py: visible here already
    pass
from tests.pos_link.factories import give_pos_options

SMAREGI_CONTRACT = "sk-alpha-001"
SMAREGI_TOKEN = "smaregi-token-alpha-7f3c"


@pytest.fixture
def smaregi(settings):
    fake = FakeSmaregi()
    fake.timeout_seconds = 1.5
    fake.add_contract(SMAREGI_CONTRACT, SMAREGI_TOKEN, terminals=("1", "2"))
    fake.start()
    settings.POS_SMAREGI_BASE_URL = fake.url
    settings.POS_HTTP_TIMEOUT = 0.5
    yield fake
    fake.stop()


@pytest.fixture
def ubiregi(settings):
    fake = FakeUbiregi(auto_approve=True)
    fake.timeout_seconds = 1.5
    fake.add_account("31", "Alpha Cafe", children=("32",))
    fake.add_account("32", "Alpha Cafe Terrace")
    fake.start()
    settings.POS_UBIREGI_BASE_URL = fake.url
    settings.POS_UBIREGI_CLIENT_ID = fake.client_id
    settings.POS_UBIREGI_CLIENT_SECRET = fake.client_secret
    settings.POS_HTTP_TIMEOUT = 0.5
    yield fake
    fake.stop()


@pytest.fixture
def pos_alpha(alpha):
    """alpha with one POS option license (covers one camera: alpha.camera)."""
    give_pos_options(alpha.operator, count=1)
    return alpha
