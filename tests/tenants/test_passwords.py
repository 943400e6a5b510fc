"""First-login password change, the symbol rule, invitations (72 h, single use) and password reset."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tenants.models import Role
from tenants.services import invitation_token, user_create
from tests.conftest import client_for
from tests.factories import PASSWORD
from tests.tenants.conftest import link_in, post_login

NEW = "New-Passw0rd#2"


def change(client, old=PASSWORD, new=NEW, again=None):
    data = {"old_password": old, "new_password1": new, "new_password2": again or new}
    return client.post(reverse("tenants:password_change"), data)


def test_first_login_is_forced_to_the_password_change(client, alpha):
    alpha.viewer.must_change_password = True
    alpha.viewer.save()
    post_login(client, alpha.viewer.email)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("tenants:password_change"))
    assert client.get(reverse("tenants:account")).url.startswith(reverse("tenants:password_change"))
    page = client.get(reverse("tenants:password_change")).content.decode()
    assert "initial password" in page
    assert "@ - _ ! . $ % &amp; + #" in page
    assert change(client).url == reverse("home")
    alpha.viewer.refresh_from_db()
    assert not alpha.viewer.must_change_password and alpha.viewer.check_password(NEW)
    assert client.get(reverse("home")).status_code == 200  # still logged in after the change


def test_api_is_refused_until_the_initial_password_is_changed(alpha):
    alpha.viewer.must_change_password = True
    alpha.viewer.save()
    response = client_for(alpha.viewer).get("/api/v1/me/")
    assert response.status_code == 403 and "initial password" in response.json()["detail"]


def test_forbidden_password_symbol_is_refused_with_a_message(alpha):
    client = client_for(alpha.viewer)
    body = change(client, new="Good-Pass1~x").content.decode()
    assert "only these symbols" in body and "not allowed: ~" in body
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.check_password(PASSWORD)


def test_wrong_current_password_or_same_password_is_refused(alpha):
    client = client_for(alpha.viewer)
    assert "incorrect" in change(client, old="nope-nope").content.decode()
    assert "different from the current" in change(client, new=PASSWORD).content.decode()


def test_password_change_from_the_account_page_says_success(alpha):
    client = client_for(alpha.viewer)
    response = change(client)
    assert response.url == reverse("tenants:account")
    assert "Your password has been changed." in client.get(response.url).content.decode()


# ---------------------------------------------------------------- invitations


@pytest.fixture
def invited(alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        user = user_create(
            operator=alpha.operator, actor=alpha.admin, email="new@example.com", name="New Person", role=Role.VIEWER
        )
    return user


def test_invitation_mail_link_sets_the_password_once(client, invited):
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    assert "72 hours" in mail.outbox[0].body
    url = link_in(mail.outbox[0])
    page = client.get(url)
    assert page.status_code == 200 and "new@example.com" in page.content.decode()
    response = client.post(url, {"new_password1": NEW, "new_password2": NEW})
    assert response.url == reverse("tenants:login")
    assert post_login(client, "new@example.com", NEW).status_code == 302
    client.post(reverse("tenants:logout"))
    # Single use: the link is dead once the password is set.
    assert client.get(url).status_code == 410
    assert client.post(url, {"new_password1": "Other-Pass9", "new_password2": "Other-Pass9"}).status_code == 410


def test_invitation_link_expires_after_72_hours(client, alpha, clock):
    with_token = user_create(
        operator=alpha.operator, actor=alpha.admin, email="late@example.com", name="", role="viewer"
    )
    url = reverse("tenants:invitation_accept", args=[invitation_token(with_token)])
    clock.advance(hours=71, minutes=59)
    assert client.get(url).status_code == 200
    clock.advance(minutes=2)
    response = client.get(url)
    assert response.status_code == 410 and "72 hours" in response.content.decode()


def test_tampered_invitation_link_is_refused(client, invited):
    url = link_in(mail.outbox[0])
    assert client.get(url.rstrip("/") + "x/").status_code == 410


def test_invitation_password_must_follow_the_rules(client, invited):
    url = link_in(mail.outbox[0])
    body = client.post(url, {"new_password1": "Bad pass 1", "new_password2": "Bad pass 1"}).content.decode()
    assert "only these symbols" in body
    invited.refresh_from_db()
    assert not invited.has_usable_password()


# ---------------------------------------------------------------- password reset


def test_password_reset_by_mailed_link_also_lifts_the_lock(client, alpha):
    user = alpha.viewer
    user.locked_until = timezone.now() + timedelta(minutes=20)
    user.must_change_password = True
    user.save()
    response = client.post(reverse("tenants:password_reset"), {"email": user.email.upper()})
    assert response.url == reverse("tenants:password_reset_done")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    page = client.get(link_in(mail.outbox[0]), follow=True)
    assert page.status_code == 200 and 'name="new_password1"' in page.content.decode()
    set_url = page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert done.url == reverse("tenants:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW) and user.locked_until is None and not user.must_change_password
    assert post_login(client, user.email, NEW).status_code == 302
    # The link is single use.
    client.post(reverse("tenants:logout"))
    assert "not valid" in client.get(link_in(mail.outbox[0]), follow=True).content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db):
    response = client.post(reverse("tenants:password_reset"), {"email": "ghost@example.com"})
    assert response.url == reverse("tenants:password_reset_done")
    assert mail.outbox == []


def test_password_reset_refuses_a_forbidden_symbol(client, alpha):
    client.post(reverse("tenants:password_reset"), {"email": alpha.viewer.email})
    page = client.get(link_in(mail.outbox[0]), follow=True)
    body = client.post(page.redirect_chain[-1][0], {"new_password1": "Abc=12345", "new_password2": "Abc=12345"})
    assert "not allowed: =" in body.content.decode()
    alpha.viewer.refresh_from_db()
    assert alpha.viewer.check_password(PASSWORD)
