"""The demo: seed_demo links both providers (Ubiregi, Smaregi over API受信 Ver.2 and over the Platform
API) against the fake servers `pos_fake_servers` runs, on the documented shapes, and the
every-minute task brings their sales into the dashboard."""

import random
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from demo.management.commands.pos_fake_servers import seed, sell
from demo.pos_fakes import FakeSmaregi, FakeUbiregi
from pos_link import tasks
from pos_link.models import LinkStatus, PosLink, PosTransaction
from tenants.models import User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_fakes(settings):
    ubiregi, smaregi = FakeUbiregi(), FakeSmaregi()
    seed(ubiregi, smaregi)
    ubiregi.start()
    smaregi.start()
    settings.POS_UBIREGI_BASE_URL = ubiregi.url
    settings.POS_SMAREGI_BASE_URL = settings.POS_SMAREGI_PLATFORM_API_URL = smaregi.url
    settings.POS_SMAREGI_PLATFORM_ID_URL = smaregi.url
    settings.POS_UBIREGI_CLIENT_ID, settings.POS_UBIREGI_CLIENT_SECRET = ubiregi.client_id, ubiregi.client_secret
    yield ubiregi, smaregi
    ubiregi.stop()
    smaregi.stop()


def test_the_demo_links_both_providers_and_its_sales_stream_into_the_dashboard(demo_fakes):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    links = PosLink.objects.select_related("connection")
    assert sorted((link.connection.provider, link.connection.interface) for link in links) == [
        ("smaregi", "smaregi_access"), ("smaregi", "smaregi_platform"), ("ubiregi", ""),
    ]  # fmt: skip
    rng = random.Random(3)
    for _ in range(4):
        sell(*demo_fakes, rng)
    assert tasks.poll_due.delay().get() == 3
    assert set(PosLink.objects.values_list("status", flat=True)) == {LinkStatus.OK}
    assert PosTransaction.objects.filter(provider="ubiregi").exists()
    assert PosTransaction.objects.filter(contract_id="demo-contract").exists()
    assert PosTransaction.objects.filter(contract_id="demo-platform").exists()
    camera = links.get(connection__contract_id="demo-contract").camera
    admin = User.objects.get(email="admin@demo.example")
    page = client_for(admin).get(reverse("pos_link:camera_dashboard", kwargs={"camera_id": camera.pk}))
    assert page.content.decode().count('class="pos-tx ') >= 2
