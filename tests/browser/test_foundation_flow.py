"""A person's first session, in headless Chromium: log in, register a camera, rename it, switch language."""

import re

import pytest
from django.urls import reverse

from devices.models import Device
from tests.conftest import build_tenant
from tests.factories import PASSWORD
from tests.licensing.factories import give_camera_licenses

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tenant(transactional_db):
    tenant = build_tenant("Alpha", "alpha")
    give_camera_licenses(tenant.operator, count=3)
    return tenant


def log_in(page, live_server, email: str, password: str = PASSWORD) -> None:
    page.goto(live_server.url + reverse("tenants:login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_admin_registers_a_camera_and_renames_it(page, live_server, tenant, screenshot):
    log_in(page, live_server, tenant.admin.email)
    page.wait_for_url(re.compile(r"/$"))
    assert "Alpha Cam" in page.content()

    page.get_by_role("link", name="Add building / room").first.click()
    page.get_by_label("Contract number").fill("SP-20261122")
    page.get_by_label("Camera MAC address (S/N)").fill("ac-de-48-00-11-22")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("New building name").fill("Browser Mansion")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Room name").fill("Parking lot")
    page.get_by_label("Camera name").fill("Parking camera")
    page.get_by_role("button", name="Next").click()
    screenshot("foundation-1-register-confirm")
    assert "AC:DE:48:00:11:22" in page.content()
    page.get_by_role("button", name=re.compile("^(Add|Register)")).click()
    page.wait_for_selector(".message.success")
    assert "Parking lot" in page.content()

    camera = Device.objects.get(mac="AC:DE:48:00:11:22")
    assert camera.room.building.name == "Browser Mansion"
    assert Device.objects.filter(parent=camera, kind="sensor").count() == 1

    page.goto(live_server.url + reverse("devices:rename", kwargs={"device_id": camera.pk}))
    page.get_by_label(re.compile("name", re.I)).first.fill("Parking camera north")
    page.get_by_role("button", name="Next").click()
    assert page.locator(".before").inner_text() == "Parking camera"
    assert page.locator(".after").inner_text() == "Parking camera north"
    page.get_by_role("button", name="Confirm").click()
    success = page.locator(".message.success")
    success.wait_for()
    assert "Success" in success.inner_text()
    screenshot("foundation-2-renamed")
    camera.refresh_from_db()
    assert camera.name == "Parking camera north"


def test_language_switch_in_the_footer_and_phone_layout(browser, live_server, tenant, screenshot):
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server, tenant.viewer.email)
    page.wait_for_url(re.compile(r"/$"))
    with page.expect_navigation():
        page.select_option("#language-select", "ja")
    assert "カメラ一覧" in page.content()
    screenshot("foundation-3-phone-ja", target=page)
    # A viewer has no settings pages.
    response = page.goto(live_server.url + reverse("buildings:register"))
    assert response.status == 403
    context.close()


def test_wrong_passwords_lock_the_account_and_mail_until_when(page, live_server, tenant, screenshot):
    from django.core import mail

    for _ in range(5):
        log_in(page, live_server, tenant.viewer.email, "Wrong-pass1")
    log_in(page, live_server, tenant.viewer.email)
    # The page answers as for any wrong password (nobody learns which addresses exist); the
    # owner's mail says until when.
    assert "The email address or the password is not correct." in page.content()
    assert re.search(r"locked until \d{1,2}:\d{2}", mail.outbox[-1].body), mail.outbox[-1].body
    screenshot("foundation-4-locked")
