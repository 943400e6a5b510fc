"""The POS link in headless Chromium against the fake providers: link a Smaregi terminal by hand
and a Ubiregi account through its consent page, pull transactions, then filter, search and seek
on the dashboard."""

import re
import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from demo.pos_fakes import FakeSmaregi, FakeUbiregi
from pos_link import tasks
from pos_link.models import PosLink, PosTransaction
from tests.browser.test_foundation_flow import log_in
from tests.conftest import build_tenant
from tests.factories import CameraFactory
from tests.pos_link.factories import give_pos_options

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ALPHA_CAM = "Alpha Cam (Alpha Tower / Alpha Entrance)"


@pytest.fixture
def tenant(transactional_db):
    from licensing.services import license_bind_new_camera
    from tests.licensing.factories import give_camera_licenses

    tenant = build_tenant("Alpha", "alpha")
    give_pos_options(tenant.operator, count=2)
    register = CameraFactory(room=tenant.room, name="Register Cam")
    # Both cameras hold a camera license: a camera without one stops (docs/product.md §7.8).
    give_camera_licenses(tenant.operator, count=2)
    for camera in (tenant.camera, register):
        license_bind_new_camera(device=camera)
    return tenant


@pytest.fixture
def fakes(settings):
    ubiregi, smaregi = FakeUbiregi(), FakeSmaregi()
    ubiregi.add_account("31", "Browser Cafe")
    smaregi.add_contract("sk-browser", "browser-token", terminals=("1",))
    ubiregi.start()
    smaregi.start()
    settings.POS_UBIREGI_BASE_URL, settings.POS_SMAREGI_BASE_URL = ubiregi.url, smaregi.url
    settings.POS_SMAREGI_PLATFORM_API_URL = settings.POS_SMAREGI_PLATFORM_ID_URL = smaregi.url
    settings.POS_UBIREGI_CLIENT_ID, settings.POS_UBIREGI_CLIENT_SECRET = ubiregi.client_id, ubiregi.client_secret
    yield ubiregi, smaregi
    ubiregi.stop()
    smaregi.stop()


def test_link_both_providers_and_use_the_dashboard(page, live_server, tenant, fakes, screenshot):
    ubiregi, smaregi = fakes
    log_in(page, live_server, tenant.admin.email)
    page.wait_for_url(re.compile(r"/$"))

    # Smaregi: contract ID + token + terminal, checked with the (fake) provider
    page.goto(live_server.url + reverse("pos_link:links"))
    page.get_by_role("link", name="Add a Smaregi terminal").click()
    page.get_by_label("Contract ID").fill("sk-browser")
    page.get_by_label("Access token").fill("wrong-token")
    page.get_by_label("Terminal ID").fill("1")
    page.get_by_label("Camera").select_option(label=ALPHA_CAM)
    page.get_by_role("button", name="Add").click()
    assert "アクセストークンが無効です" in page.content()  # the provider's reason, nothing saved
    assert not PosLink.objects.exists()
    page.get_by_label("Access token").fill("browser-token")
    page.get_by_label("Camera").select_option(label=ALPHA_CAM)
    page.get_by_role("button", name="Add").click()
    page.wait_for_selector(".message.success")

    # Ubiregi: consent on the provider's page, back with a code
    page.get_by_role("button", name="Connect a Ubiregi account").click()
    page.wait_for_url(re.compile(re.escape(ubiregi.url) + "/oauth2/authorize"))
    screenshot("pos-1-ubiregi-consent")
    page.get_by_role("button", name="許可する").click()
    page.wait_for_selector(".message.success")
    assert "Browser Cafe is connected" in page.content()
    page.get_by_label("Store account").select_option(label="Browser Cafe (31)")  # from the account's own list
    page.get_by_label("Camera").select_option(label=ALPHA_CAM)
    page.get_by_role("button", name="Add").click()
    page.wait_for_selector(".message.success")
    assert PosLink.objects.count() == 2
    assert "browser-token" not in page.content()
    screenshot("pos-2-links")

    # the registers sell; the every-minute job pulls it in
    now = timezone.now()
    smaregi.add_transaction("sk-browser", "1", total=35000, deposit=35000, cancel=True, at=now - timedelta(minutes=30))
    smaregi.add_transaction(
        "sk-browser", "1", total=550, deposit=1000, staff_name="Kimura", at=now - timedelta(hours=2)
    )
    ubiregi.add_checkout("31", price=140000, paid=150000, paid_at=now - timedelta(hours=3))
    tasks.poll_due()
    assert PosTransaction.objects.count() == 3
    page.reload()
    assert page.locator('[data-status="ok"]').count() == 2

    page.goto(live_server.url + reverse("pos_link:camera_dashboard", kwargs={"camera_id": tenant.camera.pk}))
    assert page.locator(".pos-tx").count() == 3
    assert page.locator(".pos-mark").count() == 3
    assert "¥140,000" in page.content() and "¥10,000" in page.content()
    screenshot("pos-3-dashboard")

    # click a transaction: the seek position moves to it (no reload inside the range)
    seek = page.locator("#pos-seek")
    target = page.locator(".pos-tx-link").nth(1)
    label = target.get_attribute("data-label")
    target.click()
    assert page.locator("#pos-seek-label").inner_text() == label
    left = float(seek.evaluate("el => parseFloat(el.style.left)"))
    assert 90 < left < 100  # two hours ago in a 24 h range
    assert page.locator(".pos-tx.selected").count() == 1
    page.get_by_role("link", name="6H").click()
    page.wait_for_url(re.compile("window=6h"))
    page.locator(".pos-tx-link").nth(2).click()  # three hours ago: inside 6 h
    left = float(seek.evaluate("el => parseFloat(el.style.left)"))
    assert 45 < left < 55
    screenshot("pos-4-seek")

    # filter by kind and search
    page.locator(".pos-kinds").get_by_role("link", name="Cancel").click()
    page.wait_for_url(re.compile("kind=cancel"))
    assert page.locator(".pos-tx").count() == 1 and "¥35,000" in page.content()
    page.locator(".pos-kinds").get_by_role("link", name="All").click()
    page.wait_for_url(lambda url: "kind=" not in url)
    page.get_by_placeholder("Receipt no. / register no. / staff").fill("kimura")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile("q=kimura"))
    assert page.locator(".pos-tx").count() == 1 and "Kimura" in page.content()
    screenshot("pos-5-search")


def test_dashboard_shows_thumbnails_and_the_video_seeks_to_a_clicked_transaction(
    page, live_server, tenant, settings, tmp_path, screenshot
):
    from tests.pos_link.factories import transaction_of
    from tests.pos_link.test_thumbnails import store_segments
    from tests.recording.media import VTEST, media_settings

    media_settings(settings, tmp_path)
    pieces = tmp_path / "cut"
    pieces.mkdir()
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(VTEST), "-t", "6", "-map", "0:v:0", "-c", "copy",
         "-f", "segment", "-segment_time", "2", "-reset_timestamps", "1", "-segment_format", "mp4",
         "-segment_format_options", "movflags=+frag_keyframe+empty_moov+default_base_moof",
         str(pieces / "s%03d.mp4")],
        check=True,
    )  # fmt: skip
    start = timezone.now().replace(microsecond=0) - timedelta(minutes=20)
    rows = store_segments(tenant.camera, sorted(pieces.glob("s*.mp4"))[:3], tmp_path, start)
    transaction_of(tenant, provider_id="1", receipt_no="R-EARLY", occurred_at=start + timedelta(seconds=0.5))
    transaction_of(tenant, provider_id="2", receipt_no="R-LATE", occurred_at=start + timedelta(seconds=5.5))

    log_in(page, live_server, tenant.admin.email)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(live_server.url + reverse("pos_link:camera_dashboard", kwargs={"camera_id": tenant.camera.pk}))
    images = page.locator(".pos-thumb img")
    assert images.count() == 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pos-thumb img')].every(i => i.complete && i.naturalWidth === 320)"
    )

    page.locator(".pos-tx-link", has_text="R-LATE").click()  # 5.5 s in: the third segment, 1.5 s into it
    page.wait_for_function(
        "() => { const v = document.getElementById('pos-video'); return !v.hidden && v.readyState >= 1; }"
    )
    video = page.locator("#pos-video")
    assert video.get_attribute("src").endswith(reverse("recording:segment_file", kwargs={"segment_id": rows[2].pk}))
    assert video.evaluate("v => v.currentTime") == pytest.approx(1.5, abs=0.6)
    screenshot("pos-6-video-seek")
    page.locator(".pos-tx-link", has_text="R-EARLY").click()
    page.wait_for_function(
        f"() => document.getElementById('pos-video').getAttribute('src').endsWith('/{rows[0].pk}/video.mp4')"
    )
    page.wait_for_function("() => document.getElementById('pos-video').currentTime < 1.5")


def test_live_video_until_a_transaction_is_clicked_and_the_live_button_returns(page, live_server, tenant, screenshot):
    from devices.models import Device
    from tests.pos_link.factories import transaction_of

    Device.objects.filter(pk=tenant.camera.pk).update(stream_source="rtsp", rtsp_url="rtsp://192.0.2.10/stream")
    transaction_of(tenant, provider_id="1", receipt_no="R-LIVE", occurred_at=timezone.now() - timedelta(minutes=5))
    log_in(page, live_server, tenant.admin.email)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(live_server.url + reverse("pos_link:camera_dashboard", kwargs={"camera_id": tenant.camera.pk}))
    assert page.locator("#pos-live").is_visible() and page.locator("#live-video").count() == 1
    assert page.locator("#pos-seek-label").inner_text() == "live"
    assert not page.locator("#pos-live-button").is_visible()
    screenshot("pos-7-live")
    page.locator(".pos-tx-link", has_text="R-LIVE").click()
    page.wait_for_function("() => document.getElementById('pos-live').hidden")
    assert page.locator("#pos-live-button").is_visible()
    assert page.locator(".pos-tx.selected").count() == 1
    page.get_by_role("button", name="Live").click()
    page.wait_for_function("() => !document.getElementById('pos-live').hidden")
    assert page.locator("#pos-video").is_hidden() and page.locator("#pos-seek-label").inner_text() == "live"
    assert page.locator(".pos-tx.selected").count() == 0 and "at=" not in page.url
