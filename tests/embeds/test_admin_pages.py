"""Embed-code pages and the generated-site page: admins write, viewers read, outsiders get 404."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from embeds import quota
from embeds.models import EmbedSetting, GroupSite
from tests.conftest import client_for

EMBED_POST = {
    "show_visualization": "on", "show_prediction": "on", "initial_view": "prediction", "size_mode": "scale_hd",
    "auto_refresh": "0", "show_count": "",
}  # fmt: skip
SITE_POST = {
    "enabled": "on", "name": "Lobby now", "link_mode": "qr_top", "link_title": "Coupons",
    "link_description": "Show this at the counter", "link_url": "https://shop.example.com/coupon",
    "show_visualization": "on", "show_prediction": "on", "initial_view": "visualization", "auto_refresh": "1",
}  # fmt: skip


def embed_url(cc) -> str:
    return reverse("embeds:camera_embed", kwargs={"congestion_camera_id": cc.pk})


def site_url(group) -> str:
    return reverse("embeds:group_site", kwargs={"group_id": group.pk})


def test_the_embed_code_page_gives_an_iframe_snippet_with_a_copy_button(alpha, cc):
    html = client_for(alpha.viewer).get(embed_url(cc)).content.decode()
    assert "data-copy=" in html
    snippet = re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert "&lt;iframe" in snippet and f"/e/{cc.embed_key}/" in snippet
    assert "width=&quot;480&quot; height=&quot;440&quot;" in snippet


def test_an_admin_saves_the_embed_options_and_the_snippet_follows(alpha, cc):
    client = client_for(alpha.admin)
    response = client.post(embed_url(cc), EMBED_POST, follow=True)
    assert "Success" in response.content.decode()
    setting = EmbedSetting.objects.get(congestion_camera=cc)
    assert (setting.initial_view, setting.size_mode, setting.auto_refresh, setting.show_count) == (
        "prediction", "scale_hd", False, False,
    )  # fmt: skip
    assert "max-width:1280px" in response.content.decode()
    page = Client().get(reverse("embed_public:page", kwargs={"embed_key": cc.embed_key})).content.decode()
    assert 'data-first="prediction"' in page and 'data-auto="0"' in page
    assert 'data-action="refresh"' in page and 'data-action="switch"' in page


def test_bad_embed_options_are_refused_and_nothing_is_saved(alpha, cc):
    bad = {**EMBED_POST, "show_visualization": "", "show_prediction": ""}
    response = client_for(alpha.admin).post(embed_url(cc), bad)
    assert response.status_code == 200
    assert "Choose at least one" in response.content.decode()
    wrong_first = {**EMBED_POST, "show_prediction": "", "initial_view": "prediction"}
    assert "must be one of the views shown" in client_for(alpha.admin).post(embed_url(cc), wrong_first).content.decode()
    assert not EmbedSetting.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "device_operator"])
def test_read_only_users_see_the_code_but_cannot_change_it(alpha, cc, group, role):
    client = client_for(getattr(alpha, role))
    assert client.get(embed_url(cc)).status_code == 200
    assert client.post(embed_url(cc), EMBED_POST).status_code == 403
    assert client.post(site_url(group), SITE_POST).status_code == 403
    assert not EmbedSetting.objects.exists() and not GroupSite.objects.exists()


def test_outsiders_get_404_on_every_embed_page(bravo, cc, group):
    client = client_for(bravo.admin)
    assert client.get(embed_url(cc)).status_code == 404
    assert client.post(embed_url(cc), EMBED_POST).status_code == 404
    assert client.get(reverse("embeds:group_embed", kwargs={"group_id": group.pk})).status_code == 404
    assert client.post(site_url(group), SITE_POST).status_code == 404
    assert not GroupSite.objects.exists()


def test_the_site_turns_on_with_a_url_off_deletes_it_and_on_again_makes_a_new_one(alpha, group):
    client = client_for(alpha.admin)
    response = client.post(site_url(group), SITE_POST, follow=True)
    assert "Success" in response.content.decode()
    first = GroupSite.objects.get(group=group)
    public = reverse("embed_public:site", kwargs={"site_key": first.key})
    assert Client().get(public).status_code == 200

    off = {**SITE_POST, "enabled": ""}
    confirm = client.post(site_url(group), off)
    assert "Turn the web site off?" in confirm.content.decode() and public in confirm.content.decode()
    assert GroupSite.objects.filter(group=group).exists()  # nothing deleted before the confirmation
    client.post(site_url(group), {**off, "confirm": "1"}, follow=True)
    assert not GroupSite.objects.filter(group=group).exists()
    assert Client().get(public).status_code == 404

    client.post(site_url(group), SITE_POST)
    second = GroupSite.objects.get(group=group)
    assert second.key != first.key
    assert Client().get(reverse("embed_public:site", kwargs={"site_key": second.key})).status_code == 200


def test_a_site_link_needs_a_title_and_a_web_address(alpha, group):
    response = client_for(alpha.admin).post(site_url(group), {**SITE_POST, "link_url": "javascript:alert(1)"})
    assert "full http:// or https:// address" in response.content.decode()
    assert not GroupSite.objects.exists()


def test_the_site_shows_every_camera_counts_one_call_each_and_draws_the_qr_locally(alpha, group):
    client_for(alpha.admin).post(site_url(group), SITE_POST)
    site = GroupSite.objects.get(group=group)
    html = Client().get(reverse("embed_public:site", kwargs={"site_key": site.key})).content.decode()
    assert "<svg" in html and "https://shop.example.com/coupon" in html  # QR inline + the phone link
    assert "http" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    images = re.findall(r'data-image="([^"]+)"', html)
    assert len(images) == 2
    for url in images:
        assert Client().get(url)["X-Embed-State"] == "ok"
    assert quota.used(alpha.operator.pk) == 2
    assert Client().get(images[0].replace("/0/", "/7/")).status_code == 404


def test_deleting_the_group_deletes_its_site(alpha, group):
    client_for(alpha.admin).post(site_url(group), SITE_POST)
    key = GroupSite.objects.get(group=group).key
    group.delete()
    assert Client().get(reverse("embed_public:site", kwargs={"site_key": key})).status_code == 404
