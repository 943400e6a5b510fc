"""The own account page: profile, security settings, share ID, login history, API token."""

from datetime import timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tenants.models import ApiToken, LoginHistory, TwoFactorMode
from tenants.selectors import describe_user_agent
from tests.conftest import client_for

ACCOUNT = reverse("tenants:account")


def record(user, *, days_ago: float, ip: str, succeeded: bool = True, ua: str = "") -> None:
    LoginHistory.objects.create(
        operator=user.operator,
        user=user,
        at=timezone.now() - timedelta(days=days_ago),
        ip=ip,
        succeeded=succeeded,
        user_agent=ua,
    )


def test_account_page_shows_name_email_and_share_id(alpha):
    body = client_for(alpha.viewer).get(ACCOUNT).content.decode()
    assert alpha.viewer.email in body and alpha.operator.share_id in body
    assert reverse("tenants:password_change") in body


def test_login_history_shows_own_entries_of_the_last_90_days_only(alpha, bravo):
    ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36"
    record(alpha.viewer, days_ago=1, ip="10.0.0.1", ua=ua)
    record(alpha.viewer, days_ago=2, ip="10.0.0.2", succeeded=False)
    record(alpha.viewer, days_ago=91, ip="10.0.0.91")
    record(alpha.admin, days_ago=1, ip="10.0.0.77")
    record(bravo.admin, days_ago=1, ip="10.0.0.88")
    body = client_for(alpha.viewer).get(ACCOUNT).content.decode()
    assert "10.0.0.1" in body and "10.0.0.2" in body
    assert "Chrome 120 / Windows" in body
    assert "Failed" in body
    assert "10.0.0.91" not in body  # older than 90 days
    assert "10.0.0.77" not in body  # a colleague's
    assert "10.0.0.88" not in body  # another operator's


def test_empty_login_history_has_an_empty_state(alpha):
    assert "No logins in this period." in client_for(alpha.viewer).get(ACCOUNT).content.decode()


def test_profile_update_saves_and_says_success(alpha, password):
    client = client_for(alpha.viewer)
    data = {"action": "profile", "name": "Renamed", "email": "renamed@example.com", "current_password": password}
    response = client.post(ACCOUNT, data)
    assert response.url == ACCOUNT
    assert "Success" in client.get(ACCOUNT).content.decode()
    alpha.viewer.refresh_from_db()
    assert (alpha.viewer.name, alpha.viewer.email) == ("Renamed", "renamed@example.com")


def test_profile_update_refuses_a_taken_email_next_to_the_field(alpha, bravo, password):
    data = {"action": "profile", "name": "X", "email": bravo.admin.email, "current_password": password}
    response = client_for(alpha.viewer).post(ACCOUNT, data)
    assert response.status_code == 200
    assert "already used by another account" in response.content.decode()
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.email == "alpha-viewer@example.com" and alpha.viewer.name != "X"


def test_security_settings_save(alpha):
    client = client_for(alpha.viewer)
    client.post(ACCOUNT, {"action": "security", "two_factor_mode": TwoFactorMode.RISK})
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.two_factor_mode == TwoFactorMode.RISK and alpha.viewer.login_notification is False


def test_api_tokens_are_shown_once_listed_and_deleted(alpha):
    client = client_for(alpha.viewer)
    client.post(reverse("tenants:api_token_create"), {"name": "Report script", "expires_in_days": 30})
    page = client.get(ACCOUNT).content.decode()
    key = page.split('id="new-api-token">')[1].split("<")[0]
    assert "Report script" in page and key[:8] in page
    assert key not in client.get(ACCOUNT).content.decode()  # only once
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").json()["email"] == alpha.viewer.email

    client.post(reverse("tenants:api_token_create"), {"name": "Backup", "expires_in_days": 0})
    assert Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200  # both work

    token = ApiToken.objects.get(user=alpha.viewer, name="Report script")
    confirm = client.get(reverse("tenants:api_token_delete", args=[token.pk])).content.decode()
    assert "will be deleted" in confirm and "Report script" in confirm
    client.post(reverse("tenants:api_token_delete", args=[token.pk]))
    assert not ApiToken.objects.filter(pk=token.pk).exists()
    assert ApiToken.objects.filter(user=alpha.viewer, name="Backup").exists()
    refused = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")
    assert refused.status_code in (401, 403) and "not valid" in refused.json()["detail"]


def test_user_agents_are_described_briefly():
    assert describe_user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) Version/17.1 Safari/605.1.15") == (
        "Safari 17 / macOS"
    )
    edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0.2210.91"
    assert describe_user_agent(edge) == "Edge 120 / Windows"
    assert describe_user_agent("Mozilla/5.0 (Linux; Android 14) Chrome/121.0 Mobile") == "Chrome 121 / Android"
    assert describe_user_agent("") == ""
