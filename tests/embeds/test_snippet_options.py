"""Embed options chosen per snippet (docs/product.md §6.10): signed into the snippet's URL, so one site can
show an image-only and a prediction-only embed of the same camera, a visitor cannot change them, and a
new default leaves pasted snippets alone. The bare URL shows the saved default."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from embeds.models import EmbedSetting
from embeds.services import embed_setting_save
from tests.conftest import client_for

IMAGE_ONLY = {
    "show_visualization": "on", "initial_view": "visualization", "size_mode": "fixed", "auto_refresh": "1",
    "make": "1",
}  # fmt: skip
PREDICTION_ONLY = {
    "show_prediction": "on", "initial_view": "prediction", "size_mode": "scale", "auto_refresh": "0",
    "show_count": "on", "make": "1",
}  # fmt: skip


def embed_page(cc) -> str:
    return reverse("embeds:camera_embed", kwargs={"congestion_camera_id": cc.pk})


def snippet_of(page_html: str) -> str:
    raw = re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>', page_html, re.S).group(1)
    return html.unescape(raw)


def src_of(snippet: str) -> str:
    return re.search(r'src="([^"]+)"', snippet).group(1).replace("http://testserver", "")


def public(url: str):
    return Client().get(url)


def image_of(page_url: str):
    body = public(page_url).content.decode()
    return public(html.unescape(re.search(r'data-image="([^"]+)"', body).group(1)))


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_anyone_of_the_operator_makes_a_snippet_for_chosen_options_without_saving_them(alpha, cc, role):
    response = client_for(getattr(alpha, role)).get(embed_page(cc), IMAGE_ONLY)
    assert response.status_code == 200
    url = src_of(snippet_of(response.content.decode()))
    assert parse_qs(urlsplit(url).query)["o"]
    assert not EmbedSetting.objects.exists()
    page = public(url).content.decode()
    assert 'data-views="visualization"' in page and 'data-action="switch"' not in page
    assert "X-Embed-Count" not in image_of(url)  # count off in this snippet


def test_one_site_shows_an_image_only_and_a_prediction_only_embed_of_the_same_camera(alpha, cc):
    client = client_for(alpha.admin)
    image_only = src_of(snippet_of(client.get(embed_page(cc), IMAGE_ONLY).content.decode()))
    prediction_only = snippet_of(client.get(embed_page(cc), PREDICTION_ONLY).content.decode())
    assert "aspect-ratio" in prediction_only  # the scaling size of that snippet
    prediction_only = src_of(prediction_only)
    assert image_only != prediction_only
    first, second = public(image_only).content.decode(), public(prediction_only).content.decode()
    assert 'data-views="visualization"' in first and 'data-auto="1"' in first
    assert 'data-views="prediction"' in second and 'data-first="prediction"' in second and 'data-auto="0"' in second


def test_a_visitor_who_changes_the_options_gets_a_bare_404(alpha, cc, group):
    url = src_of(snippet_of(client_for(alpha.admin).get(embed_page(cc), IMAGE_ONLY).content.decode()))
    token = parse_qs(urlsplit(url).query)["o"][0]
    code, signature = token.split(":", 1)
    forged = "11v" + code[3:5] + "1"  # both views and the count
    for name in ("page", "image", "prediction"):
        path = reverse(f"embed_public:{name}", kwargs={"embed_key": cc.embed_key})
        for bad in (f"{forged}:{signature}", f"{code}:{signature[:-1]}x", "garbage"):
            response = public(f"{path}?o={bad}")
            assert response.status_code == 404 and response.content == b"Not found", (name, bad)
        # Another embed's key does not accept this camera's token either.
        other = reverse(f"embed_public:{name}", kwargs={"embed_key": group.embed_key})
        assert public(f"{other}?o={token}").status_code == 404
        assert public(f"{path}?o={token}").status_code == 200


def test_changing_the_default_does_not_alter_a_pasted_snippet(alpha, cc):
    client = client_for(alpha.admin)
    pasted = src_of(snippet_of(client.get(embed_page(cc)).content.decode()))  # the default: count shown
    assert "o=" in pasted
    embed_setting_save(
        user=alpha.admin, congestion_camera=cc, show_visualization=True, show_prediction=False,
        initial_view="visualization", size_mode="scale", auto_refresh=False, show_count=False,
    )  # fmt: skip
    page = public(pasted).content.decode()
    assert 'data-views="visualization prediction"' in page and 'data-auto="1"' in page
    assert image_of(pasted)["X-Embed-Count"] == "3"
    bare = reverse("embed_public:page", kwargs={"embed_key": cc.embed_key})
    assert 'data-views="visualization"' in public(bare).content.decode()
    assert "X-Embed-Count" not in image_of(bare)  # the bare URL follows the new default
    # The page now starts from the new default, and its snippet carries it.
    fresh = snippet_of(client.get(embed_page(cc)).content.decode())
    assert src_of(fresh) != pasted and "aspect-ratio" in fresh


def test_an_admin_saves_the_chosen_options_as_the_default(alpha, cc):
    client = client_for(alpha.admin)
    made = client.get(embed_page(cc), PREDICTION_ONLY).content.decode()
    form = re.search(r'<form method="post" id="embed-default">.*?</form>', made, re.S).group(0)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
    assert client.post(embed_page(cc), hidden).status_code == 302
    setting = EmbedSetting.objects.get(congestion_camera=cc)
    assert (setting.show_visualization, setting.show_prediction, setting.size_mode, setting.auto_refresh) == (
        False, True, "scale", False,
    )  # fmt: skip
    assert 'id="embed-default"' not in client_for(alpha.viewer).get(embed_page(cc), PREDICTION_ONLY).content.decode()


def test_bad_snippet_options_are_refused_with_a_message(alpha, cc):
    response = client_for(alpha.viewer).get(embed_page(cc), {**IMAGE_ONLY, "show_visualization": ""})
    assert "Choose at least one" in response.content.decode()
    assert not EmbedSetting.objects.exists()


def test_the_api_makes_a_snippet_for_chosen_options(alpha, bravo, cc, group):
    body = {
        "show_visualization": False, "show_prediction": True, "initial_view": "prediction",
        "size_mode": "fixed", "auto_refresh": True, "show_count": False,
    }  # fmt: skip
    url = f"/api/v1/congestion/cameras/{cc.pk}/embed/snippet/"
    answer = client_for(alpha.viewer).post(url, body, content_type="application/json")
    assert answer.status_code == 200, answer.content
    data = answer.json()
    assert "?o=" in data["url"] and data["url"] in data["snippet"]
    assert 'data-views="prediction"' in public(data["url"].replace("http://testserver", "")).content.decode()
    assert not EmbedSetting.objects.exists()
    bad = client_for(alpha.viewer).post(url, {**body, "show_prediction": False}, content_type="application/json")
    assert bad.status_code == 400
    assert client_for(bravo.admin).post(url, body, content_type="application/json").status_code == 404
    group_url = f"/api/v1/congestion/groups/{group.pk}/embed/snippet/"
    assert client_for(alpha.viewer).post(group_url, body, content_type="application/json").status_code == 200
