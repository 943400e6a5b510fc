"""Login by email + password: generic errors, the 5-failures / 30-minutes lock, history, device cookie."""

from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tenants.models import LoginHistory
from tenants.views import DEVICE_COOKIE
from tests.factories import PASSWORD
from tests.tenants.conftest import post_login


def test_login_page_has_email_password_and_reset_link(client, db):
    body = client.get(reverse("tenants:login")).content.decode()
    assert 'name="email"' in body and 'type="password"' in body
    assert reverse("tenants:password_reset") in body


def test_correct_password_logs_in_and_records_history(client, alpha):
    response = post_login(
        client, alpha.viewer.email, HTTP_USER_AGENT="Mozilla/5.0 Chrome/120.0", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 302 and response.url == reverse("home")
    entry = LoginHistory.objects.get(user=alpha.viewer)
    assert entry.succeeded and entry.ip == "10.1.2.3" and "Chrome/120" in entry.user_agent


def test_login_follows_a_local_next_but_not_another_site(client, alpha):
    response = client.post(
        reverse("tenants:login") + "?next=/accounts/me/", {"email": alpha.viewer.email, "password": PASSWORD}
    )
    assert response.url == "/accounts/me/"
    client.logout()
    response = client.post(
        reverse("tenants:login") + "?next=https://evil.example/", {"email": alpha.viewer.email, "password": PASSWORD}
    )
    assert response.url == reverse("home")


def test_wrong_password_and_unknown_email_get_the_same_generic_error(client, alpha):
    wrong = post_login(client, alpha.viewer.email, "not-the-password").content.decode()
    unknown = post_login(client, "nobody@example.com", "not-the-password").content.decode()
    message = "The email address or the password is not correct."
    assert message in wrong and message in unknown
    assert "locked until" not in wrong


def test_failed_login_is_recorded_with_ip_and_browser(client, alpha):
    post_login(client, alpha.viewer.email, "wrong-pass", REMOTE_ADDR="10.9.9.9", HTTP_USER_AGENT="Firefox/121.0")
    entry = LoginHistory.objects.get(user=alpha.viewer)
    assert not entry.succeeded and entry.ip == "10.9.9.9" and entry.user_agent == "Firefox/121.0"


def test_it_locks_after_exactly_five_failures_and_mails_until_when(client, alpha, clock):
    for _ in range(4):
        post_login(client, alpha.viewer.email, "wrong-pass")
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.locked_until is None and mail.outbox == []
    body = post_login(client, alpha.viewer.email, "wrong-pass").content.decode()
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.locked_until == clock.now + timedelta(minutes=30)
    # The page gives its one answer; the owner learns the lock by mail. 05:05 UTC + 30 min is
    # 14:35 in Tokyo, the portal's time zone.
    assert "The email address or the password is not correct." in body and "14:35" not in body
    assert mail.outbox[-1].to == [alpha.viewer.email]
    assert "locked until 14:35" in mail.outbox[-1].body
    assert reverse("tenants:password_reset") in mail.outbox[-1].body


def test_correct_password_is_refused_while_locked(client, alpha, clock):
    for _ in range(5):
        post_login(client, alpha.viewer.email, "wrong-pass")
    clock.advance(minutes=29)
    response = post_login(client, alpha.viewer.email)
    assert response.status_code == 200
    assert "The email address or the password is not correct." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_unlocks_after_thirty_minutes(client, alpha, clock):
    for _ in range(5):
        post_login(client, alpha.viewer.email, "wrong-pass")
    clock.advance(minutes=30, seconds=1)
    response = post_login(client, alpha.viewer.email)
    assert response.status_code == 302
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.locked_until is None and alpha.viewer.failed_login_count == 0


def test_a_success_resets_the_failure_count(client, alpha):
    for _ in range(4):
        post_login(client, alpha.viewer.email, "wrong-pass")
    assert post_login(client, alpha.viewer.email).status_code == 302
    client.logout()
    for _ in range(4):
        post_login(client, alpha.viewer.email, "wrong-pass")
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.locked_until is None


def test_login_sets_a_long_lived_signed_device_cookie(client, alpha):
    response = post_login(client, alpha.viewer.email)
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["max-age"] >= 365 * 24 * 3600
    assert cookie["httponly"]
    # Signed: the random key followed by its signature.
    key, _, signature = cookie.value.partition(":")
    assert len(key) >= 32 and signature


def test_expired_temporary_password_is_refused(client, alpha):
    alpha.viewer.must_change_password = True
    alpha.viewer.temporary_password_expires_at = timezone.now() - timedelta(minutes=1)
    alpha.viewer.save()
    body = post_login(client, alpha.viewer.email).content.decode()
    assert "temporary password expired" in body
    assert "_auth_user_id" not in client.session


def test_logout_needs_post_and_ends_the_session(client, alpha):
    post_login(client, alpha.viewer.email)
    assert client.get(reverse("tenants:logout")).status_code == 405
    client.post(reverse("tenants:logout"))
    assert client.get(reverse("tenants:account")).status_code == 302
