"""The issue's "done when", on the controllable clock: create, assign, register, expire, auto-assign, remind."""

from datetime import timedelta
from io import StringIO

from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from demo import clock
from devices.services import camera_register
from licensing import selectors, services
from licensing.models import LicenseKind
from licensing.tasks import process_expiries, send_expiry_reminders
from tests.conftest import client_for
from tests.factories import BuildingFactory, RoomFactory


def test_partner_to_customer_lifecycle(partner, set_now, django_capture_on_commit_callbacks):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=3)
    with django_capture_on_commit_callbacks(execute=True):
        customer, admin = services.customer_create(
            partner=partner.operator, actor=partner.admin, name="Lifecycle Co", email="life@example.com"
        )
    ids = services.stock_pick(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    [lic] = services.license_assign(
        partner=partner.operator, actor=partner.admin, customer=customer, license_ids=ids, kind="edge_storage"
    )
    room = RoomFactory(building=BuildingFactory(operator=customer))
    camera = camera_register(user=admin, room=room, name="Lobby camera", mac="02:00:00:00:AA:01")
    assert selectors.camera_license_state(camera) == "active"

    mail.outbox.clear()
    now = lic.expires_at - timedelta(days=91)
    while now < lic.expires_at:  # beat every 10 minutes would do the same; every 3 hours twice is enough here
        set_now(now)
        send_expiry_reminders()
        send_expiry_reminders()
        now += timedelta(hours=3)
    assert sorted(len([m for m in mail.outbox if to in m.to]) for to in (partner.admin.email, "life@example.com")) == [
        2,
        5,
    ]

    set_now(lic.expires_at)
    assert selectors.camera_license_state(camera) == "expired"  # recording must stop now
    process_expiries()
    assert selectors.camera_license_state(camera) == "active"  # auto-assigned from stock: recording resumes
    assert selectors.stock_count(partner=partner.operator, kind="edge_storage", term_months=12) == 1


def test_license_clock_command_moves_the_shared_clock(settings):
    settings.PORTAL_FAKE_NOW = None
    out = StringIO()
    try:
        call_command("license_clock", "--set", "2030-01-01T09:00+09:00", "--no-run", stdout=out)
        assert clock.now().year == 2030
        call_command("license_clock", "--advance-days", "31", "--no-run", stdout=out)
        assert (clock.now().month, clock.now().day) == (2, 1)
    finally:
        clock.set_fake_now(None)
    assert clock.fake_now() is None


def test_partner_console_renders_in_japanese(partner):
    services.stock_add(partner=partner.operator, kind=LicenseKind.EDGE_STORAGE, months=12, count=1)
    body = client_for(partner.admin).get(reverse("licensing:partner"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "ライセンス在庫" in body and "エッジストレージ" in body
