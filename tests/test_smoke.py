from django.urls import reverse

from tests.conftest import client_for


def test_healthz_reports_database(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_home_lists_only_own_cameras(alpha, bravo):
    body = client_for(alpha.viewer).get(reverse("home")).content.decode()
    assert "Alpha Cam" in body
    assert "Bravo Cam" not in body
