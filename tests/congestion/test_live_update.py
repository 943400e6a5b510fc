"""The console's camera page shows the new image and count every minute without reloading itself
(a meta refresh pulled the page from under its reader; axe-core's `meta-refresh` rule)."""

import re

import pytest

from tests.browser.test_foundation_flow import log_in
from tests.embeds.conftest import publish

from .conftest import give_option, register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CENTRE_RED = """img => {
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data[0];
}"""


def test_the_camera_page_updates_its_image_and_count_in_place(alpha, live_server, page):
    give_option(alpha.operator, 1)
    cc = register(alpha)
    publish(cc, count=3, colour=(10, 200, 10))
    page.clock.install()  # the page's timers run only when the test moves this clock
    log_in(page, live_server, alpha.admin.email)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{live_server.url}/congestion/cameras/{cc.pk}/")
    assert page.locator("[data-count]").inner_text() == "3"
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    image = page.get_by_role("img", name="Congestion image")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.evaluate(CENTRE_RED, image.element_handle()) < 100  # green
    first_src = image.get_attribute("src")
    page.evaluate("window.sameDocument = true")

    publish(cc, count=7, colour=(10, 10, 200))  # the next minute's analysis, red (OpenCV is BGR)
    page.clock.run_for(61_000)

    page.locator("[data-count]", has_text="7").wait_for()
    assert page.evaluate("window.sameDocument") is True, "the page reloaded itself"
    image = page.get_by_role("img", name="Congestion image")
    assert image.get_attribute("src") != first_src
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.evaluate(CENTRE_RED, image.element_handle()) > 150  # the new picture, not a cached one
