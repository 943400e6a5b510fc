"""A public embed never misleads (docs/product.md §6.10): stale, disabled, over the license count or
closed shows the "no current data" or off-hours image without a count, a status or a time; each status
has its own colour, readable at WCAG AA."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congestion import rules, services
from congestion.models import AlertSetting, CongestionCamera, PublicImage
from embeds import selectors
from tests.congestion.conftest import register
from tests.factories import CameraFactory

CSS = Path(selectors.__file__).resolve().parent / "static" / "embeds" / "embed.css"


def image(key: str, **headers):
    return Client().get(reverse("embed_public:image", kwargs={"embed_key": key}), **headers)


def assert_nothing_current(response, state: str) -> None:
    assert response.status_code == 200
    assert response["X-Embed-State"] == state
    for header in ("X-Embed-Count", "X-Embed-Time", "X-Embed-Step"):
        assert header not in response, header
    assert response["X-Embed-Label"] == ""


def test_a_current_camera_shows_its_count_status_and_time(alpha, cc):
    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=cc, steps=3, thresholds=[2, 5])
    response = image(cc.embed_key)
    assert response["X-Embed-State"] == "ok"
    assert response["X-Embed-Count"] == "3"
    assert response["X-Embed-Label"] == "Somewhat%20crowded" and response["X-Embed-Step"] == "2"
    # The minute the image was analysed (the fixture's, read back: the test may cross a minute boundary).
    analysed_at = PublicImage.objects.get(congestion_camera=cc).analysed_at
    assert response["X-Embed-Time"] == timezone.localtime(analysed_at).strftime("%Y-%m-%d %H:%M")


def test_a_stale_camera_shows_no_current_data(settings, alpha, cc):
    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=cc, steps=2, thresholds=[1])
    settings.CONGESTION_STALE_MINUTES = 5
    PublicImage.objects.filter(congestion_camera=cc).update(captured_at=timezone.now() - timedelta(minutes=6))
    response = image(cc.embed_key)
    assert_nothing_current(response, "nodata")
    assert response.content == selectors.no_data_image()
    # Within the limit it is current again.
    PublicImage.objects.filter(congestion_camera=cc).update(captured_at=timezone.now() - timedelta(minutes=4))
    assert image(cc.embed_key)["X-Embed-Count"] == "3"


def test_a_camera_without_any_analysis_shows_no_current_data(cc):
    PublicImage.objects.filter(congestion_camera=cc).delete()
    assert_nothing_current(image(cc.embed_key), "nodata")


def test_a_disabled_camera_shows_no_current_data_at_once(cc):
    CongestionCamera.objects.filter(pk=cc.pk).update(enabled=False)
    response = image(cc.embed_key)
    assert_nothing_current(response, "nodata")
    assert response.content == selectors.no_data_image()


def test_an_operator_over_its_license_count_shows_no_current_data(alpha, cc):
    # cc's operator holds 3 option licenses (conftest); a 4th camera blocks analysis for all of them.
    for i in range(3):
        register(CameraFactory(room=alpha.room, name=f"Extra {i}"))
    assert_nothing_current(image(cc.embed_key), "nodata")


def test_a_closed_camera_shows_the_off_hours_image_without_the_last_count(alpha, cc):
    today = rules.business_day(timezone.localtime())
    services.hours_rule_add(user=alpha.admin, congestion_camera=cc, kind="closed", repeat="once", date=today)
    services.hours_enabled_set(user=alpha.admin, congestion_camera=cc, enabled=True)
    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=cc, steps=2, thresholds=[1])
    response = image(cc.embed_key)
    assert_nothing_current(response, "closed")
    assert response.content == selectors.default_image("offhours.jpg")


def test_a_group_with_no_current_camera_shows_no_current_data(alpha, group):
    AlertSetting.objects.create(operator=alpha.operator, group=group, steps=2, thresholds=[5])
    PublicImage.objects.filter(congestion_camera__groups=group).update(captured_at=timezone.now() - timedelta(hours=1))
    assert_nothing_current(image(group.embed_key), "nodata")


def test_a_group_whose_default_camera_stopped_counts_the_others_without_its_old_picture(alpha, group, cc, second_cc):
    CongestionCamera.objects.filter(pk=cc.pk).update(enabled=False)
    response = image(group.embed_key)
    assert response["X-Embed-State"] == "ok"
    assert response["X-Embed-Count"] == "4"  # second_cc only
    assert response.content == selectors.no_data_image()  # not the default camera's last picture


def test_a_generated_site_camera_follows_the_same_rule(alpha, group, second_cc):
    from embeds.services import site_save

    site = site_save(user=alpha.admin, group=group, enabled=True, name="Lobby")
    PublicImage.objects.filter(congestion_camera=second_cc).update(captured_at=timezone.now() - timedelta(hours=1))
    cameras = selectors.site_cameras(site)
    index = cameras.index(second_cc)
    url = reverse("embed_public:site_image", kwargs={"site_key": site.key, "camera_index": index})
    assert_nothing_current(Client().get(url), "nodata")
    other = reverse("embed_public:site_image", kwargs={"site_key": site.key, "camera_index": 1 - index})
    assert Client().get(other)["X-Embed-State"] == "ok"


# ----------------------------------------------------------------------------- status labels


@pytest.mark.parametrize(
    ("steps", "thresholds", "count", "step", "english", "japanese"),
    [
        (3, [2, 5], 1, 1, "Not crowded", "空"),
        (3, [2, 5], 3, 2, "Somewhat crowded", "やや混雑"),
        (3, [2, 5], 9, 3, "Crowded", "混雑"),
        (2, [4], 3, 1, "Not crowded", "空"),
        (2, [4], 5, 3, "Crowded", "混雑"),  # a 2-step 混雑 has the 3-step 混雑's colour
    ],
)
def test_each_status_has_its_own_step_and_text_in_both_languages(
    alpha, cc, steps, thresholds, count, step, english, japanese
):
    from urllib.parse import unquote

    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=cc, steps=steps, thresholds=thresholds)
    PublicImage.objects.filter(congestion_camera=cc).update(count=count)
    en = image(cc.embed_key, HTTP_ACCEPT_LANGUAGE="en")
    ja = image(cc.embed_key, HTTP_ACCEPT_LANGUAGE="ja")
    assert (en["X-Embed-Step"], unquote(en["X-Embed-Label"])) == (str(step), english)
    assert (ja["X-Embed-Step"], unquote(ja["X-Embed-Label"])) == (str(step), japanese)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def status_colours() -> dict[int, tuple[str, str]]:
    css = CSS.read_text()
    found = {}
    for step in (1, 2, 3):
        rule = re.search(rf"\.meta \.label\.step-{step} \{{([^}}]*)\}}", css)
        assert rule, f"no colour for status {step}"
        background = re.search(r"background:\s*(#[0-9a-fA-F]{6})", rule.group(1)).group(1)
        colour = re.search(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})", rule.group(1)).group(1)
        found[step] = (colour, background)
    return found


def test_each_status_colour_is_distinct_and_meets_wcag_aa():
    colours = status_colours()
    assert len({c for c, _ in colours.values()}) == 3 and len({b for _, b in colours.values()}) == 3
    for step, (colour, background) in colours.items():
        assert contrast(colour, background) >= 4.5, (step, colour, background, contrast(colour, background))
        assert contrast(colour, "#ffffff") >= 4.5  # the label's border and text also read on the white page


# ----------------------------------------------------------------------------- prediction within business hours


def _prediction(key: str) -> dict:
    return Client().get(reverse("embed_public:prediction", kwargs={"embed_key": key})).json()


def test_the_prediction_graph_knows_the_open_slots_of_each_weekday(alpha, cc):
    from datetime import time

    from congestion.models import Prediction

    Prediction.objects.create(operator=alpha.operator, congestion_camera=cc, weekday=0, slot=40, average=4.0)
    assert "open" not in _prediction(cc.embed_key)["days"][0]  # no business hours: all 24 hours
    services.hours_rule_add(
        user=alpha.admin, congestion_camera=cc, kind="base", weekdays=[0, 1, 2, 3, 4], start=time(10), end=time(18)
    )
    services.hours_enabled_set(user=alpha.admin, congestion_camera=cc, enabled=True)
    days = _prediction(cc.embed_key)["days"]
    today = timezone.localdate()
    for offset in range(7):
        day = today + timedelta(days=offset)
        mask = days[day.weekday()]["open"]
        assert len(mask) == 96
        if day.weekday() >= 5 or rules.is_public_holiday(day):
            assert mask == "0" * 96, day  # closed all day
        else:
            assert mask == "0" * 40 + "1" * 32 + "0" * 24, day  # 10:00-18:00
