"""The footer's terms, privacy and access-information links are settings, and a contact page shows the
configured address (docs/product.md §1.9)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def links(settings):
    settings.PORTAL_TERMS_URL = "https://example.com/terms"
    settings.PORTAL_PRIVACY_URL = "https://example.com/privacy"
    settings.PORTAL_ACCESS_INFO_URL = "https://example.com/access-info"
    settings.PORTAL_CONTACT_EMAIL = "help@example.net"
    settings.PORTAL_CONTACT_PHONE = "0120-000-000"
    settings.PORTAL_CONTACT_HOURS = "9:30-18:00"


def test_every_page_footer_has_the_configured_links_and_the_contact_page(alpha, links):
    page = client_for(alpha.viewer).get(reverse("home")).content.decode()
    for url, label in (
        ("https://example.com/terms", "Terms of use"),
        ("https://example.com/privacy", "Privacy policy"),
        ("https://example.com/access-info", "Handling of access information"),
    ):
        assert f'<a href="{url}" rel="noopener">{label}</a>' in page
    assert f'href="{reverse("contact")}"' in page
    login = Client().get(reverse("tenants:login")).content.decode()
    assert "https://example.com/terms" in login  # also before logging in


def test_an_empty_link_is_left_out(alpha, settings, links):
    settings.PORTAL_PRIVACY_URL = ""
    page = client_for(alpha.viewer).get(reverse("home")).content.decode()
    assert "Privacy policy" not in page and "Terms of use" in page


def test_the_contact_page_shows_the_configured_address_without_a_login(links):
    response = Client().get(reverse("contact"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="mailto:help@example.net"' in page and "0120-000-000" in page and "9:30-18:00" in page


def test_the_contact_page_speaks_japanese(links):
    client = Client()
    client.cookies["django_language"] = "ja"
    page = client.get(reverse("contact")).content.decode()
    assert "お問い合わせ" in page and "利用規約" in page and "アクセス情報の取り扱い" in page


def test_the_api_gives_the_links_and_the_contact(links):
    data = Client().get("/api/v1/site-info/").json()
    assert data == {
        "terms_url": "https://example.com/terms",
        "privacy_url": "https://example.com/privacy",
        "access_info_url": "https://example.com/access-info",
        "contact": {"email": "help@example.net", "phone": "0120-000-000", "hours": "9:30-18:00"},
    }


def test_a_bad_setting_stops_the_start(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import portal.settings.site as site

    monkeypatch.setenv("PORTAL_CONTACT_EMAIL", "not-an-address")
    with pytest.raises(ImproperlyConfigured, match="PORTAL_CONTACT_EMAIL"):
        importlib.reload(site)
    monkeypatch.setenv("PORTAL_CONTACT_EMAIL", "support@example.com")
    monkeypatch.setenv("PORTAL_TERMS_URL", "javascript:alert(1)")
    with pytest.raises(ImproperlyConfigured, match="PORTAL_TERMS_URL"):
        importlib.reload(site)
    monkeypatch.delenv("PORTAL_TERMS_URL")
    importlib.reload(site)
