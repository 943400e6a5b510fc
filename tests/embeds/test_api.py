"""Embed settings and generated-site API: admins write, viewers read, outsiders 404, bad input 400."""

from embeds.models import EmbedSetting, GroupSite
from tests.conftest import client_for

GOOD = {
    "show_visualization": True,
    "show_prediction": False,
    "initial_view": "visualization",
    "size_mode": "scale_hd",
    "auto_refresh": False,
    "show_count": False,
}


def test_admin_saves_camera_embed_and_viewer_reads_it(alpha, cc):
    url = f"/api/v1/congestion/cameras/{cc.pk}/embed/"
    saved = client_for(alpha.admin).put(url, GOOD, content_type="application/json")
    assert saved.status_code == 200, saved.content
    read = client_for(alpha.viewer).get(url).json()
    assert {k: read[k] for k in GOOD} == GOOD
    assert f"/e/{cc.embed_key}/?o=" in read["url"]  # the saved options, signed into the snippet's URL
    assert "max-width:1280px" in read["snippet"] and read["url"] in read["snippet"]


def test_viewer_cannot_write_embed_or_site(alpha, cc, group):
    viewer = client_for(alpha.viewer)
    assert (
        viewer.put(f"/api/v1/congestion/cameras/{cc.pk}/embed/", GOOD, content_type="application/json").status_code
        == 403
    )
    assert (
        viewer.put(f"/api/v1/congestion/groups/{group.pk}/embed/", GOOD, content_type="application/json").status_code
        == 403
    )
    site = {"enabled": True, "name": "Lobby"}
    assert (
        viewer.put(f"/api/v1/congestion/groups/{group.pk}/site/", site, content_type="application/json").status_code
        == 403
    )
    assert viewer.delete(f"/api/v1/congestion/groups/{group.pk}/site/").status_code == 403
    assert not EmbedSetting.objects.exists() and not GroupSite.objects.exists()


def test_other_operator_gets_404_on_embed_and_site(bravo, cc, group):
    outsider = client_for(bravo.admin)
    for url in (
        f"/api/v1/congestion/cameras/{cc.pk}/embed/",
        f"/api/v1/congestion/groups/{group.pk}/embed/",
        f"/api/v1/congestion/groups/{group.pk}/site/",
    ):
        assert outsider.get(url).status_code == 404, url
        assert outsider.put(url, GOOD, content_type="application/json").status_code == 404, url
    assert outsider.delete(f"/api/v1/congestion/groups/{group.pk}/site/").status_code == 404
    assert not EmbedSetting.objects.exists()


def test_bad_views_are_refused_and_nothing_saved(alpha, cc):
    bad = GOOD | {"show_visualization": False, "show_prediction": False}
    response = client_for(alpha.admin).put(
        f"/api/v1/congestion/cameras/{cc.pk}/embed/", bad, content_type="application/json"
    )
    assert response.status_code == 400
    assert not EmbedSetting.objects.exists()


def test_site_on_off_on_makes_a_new_url(alpha, group):
    api = client_for(alpha.admin)
    url = f"/api/v1/congestion/groups/{group.pk}/site/"
    assert api.get(url).json()["enabled"] is False
    body = {
        "enabled": True,
        "name": "Lobby site",
        "link_mode": "button",
        "link_title": "Shop",
        "link_url": "https://example.com/",
    }
    first = api.put(url, body, content_type="application/json").json()
    assert first["enabled"] and first["url"] and first["name"] == "Lobby site"
    assert client_for(alpha.viewer).get(url).json()["url"] == first["url"]
    assert api.delete(url).status_code == 204
    assert api.get(url).json()["url"] is None and not GroupSite.objects.exists()
    second = api.put(url, body, content_type="application/json").json()
    assert second["url"] != first["url"]


def test_site_with_a_link_but_no_url_is_refused(alpha, group):
    body = {"enabled": True, "name": "Lobby", "link_mode": "button", "link_title": "Shop", "link_url": "not a url"}
    response = client_for(alpha.admin).put(
        f"/api/v1/congestion/groups/{group.pk}/site/", body, content_type="application/json"
    )
    assert response.status_code == 400 and "link_url" in response.json()
    assert not GroupSite.objects.exists()
