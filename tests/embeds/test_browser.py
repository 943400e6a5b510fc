"""The embed in a real browser: pasted into a plain HTML page on another local port (another site),
opened in Chromium with third-party cookies blocked; the generated site at phone and PC widths."""

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from congestion import services
from congestion.models import AlertSetting, Group, Prediction
from embeds import quota
from embeds.services import embed_setting_save, site_save
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, client_for, patient
from tests.congestion.conftest import give_option, register
from tests.embeds.conftest import publish, this_minute
from tests.factories import CameraFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def blocking_browser(browser):
    """A second Chromium of the same Playwright, with third-party cookies blocked."""
    args = [*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"]
    strict = patient(browser.browser_type.launch(executable_path=CHROMIUM, args=args))
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
    shown = publish(cc, count=5)
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
    page.goto(origin + "/index.html")
    frame = page.frame_locator("iframe")
    frame.locator(".viz-img[src^=blob]").wait_for()
    embed = next(f for f in page.frames if f.url.startswith(live_server.url))
    # Third-party cookies really are blocked in this frame: a cookie it sets does not stick.
    assert embed.evaluate("() => { document.cookie = 'probe=1; SameSite=None'; return document.cookie; }") == ""
    assert embed.evaluate("() => document.querySelector('.viz-img').naturalWidth") > 0
    assert frame.locator(".count").inner_text() == "5 people"
    # The minute the image was analysed (not the minute now: the test may cross a minute boundary).
    assert timezone.localtime(shown.analysed_at).strftime("%Y-%m-%d %H:%M") in frame.locator(".time").inner_text()

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


def test_status_colours_the_stale_rule_and_the_graph_within_business_hours_with_third_party_cookies_blocked(
    alpha, live_server, blocking_browser, other_site, screenshot
):
    from datetime import time, timedelta

    give_option(alpha.operator, 4)
    names = ["Somewhat", "Crowded", "Stale", "Hours"]
    cameras = [register(alpha)] + [register(CameraFactory(room=alpha.room, name=f"Alpha {n}")) for n in names[1:]]
    somewhat, crowded, stale, hours = cameras
    publish(somewhat, count=4)
    publish(crowded, count=9)
    publish(stale, count=12, at=this_minute() - timedelta(minutes=30))  # stopped answering half an hour ago
    publish(hours, count=1)
    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=somewhat, steps=3, thresholds=[3, 6])
    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=crowded, steps=2, thresholds=[5])
    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=stale, steps=2, thresholds=[5])
    _week_of_predictions(hours)
    services.hours_rule_add(
        user=alpha.admin, congestion_camera=hours, kind="base", weekdays=list(range(7)), holiday=True,
        start=time(6), end=time(12),
    )  # fmt: skip
    services.hours_enabled_set(user=alpha.admin, congestion_camera=hours, enabled=True)
    client = client_for(alpha.viewer)
    frames = []
    for cc in cameras:
        query = {"show_visualization": "on", "initial_view": "visualization", "size_mode": "fixed",
                 "auto_refresh": "1", "show_count": "on", "make": "1"}  # fmt: skip
        if cc is hours:
            query = {**query, "show_visualization": "", "show_prediction": "on", "initial_view": "prediction"}
        page_url = reverse("embeds:camera_embed", kwargs={"congestion_camera_id": cc.pk})
        frames.append(_snippet(client, page_url + "?" + "&".join(f"{k}={v}" for k, v in query.items() if v)))
    folder, origin = other_site
    html = "".join(f.replace("http://testserver", live_server.url) for f in frames)
    (folder / "status.html").write_text(f"<!DOCTYPE html><title>Shop</title>{html}")

    context = blocking_browser.new_context(viewport={"width": 1000, "height": 1900}, locale="ja-JP")
    page = context.new_page()
    page.goto(origin + "/status.html")
    iframes = page.frame_locator("iframe")
    for i in range(3):
        iframes.nth(i).locator(".viz-img[src^=blob]").wait_for()

    def label(i: int) -> dict:
        return (
            iframes.nth(i)
            .locator(".label")
            .evaluate(
                "e => ({text: e.textContent, hidden: e.hidden, colour: getComputedStyle(e).color,"
                " background: getComputedStyle(e).backgroundColor})"
            )
        )

    assert label(0) == {"text": "やや混雑", "hidden": False, "colour": "rgb(122, 65, 0)",
                        "background": "rgb(255, 244, 214)"}  # fmt: skip
    assert label(1) == {"text": "混雑", "hidden": False, "colour": "rgb(163, 25, 27)",
                        "background": "rgb(253, 232, 232)"}  # fmt: skip
    assert iframes.nth(0).locator(".count").inner_text() == "4 人"
    # The stale camera: the "no current data" image, no count, no status, no time.
    stale_frame = iframes.nth(2)
    assert label(2)["hidden"] is True and label(2)["text"] == ""
    assert stale_frame.locator(".count").inner_text() == "" and stale_frame.locator(".time").inner_text() == ""
    assert stale_frame.locator(".embed").get_attribute("data-state") == "nodata"
    # The graph of the camera open 06:00-12:00 shows and moves over those hours only.
    graph = iframes.nth(3)
    graph.locator(".graph svg").wait_for()
    slots = [int(s) for s in graph.locator(".graph .bar").evaluate_all("bs => bs.map(b => b.dataset.slot)")]
    assert slots and min(slots) >= 24 and max(slots) < 48, slots
    assert graph.locator(".move").evaluate_all("bs => bs.map(b => b.disabled)") == [True, True]
    screenshot("embed-status-colours-stale", page)
    context.close()
