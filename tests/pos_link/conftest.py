"""Fake provider servers (demo/pos_fakes, real HTTP on 127.0.0.1) started per test with the settings
pointing at them, and the documented sample payloads they answer with (tests/pos_link/fixtures/)."""

import pytest

from demo.pos_fakes import FakeSmaregi, FakeUbiregi
from demo.pos_fakes.fixtures import fixture  # noqa: F401 - re-exported for the test modules

try:  # Chromium fixtures for test_browser.py, wherever the shared conftest keeps them
    from tests.browser.conftest import browser, page, screenshot  # noqa: F401
except ImportError:  # moved to tests/conftest.py: visible here already
    pass
from tests.pos_link.factories import give_pos_options
from tests.waiting import patience

SMAREGI_CONTRACT = "sk-alpha-001"
SMAREGI_TOKEN = "smaregi-token-alpha-7f3c"
PLATFORM_CONTRACT = "sk-alpha-platform"
PLATFORM_CLIENT_ID = "alpha-app-client"
PLATFORM_CLIENT_SECRET = "alpha-app-secret-9d2e"


@pytest.fixture
def smaregi(settings):
    """One fake for both interfaces: an API受信 Ver.2 contract and a Platform API contract."""
    fake = FakeSmaregi()
    fake.timeout_seconds = patience(2) + 2  # the "timeout" fault answers after the client gave up
    fake.add_contract(SMAREGI_CONTRACT, SMAREGI_TOKEN, terminals=("1", "2"))
    fake.add_contract(
        PLATFORM_CONTRACT, terminals=("1", "2"), client_id=PLATFORM_CLIENT_ID, client_secret=PLATFORM_CLIENT_SECRET
    )
    fake.start()
    settings.POS_SMAREGI_BASE_URL = fake.url
    settings.POS_SMAREGI_PLATFORM_API_URL = fake.url
    settings.POS_SMAREGI_PLATFORM_ID_URL = fake.url
    settings.POS_HTTP_TIMEOUT = patience(2)
    yield fake
    fake.stop()


@pytest.fixture
def ubiregi(settings):
    fake = FakeUbiregi(auto_approve=True)
    fake.timeout_seconds = patience(2) + 2
    fake.add_account("31", "Alpha Cafe", children=("32",))
    fake.add_account("32", "Alpha Cafe Terrace")
    fake.start()
    settings.POS_UBIREGI_BASE_URL = fake.url
    settings.POS_UBIREGI_CLIENT_ID = fake.client_id
    settings.POS_UBIREGI_CLIENT_SECRET = fake.client_secret
    settings.POS_HTTP_TIMEOUT = patience(2)
    yield fake
    fake.stop()


@pytest.fixture
def pos_alpha(alpha):
    """alpha with one POS option license (covers one camera: alpha.camera), and a camera license on alpha.camera:
    an operator holding licenses has every camera licensed, or the camera stops (docs/product.md §7.8)."""
    from licensing.services import license_bind_new_camera
    from tests.licensing.factories import give_camera_licenses

    give_camera_licenses(alpha.operator, count=1)
    license_bind_new_camera(device=alpha.camera)
    give_pos_options(alpha.operator, count=1)
    return alpha
