"""Both languages render: the Accept-Language header and the language cookie pick Japanese."""

from django.core import mail
from django.urls import reverse

from tests.conftest import client_for
from tests.tenants.conftest import post_login


def test_login_page_in_english_and_japanese(client, db):
    assert "Forgot your password?" in client.get(reverse("tenants:login")).content.decode()
    body = client.get(reverse("tenants:login"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "パスワードをお忘れですか" in body and 'lang="ja"' in body


def test_language_cookie_switches_the_account_pages_to_japanese(alpha):
    client = client_for(alpha.admin)
    client.cookies["django_language"] = "ja"
    assert "アカウント設定" in client.get(reverse("tenants:account")).content.decode()
    assert "ユーザーアカウント" in client.get(reverse("tenants:user_list")).content.decode()


def test_lock_mail_in_japanese(client, alpha, clock):
    for _ in range(5):
        post_login(client, alpha.viewer.email, "wrong-pass", HTTP_ACCEPT_LANGUAGE="ja")
    assert "14:35" in mail.outbox[-1].body and "ロック" in mail.outbox[-1].subject


def test_two_factor_mail_follows_the_language(client, alpha):
    alpha.viewer.two_factor_mode = "always"
    alpha.viewer.save()
    post_login(client, alpha.viewer.email, HTTP_ACCEPT_LANGUAGE="ja")
    assert "認証コード" in mail.outbox[-1].subject
