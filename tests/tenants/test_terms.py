"""Terms-of-use consent at the first login (manual 001): the version and time are recorded, a new
version asks again, consent to an unknown version is refused with nothing saved. Pages and API."""

import pytest
from django.urls import reverse

from tenants.models import TermsConsent
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def terms(settings):
    settings.PORTAL_TERMS_VERSION = "2026-04"
    return settings


def test_the_first_page_after_login_asks_for_consent_and_records_version_and_time(alpha):
    client = client_for(alpha.viewer)
    response = client.get("/recording/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("tenants:terms"))
    page = client.get(response["Location"])
    assert "version 2026-04" in page.content.decode()

    accepted = client.post(reverse("tenants:terms"), {"version": "2026-04", "agree": "1", "next": "/recording/"})

    assert accepted.status_code == 302 and accepted["Location"] == "/recording/"
    consent = TermsConsent.objects.get(user=alpha.viewer)
    assert consent.version == "2026-04" and consent.consented_at is not None
    assert client.get("/").status_code == 200


def test_a_new_version_asks_again_and_keeps_the_earlier_consent(alpha, terms):
    client = client_for(alpha.admin)
    client.post(reverse("tenants:terms"), {"version": "2026-04", "agree": "1"})
    assert client.get("/").status_code == 200

    terms.PORTAL_TERMS_VERSION = "2026-10"

    assert client.get("/").status_code == 302
    assert client.get("/api/v1/me/").status_code == 403
    client.post(reverse("tenants:terms"), {"version": "2026-10", "agree": "1"})
    assert sorted(TermsConsent.objects.filter(user=alpha.admin).values_list("version", flat=True)) == [
        "2026-04",
        "2026-10",
    ]
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("version", ["2025-01", "", "2026-04x"])
def test_consent_to_an_unknown_version_is_refused_with_nothing_saved(alpha, version):
    client = client_for(alpha.viewer)
    page = client.post(reverse("tenants:terms"), {"version": version, "agree": "1"})
    assert page.status_code == 400 and "Unknown terms version" in page.content.decode()
    api = client.post(reverse("api-terms"), {"version": version}, content_type="application/json")
    assert api.status_code == 400 and "version" in api.json()
    assert not TermsConsent.objects.exists()
    assert client.get("/").status_code == 302  # still asked


def test_not_ticking_the_box_accepts_nothing(alpha):
    page = client_for(alpha.viewer).post(reverse("tenants:terms"), {"version": "2026-04"})
    assert page.status_code == 400 and "Tick the box" in page.content.decode()
    assert not TermsConsent.objects.exists()


def test_the_api_tells_the_version_to_accept_and_takes_the_consent(alpha):
    client = client_for(alpha.viewer)
    blocked = client.get("/api/v1/me/")
    assert blocked.status_code == 403 and blocked.json()["terms_version"] == "2026-04"
    assert client.get(reverse("api-terms")).json() == {"version": "2026-04", "consented_at": None}

    accepted = client.post(reverse("api-terms"), {"version": "2026-04"}, content_type="application/json")

    assert accepted.status_code == 201 and accepted.json()["version"] == "2026-04"
    assert client.get("/api/v1/me/").status_code == 200
    assert client.get(reverse("api-terms")).json()["consented_at"] is not None
