"""Changing an account's email address (issue 13 §2): whoever holds the address can reset the
password, so a change needs the acting user's current password, and the old address is told."""

from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import client_for

ACCOUNT = reverse("tenants:account")


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_account_page_needs_the_current_password_for_a_new_email(alpha, password):
    client = client_for(alpha.viewer)
    for given in ("", "not-my-password"):
        data = {"action": "profile", "name": "V", "email": "new@example.com", "current_password": given}
        response = client.post(ACCOUNT, data)
        assert response.status_code == 200
        assert "Enter your current password to change the email address." in response.content.decode()
        alpha.viewer.refresh_from_db()
        assert alpha.viewer.email == "alpha-viewer@example.com"


def test_the_old_address_is_told_of_the_change(alpha, password, django_capture_on_commit_callbacks):
    data = {"action": "profile", "name": "V", "email": "new@example.com", "current_password": password}
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alpha.viewer).post(ACCOUNT, data)
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.email == "new@example.com"
    [notice] = mail.outbox
    assert notice.to == ["alpha-viewer@example.com"]
    assert "new@example.com" in notice.body and "changed" in notice.subject


def test_the_api_needs_the_current_password_too(alpha, password, django_capture_on_commit_callbacks):
    client = api(alpha.viewer)
    response = client.patch("/api/v1/me/", {"email": "api-new@example.com"})
    assert response.status_code == 400 and "current password" in response.json()["current_password"][0]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch("/api/v1/me/", {"email": "api-new@example.com", "current_password": password})
    assert response.status_code == 200 and "current_password" not in response.json()
    assert mail.outbox[-1].to == ["alpha-viewer@example.com"]


def test_an_admin_changing_someone_elses_email_gives_their_own_password(
    alpha, password, django_capture_on_commit_callbacks
):
    url = reverse("tenants:user_edit", args=[alpha.viewer.pk])
    data = {"name": "V", "email": "moved@example.com", "role": "viewer"}
    response = client_for(alpha.admin).post(url, data)
    assert "Enter your current password" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(alpha.admin).post(url, {**data, "current_password": password})
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.email == "moved@example.com"
    assert mail.outbox[-1].to == ["alpha-viewer@example.com"] and alpha.admin.email in mail.outbox[-1].body
    api_response = api(alpha.admin).patch(f"/api/v1/users/{alpha.viewer.pk}/", {"email": "again@example.com"})
    assert api_response.status_code == 400 and "current_password" in api_response.json()
