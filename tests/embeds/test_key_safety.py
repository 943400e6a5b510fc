"""Protecting a public embed key: an admin gives it a new URL (the old one is a 404 at once, page and
API), the per-IP limit counts an IPv6 client by its /64, and a per-key ceiling stops many addresses
together from emptying the month's quota in minutes."""

import importlib
import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from embeds import quota
from embeds.models import GroupSite
from portal.client_ip import rate_limit_bucket
from tests.conftest import client_for


def public_urls(key: str) -> list[str]:
    return [reverse(f"embed_public:{name}", kwargs={"embed_key": key}) for name in ("page", "image", "prediction")]


def rotate_url(owner) -> str:
    if hasattr(owner, "default_camera_id"):
        return reverse("embeds:group_embed_rotate", kwargs={"group_id": owner.pk})
    return reverse("embeds:camera_embed_rotate", kwargs={"congestion_camera_id": owner.pk})


def random_v6_prefix() -> str:
    """A /64 no other test (or earlier run sharing the file cache) used: 2001:db8:xxxx:xxxx::/64."""
    return "2001:db8:" + ":".join(secrets.token_hex(2) for _ in range(2))


# ----------------------------------------------------------------------------- new URL


@pytest.mark.parametrize("which", ["camera", "group"])
def test_an_admin_changes_the_embed_url_and_the_old_one_is_a_404_at_once(alpha, cc, group, which):
    owner = cc if which == "camera" else group
    old = owner.embed_key
    visitor = Client()
    assert [visitor.get(u).status_code for u in public_urls(old)] == [200, 200, 200]  # served (and looked up) once

    admin = client_for(alpha.admin)
    confirm = admin.get(rotate_url(owner))
    assert confirm.status_code == 200
    assert "stops working at once" in confirm.content.decode() and f"/e/{old}/" in confirm.content.decode()
    owner.refresh_from_db()
    assert owner.embed_key == old  # looking at the confirmation changes nothing

    done = admin.post(rotate_url(owner), follow=True)
    assert "The old URL no longer works" in done.content.decode()
    owner.refresh_from_db()
    assert owner.embed_key != old and len(owner.embed_key) >= 32
    assert [visitor.get(u).status_code for u in public_urls(old)] == [404, 404, 404]
    assert [visitor.get(u).status_code for u in public_urls(owner.embed_key)] == [200, 200, 200]
    assert f"/e/{owner.embed_key}/" in done.content.decode()  # the embed page shows the new snippet


def test_the_embed_page_offers_the_change_to_admins_only(alpha, cc):
    page = reverse("embeds:camera_embed", kwargs={"congestion_camera_id": cc.pk})
    assert rotate_url(cc) in client_for(alpha.admin).get(page).content.decode()
    assert rotate_url(cc) not in client_for(alpha.viewer).get(page).content.decode()


def test_only_admins_change_the_url_and_other_operators_get_404(alpha, bravo, cc, group):
    old = (cc.embed_key, group.embed_key)
    for owner in (cc, group):
        for user, code in ((alpha.viewer, 403), (alpha.device_operator, 403), (bravo.admin, 404)):
            client = client_for(user)
            assert client.get(rotate_url(owner)).status_code == code
            assert client.post(rotate_url(owner)).status_code == code
    cc.refresh_from_db()
    group.refresh_from_db()
    assert (cc.embed_key, group.embed_key) == old


def test_the_api_changes_the_url_and_answers_the_new_snippet(alpha, bravo, cc, group):
    for owner, path in (
        (cc, f"/api/v1/congestion/cameras/{cc.pk}/embed/rotate/"),
        (group, f"/api/v1/congestion/groups/{group.pk}/embed/rotate/"),
    ):
        old = owner.embed_key
        assert client_for(alpha.viewer).post(path).status_code == 403
        assert client_for(bravo.admin).post(path).status_code == 404
        owner.refresh_from_db()
        assert owner.embed_key == old
        answer = client_for(alpha.admin).post(path)
        assert answer.status_code == 200, answer.content
        owner.refresh_from_db()
        assert owner.embed_key != old
        assert f"/e/{owner.embed_key}/?o=" in answer.json()["url"] and owner.embed_key in answer.json()["snippet"]
        assert Client().get(public_urls(old)[1]).status_code == 404


def test_a_groups_site_keeps_its_own_url(alpha, group):
    site = GroupSite.objects.create(operator=alpha.operator, group=group, name="Lobby")
    client_for(alpha.admin).post(rotate_url(group))
    assert Client().get(reverse("embed_public:site", kwargs={"site_key": site.key})).status_code == 200


# ----------------------------------------------------------------------------- per-IP limit by /64


def test_ipv6_clients_are_counted_by_their_64_and_ipv4_by_address():
    assert rate_limit_bucket("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert rate_limit_bucket("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64"
    assert rate_limit_bucket("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert rate_limit_bucket("::ffff:203.0.113.9") == "203.0.113.9"
    assert rate_limit_bucket("203.0.113.9") == "203.0.113.9"
    assert rate_limit_bucket("") == rate_limit_bucket(None) == rate_limit_bucket("garbage") == "unknown"


def test_one_ipv6_visitor_rotating_addresses_in_its_64_is_rate_limited(cc, settings):
    settings.EMBED_IP_CALLS_PER_CAMERA_PER_MINUTE = 3
    prefix = random_v6_prefix()
    image = public_urls(cc.embed_key)[1]
    client = Client()
    answers = [client.get(image, REMOTE_ADDR=f"{prefix}:{n:x}::1").status_code for n in range(1, 6)]
    assert answers == [200, 200, 200, 429, 429]
    assert client.get(image, REMOTE_ADDR=f"{random_v6_prefix()}::1").status_code == 200  # another /64
    assert quota.used(cc.operator_id) == 4


# ----------------------------------------------------------------------------- per-key ceiling


def test_many_addresses_together_cannot_pass_the_per_key_ceiling(cc, second_cc, settings):
    settings.EMBED_KEY_CALLS_PER_MINUTE = 3
    settings.EMBED_KEY_BURST = 0  # the burst is the per-minute budget
    prefix = random_v6_prefix()
    image, prediction = public_urls(cc.embed_key)[1:]
    client = Client()
    answers = [client.get(image, REMOTE_ADDR=f"{prefix}:{n:x}::1").status_code for n in range(2)]
    answers.append(client.get(prediction, REMOTE_ADDR=f"{prefix}:ff::1").status_code)
    limited = client.get(image, REMOTE_ADDR=f"{prefix}:100::1")
    assert answers == [200, 200, 200] and limited.status_code == 429
    assert limited["X-Embed-State"] == "rate-limited" and limited["Retry-After"] == "60"
    assert client.get(prediction, REMOTE_ADDR=f"{prefix}:101::1").json() == {"state": "rate-limited"}
    assert quota.used(cc.operator_id) == 3  # the refused calls cost nothing
    # Another embed of the same operator has its own budget.
    assert client.get(public_urls(second_cc.embed_key)[1], REMOTE_ADDR=f"{prefix}:102::1").status_code == 200


def test_each_camera_of_a_generated_site_has_its_own_budget(alpha, group, settings):
    settings.EMBED_KEY_CALLS_PER_MINUTE = 1
    settings.EMBED_KEY_BURST = 1
    site = GroupSite.objects.create(operator=alpha.operator, group=group, name="Lobby")

    def image(index: int) -> str:
        return reverse("embed_public:site_image", kwargs={"site_key": site.key, "camera_index": index})

    client = Client()
    assert [client.get(image(0)).status_code, client.get(image(1)).status_code] == [200, 200]
    assert [client.get(image(0)).status_code, client.get(image(1)).status_code] == [429, 429]


def test_the_per_key_budget_refills_evenly_and_allows_bursts(settings):
    settings.EMBED_KEY_CALLS_PER_MINUTE = 2  # one token every 30 s
    settings.EMBED_KEY_BURST = 3
    key = secrets.token_urlsafe(24)
    start = 60 * (10**7 + secrets.randbelow(10**6))
    assert [quota.key_rate_limited(key, now=start + s) for s in (0, 1, 2, 3)] == [False, False, False, True]
    assert quota.key_rate_limited(key, now=start + 20) is True  # 2/3 of a token back: not yet
    assert quota.key_rate_limited(key, now=start + 33) is False  # a full one
    assert quota.key_rate_limited(key, now=start + 34) is True
    assert [quota.key_rate_limited(key, now=start + 3600 + s) for s in (0, 1, 2, 3)] == [False, False, False, True]
    settings.EMBED_KEY_CALLS_PER_MINUTE = 0
    assert quota.key_rate_limited(key, now=start + 3601) is False  # 0 turns the ceiling off


def test_a_bad_key_ceiling_setting_stops_the_start(monkeypatch):
    import portal.settings.embeds as embeds_settings

    monkeypatch.setenv("EMBED_KEY_CALLS_PER_MINUTE", "-1")
    with pytest.raises(ImproperlyConfigured, match="EMBED_KEY_CALLS_PER_MINUTE"):
        importlib.reload(embeds_settings)
    monkeypatch.delenv("EMBED_KEY_CALLS_PER_MINUTE")
    importlib.reload(embeds_settings)
    assert embeds_settings.EMBED_KEY_CALLS_PER_MINUTE == 120
