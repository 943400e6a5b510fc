"""Login hardening (issue 13 §2): one answer for unknown / wrong / locked, a per-IP throttle,
two-step tries counted per user in the database, a cap on codes per hour, parallel guesses that
cannot pass the limits, and the Django admin's login going through the portal's."""

import re
import threading

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.db import connections
from django.test import Client
from django.urls import reverse

from tenants.models import LoginHistory, TwoFactorMode
from tests.factories import PASSWORD, UserFactory
from tests.tenants.conftest import last_code, post_login

VERIFY = reverse("tenants:two_factor_verify")
LOGIN = reverse("tenants:login")


def always_two_step(user) -> None:
    user.two_factor_mode = TwoFactorMode.ALWAYS
    user.save(update_fields=["two_factor_mode"])


def wrong_code() -> str:
    return "000000" if last_code() != "000000" else "111111"


def normalised(response) -> str:
    """The page without what differs on every request anyway (CSRF token) or by input (the email typed)."""
    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    return re.sub(r'name="email" value="[^"]*"', "", body)


def in_parallel(count: int, work) -> list:
    """Run `work(i)` in `count` threads released together; each thread has its own DB connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


# ---------------------------------------------------------------- one answer for everybody


def test_unknown_email_wrong_password_and_locked_account_get_the_same_answer(alpha, bravo):
    for _ in range(5):
        post_login(Client(), bravo.viewer.email, "wrong-pass", REMOTE_ADDR="10.7.0.1")
    unknown = post_login(Client(), "nobody@example.com", "wrong-pass")
    wrong = post_login(Client(), alpha.viewer.email, "wrong-pass")
    locked_wrong = post_login(Client(), bravo.viewer.email, "wrong-pass")
    locked_right = post_login(Client(), bravo.viewer.email, PASSWORD)
    answers = [unknown, wrong, locked_wrong, locked_right]
    assert {r.status_code for r in answers} == {200}
    assert len({normalised(r) for r in answers}) == 1
    assert len({tuple(sorted(r.cookies)) for r in answers}) == 1
    assert "The email address or the password is not correct." in unknown.content.decode()


def test_every_answer_costs_one_password_hash(alpha, bravo, monkeypatch):
    """The same work for unknown, wrong and locked, so the answer's timing tells nothing either."""
    for _ in range(5):
        post_login(Client(), bravo.viewer.email, "wrong-pass")
    calls = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(MD5PasswordHasher, "encode", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    for email in ("nobody@example.com", alpha.viewer.email, bravo.viewer.email):
        calls.clear()
        post_login(Client(), email, "wrong-pass")
        assert len(calls) == 1, email


# ---------------------------------------------------------------- per-IP throttle


def test_too_many_failures_from_one_ip_refuse_it_but_not_others(alpha, settings):
    settings.PORTAL_LOGIN_FAILURES_PER_IP = 3
    for email in ("a@example.com", "b@example.com", alpha.admin.email):
        post_login(Client(), email, "wrong-pass", REMOTE_ADDR="198.51.100.9")
    client = Client()
    response = post_login(client, alpha.viewer.email, REMOTE_ADDR="198.51.100.9")
    assert response.status_code == 429
    assert "Too many failed logins came from your network" in response.content.decode()
    assert "_auth_user_id" not in client.session
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.failed_login_count == 0  # nothing was checked for the refused IP
    assert post_login(Client(), alpha.viewer.email, REMOTE_ADDR="198.51.100.10").status_code == 302


def test_the_ip_throttle_counts_an_ipv6_slash_64_as_one_client(alpha, settings):
    settings.PORTAL_LOGIN_FAILURES_PER_IP = 3
    for host in (1, 2, 3):
        post_login(Client(), "nobody@example.com", "wrong-pass", REMOTE_ADDR=f"2001:db8:1:2::{host}")
    assert post_login(Client(), alpha.viewer.email, REMOTE_ADDR="2001:db8:1:2::99").status_code == 429
    assert post_login(Client(), alpha.viewer.email, REMOTE_ADDR="2001:db8:1:3::1").status_code == 302


def test_the_ip_throttle_ends_with_its_window(alpha, settings, clock):
    settings.PORTAL_LOGIN_FAILURES_PER_IP = 2
    for _ in range(2):
        post_login(Client(), "nobody@example.com", "wrong-pass")
    assert post_login(Client(), alpha.viewer.email).status_code == 429
    clock.advance(minutes=settings.PORTAL_LOGIN_IP_WINDOW_MINUTES)
    assert post_login(Client(), alpha.viewer.email).status_code == 302


# ---------------------------------------------------------------- two-step codes


def test_a_fresh_password_login_does_not_reset_the_wrong_codes(client, alpha):
    user = alpha.viewer
    always_two_step(user)
    post_login(client, user.email)
    for _ in range(4):
        assert "This code is not correct" in client.post(VERIFY, {"code": wrong_code()}).content.decode()
    # Log in again with the password: a new code, but not four more guesses.
    assert post_login(Client(), user.email).url == VERIFY
    again = Client()
    post_login(again, user.email)
    response = again.post(VERIFY, {"code": wrong_code()}, follow=True)
    assert response.redirect_chain[-1][0] == LOGIN
    assert "wrong too many times" in response.content.decode()
    user.refresh_from_db()
    assert user.is_locked()
    assert "verification codes" in mail.outbox[-1].body and mail.outbox[-1].to == [user.email]


def test_a_right_code_resets_the_wrong_code_count(alpha):
    user = alpha.viewer
    always_two_step(user)
    client = Client()
    post_login(client, user.email)
    for _ in range(4):
        client.post(VERIFY, {"code": wrong_code()})
    client.post(VERIFY, {"code": last_code()})
    assert "_auth_user_id" in client.session
    user.refresh_from_db()
    assert user.two_factor_failures == 0


def test_codes_per_user_and_hour_are_capped(alpha, settings, clock):
    settings.PORTAL_TWO_FACTOR_CHALLENGES_PER_HOUR = 3
    user = alpha.viewer
    always_two_step(user)
    for _ in range(3):
        assert post_login(Client(), user.email).url == VERIFY
    refused = post_login(Client(), user.email)
    assert refused.status_code == 200
    assert "Too many verification codes were sent" in refused.content.decode()
    assert len(mail.outbox) == 3
    clock.advance(minutes=61)
    assert post_login(Client(), user.email).url == VERIFY


def test_resends_count_towards_the_hourly_cap(client, alpha, settings):
    settings.PORTAL_TWO_FACTOR_CHALLENGES_PER_HOUR = 2
    always_two_step(alpha.viewer)
    post_login(client, alpha.viewer.email)
    client.post(reverse("tenants:two_factor_resend"))
    response = client.post(reverse("tenants:two_factor_resend"), follow=True)
    assert "Too many verification codes were sent" in response.content.decode()
    assert len(mail.outbox) == 2


def test_the_code_is_not_kept_in_the_session(client, alpha):
    always_two_step(alpha.viewer)
    post_login(client, alpha.viewer.email)
    pending = client.session["tenants.pending_login"]
    assert set(pending) == {"challenge_id", "user_id", "next", "resends"}


# ---------------------------------------------------------------- parallel guesses
# On PostgreSQL the requests race for the user's row lock; on the embedded SQLite each transaction takes
# the database's write lock up front (IMMEDIATE), so they queue for it. The limits must hold either way.


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_lock_at_exactly_the_fifth(alpha):
    user = alpha.viewer
    in_parallel(10, lambda i: post_login(Client(), user.email, f"wrong-pass-{i}").status_code)
    user.refresh_from_db()
    assert user.is_locked()
    failures = LoginHistory.objects.filter(user=user, succeeded=False)
    assert failures.filter(detail__in=["wrong_password", "lockout_started"]).count() == 5
    assert failures.filter(detail="lockout_started").count() == 1
    assert failures.filter(detail="locked").count() == 5
    assert len([m for m in mail.outbox if "locked" in m.subject]) == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_cannot_pass_the_attempt_cap(alpha):
    user = alpha.viewer
    always_two_step(user)
    first = Client()
    post_login(first, user.email)
    right, wrong = last_code(), wrong_code()

    def guess(_i: int):
        browser = Client()
        browser.cookies = first.cookies  # the same session, as parallel tabs or scripts share it
        return browser.post(VERIFY, {"code": wrong})

    responses = in_parallel(10, guess)
    still_asking = [r for r in responses if r.status_code == 200 and "This code is not correct" in r.content.decode()]
    assert len(still_asking) == 4  # the fifth wrong code ends it, however many arrive at once
    assert all(r.status_code == 302 and r.url == LOGIN for r in responses if r not in still_asking)
    user.refresh_from_db()
    assert user.is_locked()
    assert first.post(VERIFY, {"code": right}).url == LOGIN
    assert "_auth_user_id" not in first.session
    assert LoginHistory.objects.filter(user=user, detail="two_factor_failed").count() == 1


# ---------------------------------------------------------------- the Django admin


@pytest.fixture
def staff(alpha):
    return UserFactory(operator=alpha.operator, email="staff@example.com", is_staff=True, is_superuser=True)


def test_the_admin_login_page_sends_staff_to_the_portal_login(client, staff):
    response = client.get("/staff/admin/login/?next=/staff/admin/tenants/")
    assert response.status_code == 302
    assert response.url == LOGIN + "?next=%2Fstaff%2Fadmin%2Ftenants%2F"
    # Posting a password to the admin's page logs nobody in.
    client.post("/staff/admin/login/", {"username": staff.email, "password": PASSWORD, "next": "/staff/admin/"})
    assert "_auth_user_id" not in client.session


def test_staff_reach_the_admin_only_through_two_step_verification_and_it_is_recorded(client, staff):
    always_two_step(staff)
    response = client.get("/staff/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(LOGIN)
    response = client.post(LOGIN + "?next=/staff/admin/", {"email": staff.email, "password": PASSWORD})
    assert response.url == VERIFY
    assert client.get("/staff/admin/").status_code == 302  # no admin before the code
    response = client.post(VERIFY, {"code": last_code()})
    assert response.url == "/staff/admin/"
    assert client.get("/staff/admin/").status_code == 200
    assert LoginHistory.objects.filter(user=staff, succeeded=True).count() == 1


def test_a_logged_in_non_staff_user_gets_403_from_the_admin_not_a_redirect_loop(client, alpha):
    client.force_login(alpha.admin)
    response = client.get("/staff/admin/", follow=True)
    assert response.status_code == 403
    assert len(response.redirect_chain) <= 2


def test_the_daily_purge_drops_old_throttle_windows_and_challenges(alpha, clock):
    from tenants.models import LoginThrottle, TwoFactorChallenge
    from tenants.tasks import purge_login_history

    always_two_step(alpha.viewer)
    post_login(Client(), alpha.viewer.email)
    post_login(Client(), "nobody@example.com", "wrong-pass")
    clock.advance(days=1, minutes=20)
    post_login(Client(), "nobody@example.com", "wrong-pass")  # a current window stays
    purge_login_history.delay().get()
    assert LoginThrottle.objects.count() == 1 and not TwoFactorChallenge.objects.exists()
