"""Done-when for issue 6, in headless Chromium: two operators share a camera end to end.

Alpha's admin sends a share request to Bravo's share ID and confirms; Bravo's admin approves after a
confirmation; Bravo's viewer watches the camera marked "shared by Alpha"; Alpha cancels; the camera
is gone from Bravo's list and its page answers 404 at once.
"""

import re

import pytest
from django.urls import reverse

from tests.conftest import build_tenant
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def operators(transactional_db):
    return build_tenant("Alpha", "alpha"), build_tenant("Bravo", "bravo")


def logged_in(browser, live_server, email: str):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.goto(live_server.url + reverse("tenants:login"))
    tab.get_by_label("Email address").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(re.compile(r"/$"))
    return context, tab


def test_two_operators_share_a_camera_end_to_end(browser, live_server, operators, screenshot):  # noqa: F811 - fixtures
    alpha, bravo = operators
    owner_ctx, owner = logged_in(browser, live_server, alpha.admin.email)
    receiver_ctx, receiver = logged_in(browser, live_server, bravo.admin.email)

    # The owner: menu → sharing → choose the camera and the receiver's share ID → confirm → sent.
    owner.get_by_role("link", name="Camera sharing").click()
    owner.get_by_role("link", name="Share cameras").click()
    owner.get_by_label("Alpha Cam").check()
    owner.get_by_label("Share ID of the operator to share with").fill(bravo.operator.share_id.lower())
    owner.get_by_role("button", name="Next").click()
    assert "Bravo" in owner.locator(".receiver").inner_text()
    screenshot("sharing-1-request-confirm", target=owner)
    owner.get_by_role("button", name="Send request").click()
    assert "was sent to Bravo" in owner.locator(".message.success").inner_text()

    # Nothing is visible before approval.
    receiver.reload()
    assert "Alpha Cam" not in receiver.locator("main").inner_text()

    # The receiver approves after checking the owner's share ID.
    receiver.get_by_role("link", name="Camera sharing").click()
    receiver.get_by_role("link", name="Approve").click()
    assert alpha.operator.share_id in receiver.content()
    screenshot("sharing-2-approve-confirm", target=receiver)
    receiver.get_by_role("button", name="Approve").click()
    assert "You approved the share" in receiver.locator(".message.success").inner_text()

    # Watch: the camera is in the list, marked, and its page opens.
    receiver.get_by_role("link", name="Cameras", exact=True).click()
    card = receiver.locator(".camera-card", has_text="Alpha Cam")
    assert "shared by Alpha" in card.inner_text()
    card.get_by_role("link", name="Alpha Cam").click()
    assert receiver.locator("h1").inner_text() == "Alpha Cam"
    camera_url = receiver.url
    screenshot("sharing-3-receiver-watches", target=receiver)

    # The owner cancels; the receiver loses the camera at once.
    owner.get_by_role("link", name="Camera sharing").click()
    owner.get_by_role("link", name="Cancel sharing").click()
    assert "Bravo loses access" in owner.content()
    owner.get_by_role("button", name="Cancel sharing").click()
    assert "no longer sees Alpha Cam" in owner.locator(".message.success").inner_text()
    screenshot("sharing-4-cancelled", target=owner)

    assert receiver.goto(camera_url).status == 404
    receiver.goto(live_server.url + reverse("home"))
    assert "Alpha Cam" not in receiver.locator("main").inner_text()
    receiver.goto(live_server.url + reverse("sharing:audit"))
    assert "Cancelled" in receiver.locator("main").inner_text()
    owner_ctx.close()
    receiver_ctx.close()
