"""The public embed page and its image endpoint: keys, 404s, headers, what it shows."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congestion.models import AlertSetting, CongestionCamera, PublicImage
from embeds import quota
from tests.conftest import client_for
from tests.congestion.conftest import register


def page_url(key: str) -> str:
    return reverse("embed_public:page", kwargs={"embed_key": key})


def image_url(key: str) -> str:
    return reverse("embed_public:image", kwargs={"embed_key": key})


def test_embed_keys_are_unguessable(cc, group):
    for key in (cc.embed_key, group.embed_key):
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", key)  # 24 random bytes = 192 bits
    assert cc.embed_key != group.embed_key


def test_the_public_page_and_image_work_without_login_or_cookie(cc):
    client = Client()
    page = client.get(page_url(cc.embed_key))
    assert page.status_code == 200
    assert image_url(cc.embed_key).encode() in page.content
    image = client.get(image_url(cc.embed_key))
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert image.content.startswith(b"\xff\xd8\xff")
    assert image["X-Embed-Count"] == "3"
    # The minute the image was analysed (the fixture's, read back: the test may cross a minute boundary).
    analysed_at = PublicImage.objects.get(congestion_camera=cc).analysed_at
    assert image["X-Embed-Time"] == timezone.localtime(analysed_at).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("key", ["x", "A" * 32, "bad key!" * 4, "A" * 65])
def test_unknown_or_malformed_keys_are_a_bare_404(cc, key):
    client = Client()
    for name in ("page", "image", "prediction"):
        response = client.get(reverse(f"embed_public:{name}", kwargs={"embed_key": key}))
        assert response.status_code == 404
        assert response.content == b"Not found"


def test_deleting_the_camera_makes_its_url_404_and_re_adding_makes_a_new_key(alpha, cc):
    old = cc.embed_key
    cc.delete()
    assert Client().get(page_url(old)).status_code == 404
    assert Client().get(image_url(old)).status_code == 404
    again = register(alpha)
    assert again.embed_key != old
    assert Client().get(page_url(again.embed_key)).status_code == 200


def test_deleting_the_group_makes_its_url_404(group):
    key = group.embed_key
    assert Client().get(page_url(key)).status_code == 200
    group.delete()
    assert Client().get(page_url(key)).status_code == 404


@pytest.mark.parametrize("logged_in", [False, True])
def test_public_pages_may_be_framed_anywhere_and_set_no_cookie(alpha, cc, logged_in):
    client = client_for(alpha.admin) if logged_in else Client()
    for url in (page_url(cc.embed_key), image_url(cc.embed_key)):
        response = client.get(url)
        assert "frame-ancestors *" in response["Content-Security-Policy"]
        assert "X-Frame-Options" not in response
        assert not response.cookies, response.cookies
        assert "Set-Cookie" not in str(response.serialize_headers())
        assert "cookie" not in response.get("Vary", "").lower()
        assert response["Cache-Control"] == "no-store"


def test_portal_pages_stay_unframeable(alpha, cc):
    response = client_for(alpha.admin).get(reverse("embeds:camera_embed", kwargs={"congestion_camera_id": cc.pk}))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"


def test_the_public_page_shows_nothing_of_the_operator(alpha, cc):
    body = Client().get(page_url(cc.embed_key)).content.decode()
    for secret in (alpha.operator.name, cc.display_name, alpha.camera.name):
        assert secret not in body
    # No id in any address the page holds (a bare "1" would match "initial-scale=1" on a fresh database).
    for value in re.findall(r'(?:href|src|action|data-image|data-prediction|data-limit-image)="([^"]*)"', body):
        assert str(alpha.operator.pk) not in re.split(r"[/?&=#.]", value), value
    headers = str(Client().get(image_url(cc.embed_key)).serialize_headers())
    assert alpha.operator.name not in headers and cc.display_name not in headers


def test_the_count_is_hidden_when_the_operator_chose_so(alpha, cc):
    from embeds.services import embed_setting_save

    embed_setting_save(
        user=alpha.admin, congestion_camera=cc, show_visualization=True, show_prediction=False,
        initial_view="visualization", size_mode="fixed", auto_refresh=True, show_count=False,
    )  # fmt: skip
    response = Client().get(image_url(cc.embed_key))
    assert "X-Embed-Count" not in response


def test_the_status_label_follows_the_alert_thresholds(alpha, cc):
    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=cc, steps=3, thresholds=[2, 5])
    response = Client().get(image_url(cc.embed_key))
    assert response["X-Embed-Label"] == "Somewhat%20crowded"


def test_a_group_embed_shows_the_group_count_and_its_alert_image(alpha, group):
    AlertSetting.objects.create(operator=alpha.operator, group=group, steps=2, thresholds=[5],
                                image_enabled=True, images=["", "template"])  # fmt: skip
    PublicImage.objects.filter(congestion_camera__groups=group).update(captured_at=timezone.now())
    response = Client().get(image_url(group.embed_key))
    assert response["X-Embed-Count"] == "7"  # 3 + 4
    assert response["X-Embed-Label"] == "Crowded"
    from embeds.selectors import default_image

    assert response.content == default_image("alert-template-3.jpg")


def test_each_image_shown_counts_one_call(cc):
    client = Client()
    client.get(page_url(cc.embed_key))  # the HTML page itself shows no image yet
    assert quota.used(cc.operator_id) == 0
    for _ in range(3):
        client.get(image_url(cc.embed_key))
    client.get(reverse("embed_public:prediction", kwargs={"embed_key": cc.embed_key}))
    assert quota.used(cc.operator_id) == 4


def test_prediction_without_seven_days_says_not_enough_data(cc):
    data = Client().get(reverse("embed_public:prediction", kwargs={"embed_key": cc.embed_key})).json()
    assert data == {"state": "ok", "enough": False}


def test_prediction_gives_ratios_and_steps_per_slot_never_counts(alpha, cc):
    from congestion.models import Prediction

    AlertSetting.objects.create(operator=alpha.operator, congestion_camera=cc, steps=2, thresholds=[10])
    Prediction.objects.create(operator=alpha.operator, congestion_camera=cc, weekday=0, slot=40, average=20.0)
    Prediction.objects.create(operator=alpha.operator, congestion_camera=cc, weekday=0, slot=41, average=5.0)
    data = Client().get(reverse("embed_public:prediction", kwargs={"embed_key": cc.embed_key})).json()
    assert data["enough"] is True
    monday = data["days"][0]
    assert (monday["ratios"][40], monday["ratios"][41]) == (1.0, 0.25)  # y-max = max(20, threshold 10)
    assert (monday["steps"][40], monday["steps"][41]) == (2, 1)
    assert data["labels"] == ["Not crowded", "Crowded"]


def test_another_operators_embed_is_not_reachable_through_the_admin_pages(alpha, bravo, cc):
    bravo_cc = CongestionCamera.objects.create(operator=bravo.operator, camera=bravo.camera, display_name="B")
    url = reverse("embeds:camera_embed", kwargs={"congestion_camera_id": bravo_cc.pk})
    assert client_for(alpha.admin).get(url).status_code == 404


def test_the_public_page_speaks_the_visitors_language(cc):
    html = Client().get(page_url(cc.embed_key), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="ja">' in html
    assert "混雑予測を表示" in html  # the switch button
    assert "\\u6708" in html or "月" in html  # weekday names for the graph, in the page's JSON


def test_a_group_embed_leaves_out_a_camera_that_stopped_answering(alpha, group, second_cc):
    PublicImage.objects.filter(congestion_camera__groups=group).update(captured_at=timezone.now())
    PublicImage.objects.filter(congestion_camera=second_cc).update(captured_at=timezone.now() - timedelta(hours=1))
    response = Client().get(image_url(group.embed_key))
    assert response["X-Embed-Count"] == "3"  # the second camera's 4 is an hour old
