"""Two-step verification by a mailed 6-digit code (always / risk-based) and login notifications."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tenants.models import LoginHistory, TwoFactorMode
from tests.tenants.conftest import last_code, post_login

VERIFY = reverse("tenants:two_factor_verify")


def set_mode(user, mode: str) -> None:
    user.two_factor_mode = mode
    user.save(update_fields=["two_factor_mode"])


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def login_fully(client: Client, user, **extra) -> None:
    """Password, then the code if one is asked for."""
    response = post_login(client, user.email, **extra)
    if response.status_code == 302 and response.url == VERIFY:
        client.post(VERIFY, {"code": last_code()}, **extra)
    assert logged_in(client)


@pytest.fixture
def always(alpha):
    set_mode(alpha.viewer, TwoFactorMode.ALWAYS)
    return alpha.viewer


def test_always_mode_mails_a_code_and_logs_in_only_after_it(client, always):
    response = post_login(client, always.email)
    assert response.url == VERIFY
    assert not logged_in(client)
    assert mail.outbox[-1].to == [always.email]
    assert len(last_code()) == 6
    page = client.get(VERIFY).content.decode()
    assert always.email in page and "10 minutes" in page
    response = client.post(VERIFY, {"code": last_code()})
    assert response.status_code == 302 and response.url == reverse("home")
    assert logged_in(client)
    assert LoginHistory.objects.filter(user=always, succeeded=True).count() == 1


def test_always_mode_asks_again_from_a_known_browser(client, always):
    login_fully(client, always)
    client.post(reverse("tenants:logout"))
    assert post_login(client, always.email).url == VERIFY


def test_five_wrong_codes_send_the_user_back_to_login(client, always):
    post_login(client, always.email)
    right = last_code()
    wrong = "000000" if right != "000000" else "111111"
    for attempt in range(1, 5):
        body = client.post(VERIFY, {"code": wrong}).content.decode()
        assert "This code is not correct" in body
        assert f"try {5 - attempt} more" in body
    response = client.post(VERIFY, {"code": wrong})
    assert response.url == reverse("tenants:login")
    # The challenge is gone: even the right code no longer works.
    assert client.post(VERIFY, {"code": right}).url == reverse("tenants:login")
    assert not logged_in(client)
    assert LoginHistory.objects.filter(user=always, succeeded=False, detail="two_factor_failed").exists()


def test_a_code_expires_after_ten_minutes(client, always, clock):
    post_login(client, always.email)
    clock.advance(minutes=10, seconds=1)
    response = client.post(VERIFY, {"code": last_code()}, follow=True)
    assert "expired" in response.content.decode()
    assert not logged_in(client)


def test_resend_mails_a_new_code_and_the_old_one_stops_working(client, always):
    post_login(client, always.email)
    old = last_code()
    response = client.post(reverse("tenants:two_factor_resend"), follow=True)
    assert "A new code has been sent" in response.content.decode()
    assert len(mail.outbox) == 2
    new = last_code()
    if new != old:
        assert "not correct" in client.post(VERIFY, {"code": old}).content.decode()
    client.post(VERIFY, {"code": new})
    assert logged_in(client)


def test_resend_does_not_reset_the_wrong_tries(client, always):
    post_login(client, always.email)
    for _ in range(4):
        client.post(VERIFY, {"code": "abcdef"})  # invalid shape does not count
    for _ in range(4):
        client.post(VERIFY, {"code": "999999" if last_code() != "999999" else "888888"})
    client.post(reverse("tenants:two_factor_resend"))
    code = last_code()
    wrong = "999999" if code != "999999" else "888888"
    assert client.post(VERIFY, {"code": wrong}).url == reverse("tenants:login")


def test_verify_page_without_a_pending_login_goes_to_login(client, db):
    assert client.get(VERIFY).url == reverse("tenants:login")


def test_risk_mode_asks_for_a_code_only_in_a_new_environment(alpha):
    user = alpha.viewer
    set_mode(user, TwoFactorMode.RISK)
    browser = Client()
    assert post_login(browser, user.email).url == VERIFY  # nothing known yet
    browser.post(VERIFY, {"code": last_code()})
    browser.post(reverse("tenants:logout"))

    # Same browser (cookie) and same IP: no code.
    sent = len(mail.outbox)
    response = post_login(browser, user.email)
    assert response.url == reverse("home") and len(mail.outbox) == sent
    browser.post(reverse("tenants:logout"))

    # Same browser, new IP: a code.
    assert post_login(browser, user.email, REMOTE_ADDR="203.0.113.7").url == VERIFY

    # New browser (no cookie), known IP: a code.
    assert post_login(Client(), user.email).url == VERIFY


def test_off_mode_never_asks_for_a_code(client, alpha):
    response = post_login(client, alpha.viewer.email, REMOTE_ADDR="198.51.100.1")
    assert response.url == reverse("home")


def test_login_notification_only_for_a_new_environment(alpha):
    user = alpha.viewer
    browser = Client()
    login_fully(browser, user)  # the very first login: nothing to compare with, no mail
    assert mail.outbox == []
    browser.post(reverse("tenants:logout"))
    login_fully(browser, user)  # same browser and IP
    assert mail.outbox == []
    browser.post(reverse("tenants:logout"))
    login_fully(Client(), user, REMOTE_ADDR="192.0.2.44", HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert "192.0.2.44" in mail.outbox[0].body and "Firefox/128.0" in mail.outbox[0].body


def test_login_notification_can_be_turned_off(alpha):
    user = alpha.viewer
    user.login_notification = False
    user.save()
    login_fully(Client(), user)
    login_fully(Client(), user, REMOTE_ADDR="192.0.2.45")
    assert mail.outbox == []
