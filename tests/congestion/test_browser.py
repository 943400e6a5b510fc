"""The congestion console in a real browser: an admin adds and enables a camera, sees the live
silhouette image and count, opens the history chart (Chart.js draws a canvas) and downloads the CSV."""

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from congestion import services
from congestion.models import Analysis, CongestionCamera
from licensing.models import License
from tests.browser.test_foundation_flow import log_in
from tests.licensing.factories import give_camera_licenses
from workers.people.detector import FakeDetector, Person

from .conftest import give_option, jpeg

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_enables_a_camera_sees_the_live_image_chart_and_downloads_the_csv(alpha, live_server, page, screenshot):
    give_option(alpha.operator, 1)
    lic = give_camera_licenses(alpha.operator, count=1)[0]
    License.objects.filter(pk=lic.pk).update(device=alpha.camera)
    log_in(page, live_server, alpha.admin.email)
    page.wait_for_url(re.compile(r"/$"))

    # Add the camera (with its confirmation step) and switch analysis on.
    page.goto(live_server.url + "/congestion/")
    page.get_by_role("link", name="Add a camera").first.click()
    page.get_by_label("Camera").select_option(str(alpha.camera.pk))
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Add").click()
    page.get_by_text("was added to congestion visualization").wait_for()
    page.get_by_label("Analysis enabled").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("were saved").wait_for()
    cc = CongestionCamera.objects.get(camera=alpha.camera)
    assert cc.enabled

    # One minute of analysis, as the worker would run it (two people in the frame).
    now = timezone.now()
    detector = FakeDetector([Person(5, 5, 20, 40, 0.9), Person(30, 5, 45, 40, 0.9)])
    assert (
        services.analysis_run(congestion_camera_id=cc.pk, minute=now, grab=lambda camera: jpeg(), detector=detector)
        == "done"
    )
    # Yesterday's history at the quarter hours, so the chart has points to draw and the CSV has rows.
    yesterday = timezone.localtime(now - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    for quarter, count in enumerate([4, 6, 3, 5]):
        minute = yesterday + timedelta(minutes=15 * quarter)
        Analysis.objects.create(
            operator=alpha.operator, congestion_camera=cc, minute=minute, status="done", count=count, captured_at=minute
        )

    page.goto(live_server.url + f"/congestion/cameras/{cc.pk}/")
    image = page.get_by_role("img", name="Congestion image")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert page.locator("[data-count]").inner_text() == "2"
    screenshot("congestion-live")

    # History of yesterday: Chart.js draws into the canvas.
    page.get_by_role("link", name="History and CSV").click()
    page.goto(page.url + f"?day={yesterday:%Y-%m-%d}&days=2")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart'))")
    drawn = page.evaluate(
        """() => { const c = document.getElementById('chart');
                   const points = Chart.getChart(c).data.datasets[0].data.filter(v => v !== null);
                   return c.width > 0 && c.height > 0 && points.length >= 4; }"""
    )
    assert drawn
    screenshot("congestion-history")

    # The month's CSV as a ZIP, through the browser's download.
    page.locator("#id_month").fill(f"{yesterday:%Y-%m}")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    archive = zipfile.ZipFile(io.BytesIO(open(info.value.path(), "rb").read()))
    [name] = archive.namelist()
    text = archive.read(name).decode("utf-8-sig")
    assert text.splitlines()[0] == '"カメラ名称","企業名称","タイムスタンプ","カメラ識別子","検知人数"'
    assert f'"{yesterday:%Y-%m-%d} 12:15:00","{alpha.camera.pk}","6"' in text


def test_a_prediction_bar_says_its_weekday_slot_and_average_when_clicked(alpha, live_server, page):
    give_option(alpha.operator, 1)
    lic = give_camera_licenses(alpha.operator, count=1)[0]
    License.objects.filter(pk=lic.pk).update(device=alpha.camera)
    cc = CongestionCamera.objects.create(operator=alpha.operator, camera=alpha.camera, display_name="Lobby")
    # Four people at 12:00 on each of the last eight days: enough data, an average of 4 in that slot.
    now = timezone.localtime()
    for days_ago in range(1, 9):
        minute = (now - timedelta(days=days_ago)).replace(hour=12, minute=0, second=0, microsecond=0)
        Analysis.objects.create(
            operator=alpha.operator, congestion_camera=cc, minute=minute, status="done", count=4, captured_at=minute
        )
    assert services.prediction_recompute(congestion_camera=cc).enough_data

    log_in(page, live_server, alpha.viewer.email)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(live_server.url + f"/congestion/cameras/{cc.pk}/prediction/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('chart'))")
    point = page.evaluate(
        """() => { const bar = Chart.getChart(document.getElementById('chart')).getDatasetMeta(0).data[48];
                   return {x: bar.x, y: (bar.y + bar.base) / 2}; }"""
    )
    page.locator("#chart").click(position={"x": point["x"], "y": point["y"]})
    weekday = page.locator("#weekday option:checked").inner_text()
    assert page.locator("#slot-status").inner_text() == f"{weekday} 12:00: 4 people on average"


def test_monitoring_pauses_and_resumes_its_refresh_and_goes_full_screen_and_the_level_follows_the_mode(
    alpha, live_server, page
):
    """Issue 17 points 9 and 10 in the browser."""
    give_option(alpha.operator, 1)
    cc = CongestionCamera.objects.create(operator=alpha.operator, camera=alpha.camera, display_name="Lobby")
    log_in(page, live_server, alpha.admin.email)
    page.wait_for_url(re.compile(r"/$"))
    page.goto(live_server.url + f"/congestion/cameras/{cc.pk}/monitoring/")
    pause = page.get_by_role("button", name="Pause refresh")
    pause.click()
    resume = page.get_by_role("button", name="Resume refresh")
    assert resume.get_attribute("aria-pressed") == "true"
    # live.js refreshes [data-live] regions only: the paused frame carries none
    assert page.locator("[data-live]").count() == 0
    assert page.get_by_role("status").inner_text() == "Refresh paused."
    resume.click()
    assert page.locator("#monitoring-frame[data-live=frame]").count() == 1
    page.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => document.fullscreenElement && document.fullscreenElement.id === 'monitoring-frame'")

    page.goto(live_server.url + f"/congestion/cameras/{cc.pk}/settings/")
    level = page.get_by_label("Detection level (detailed mode)")
    assert not level.is_visible()  # standard mode
    page.get_by_label("AI mode").select_option("detailed")
    assert level.is_visible()
    page.get_by_label("AI mode").select_option("wide")
    assert not level.is_visible()
