"""The embed in a real browser: pasted into a plain HTML page on another local port (another site),
opened in Chromium with third-party cookies blocked; the generated site at phone and PC widths."""

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
from django.urls import reverse

from congestion.models import Group, Prediction
from embeds import quota
from embeds.services import embed_setting_save, site_save
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, client_for
from tests.congestion.conftest import give_option, register
from tests.embeds.conftest import publish
from tests.factories import CameraFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def blocking_browser(browser):
    """A second Chromium of the same Playwright, with third-party cookies blocked."""
    strict = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"]
    )
    yield strict
    strict.close()


@pytest.fixture
def other_site(tmp_path):
    """A plain static web server on another port: the operator's own home page."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://localhost:{server.server_address[1]}"  # "localhost" ≠ 127.0.0.1: another site
    server.shutdown()


def _snippet(client, url: str) -> str:
    html = client.get(url).content.decode()
    raw = re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    return raw.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def _week_of_predictions(cc):
    Prediction.objects.bulk_create(
        Prediction(operator_id=cc.operator_id, congestion_camera=cc, weekday=d, slot=s, average=float((s % 24) // 2))
        for d in range(7)
        for s in range(96)
    )


def test_a_pasted_snippet_shows_refreshes_and_counts_exactly_with_third_party_cookies_blocked(
    alpha, live_server, blocking_browser, other_site, screenshot
):
    give_option(alpha.operator, 2)
    cc = register(alpha)
    publish(cc, count=5)
    _week_of_predictions(cc)
    embed_setting_save(
        user=alpha.admin, congestion_camera=cc, show_visualization=True, show_prediction=True,
        initial_view="visualization", size_mode="fixed", auto_refresh=False, show_count=True,
    )  # fmt: skip
    client = client_for(alpha.admin)
    snippet = _snippet(client, reverse("embeds:camera_embed", kwargs={"congestion_camera_id": cc.pk}))
    snippet = snippet.replace("http://testserver", live_server.url)
    folder, origin = other_site
    (folder / "index.html").write_text(f"<!DOCTYPE html><title>Shop</title><h1>Our shop</h1>{snippet}")

    context = blocking_browser.new_context(viewport={"width": 900, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(origin + "/index.html")
    frame = page.frame_locator("iframe")
    frame.locator(".viz-img[src^=blob]").wait_for()
    embed = next(f for f in page.frames if f.url.startswith(live_server.url))
    # Third-party cookies really are blocked in this frame: a cookie it sets does not stick.
    assert embed.evaluate("() => { document.cookie = 'probe=1; SameSite=None'; return document.cookie; }") == ""
    assert embed.evaluate("() => document.querySelector('.viz-img').naturalWidth") > 0
    assert frame.locator(".count").inner_text() == "5 people"
    assert "2024-06-03 10:00" in frame.locator(".time").inner_text()

    frame.locator("[data-action=refresh]").click()  # manual refresh: one more image
    embed.wait_for_function("() => window.embedShown === 2")
    frame.locator("[data-action=switch]").click()  # to the prediction: one more call
    embed.wait_for_function("() => window.embedShown === 3")
    frame.locator(".graph svg").wait_for()
    assert frame.locator(".tabs button").count() == 7
    frame.locator(".tabs button").nth(2).click()
    frame.locator(".graph .bar").nth(5).click()
    assert re.match(r"Wed \d\d:\d\d–\d\d:\d\d", frame.locator(".slot-status").inner_text())
    box = frame.locator(".graph svg").bounding_box()
    assert box["height"] >= 281 and box["width"] + 2 * 40 >= 360
    screenshot("embed-third-party-prediction", page)

    shown = embed.evaluate("() => window.embedShown")
    assert shown == 3
    assert quota.used(alpha.operator.pk) == shown  # the counter equals the images shown
    context.close()


def test_auto_refresh_fetches_a_new_image_every_minute(alpha, live_server, browser, other_site):
    give_option(alpha.operator, 1)
    cc = register(alpha)
    publish(cc)
    folder, origin = other_site
    url = live_server.url + reverse("embed_public:page", kwargs={"embed_key": cc.embed_key})
    (folder / "auto.html").write_text(f'<iframe src="{url}" width="480" height="440"></iframe>')
    context = browser.new_context()
    context.clock.install()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(origin + "/auto.html")
    page.frame_locator("iframe").locator(".viz-img[src^=blob]").wait_for()
    embed = next(f for f in page.frames if f.url.startswith(live_server.url))
    embed.wait_for_function("() => window.embedShown === 1")
    assert page.frame_locator("iframe").locator("[data-action=refresh]").count() == 0  # auto mode: no button
    context.clock.run_for(60_500)
    embed.wait_for_function("() => window.embedShown === 2")
    context.clock.run_for(60_000)
    embed.wait_for_function("() => window.embedShown === 3")
    assert quota.used(alpha.operator.pk) == 3
    context.close()


def test_the_generated_site_at_phone_and_pc_width(alpha, live_server, browser, screenshot):
    give_option(alpha.operator, 6)
    cameras = [register(alpha)] + [register(CameraFactory(room=alpha.room, name=f"Alpha Cam {i}")) for i in range(2, 6)]
    for i, cc in enumerate(cameras):
        publish(cc, count=i, colour=(40 * i, 120, 200 - 30 * i))
    group = Group.objects.create(operator=alpha.operator, name="Alpha floor", default_camera=cameras[0])
    group.cameras.set(cameras)
    site = site_save(
        user=alpha.admin, group=group, enabled=True, name="Alpha floor now", link_mode="qr_top",
        link_title="Today's coupon", link_description="Scan for 10% off", link_url="https://shop.example.com/c",
    )  # fmt: skip
    url = live_server.url + reverse("embed_public:site", kwargs={"site_key": site.key})
    for width, name in ((1280, "pc"), (390, "phone")):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(url)
        page.wait_for_function(f"() => window.embedShown === {len(cameras)}")
        tops = page.eval_on_selector_all(".embed", "els => els.map(e => Math.round(e.getBoundingClientRect().top))")
        per_row = tops.count(tops[0])
        if name == "pc":
            assert per_row == 4  # at most 4 per row
            assert page.locator(".extlink .qr svg").is_visible()
            assert not page.locator(".extlink .qr-link").is_visible()
        else:
            assert per_row == 1
            assert not page.locator(".extlink .qr svg").is_visible()
            assert page.locator(".extlink .qr-link").is_visible()  # on a phone the QR becomes a link
        path = screenshot(f"embed-site-{name}", page)
        assert Path(path).stat().st_size > 10_000
        context.close()
    assert quota.used(alpha.operator.pk) == 2 * len(cameras)  # one call per camera shown, per page view
