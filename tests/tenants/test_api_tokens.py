"""Personal API tokens (issue 13 §2): stored hashed (old clear ones migrated), several per user
with an optional expiry, the last use shown, and revoked with the password they were made under."""

import hashlib
import importlib
from datetime import timedelta

from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tenants.models import ApiToken
from tenants.services import api_token_create, password_change, password_reset_complete
from tests.conftest import client_for

ACCOUNT = reverse("tenants:account")


def me(key: str):
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def works(key: str) -> bool:
    return me(key).status_code == 200


def test_the_database_holds_only_a_hash_of_the_key(alpha):
    key = api_token_create(user=alpha.viewer, name="script")
    row = ApiToken.objects.get(user=alpha.viewer)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {row.key_hash, row.prefix, row.name}
    assert works(key)


def test_existing_clear_tokens_are_hashed_by_the_migration_and_keep_working(alpha):
    old = Token.objects.create(user=alpha.viewer)
    migration = importlib.import_module("tenants.migrations.0003_hash_existing_api_tokens")
    migration.hash_tokens(apps, None)
    assert not Token.objects.exists()  # no clear key left
    row = ApiToken.objects.get(user=alpha.viewer)
    assert row.key_hash == hashlib.sha256(old.key.encode()).hexdigest() and row.operator == alpha.operator
    assert me(old.key).json()["email"] == alpha.viewer.email


def test_a_token_stops_working_when_it_expires(alpha, clock):
    key = api_token_create(user=alpha.viewer, name="short", expires_at=clock.now + timedelta(days=30))
    assert works(key)
    clock.advance(days=30, seconds=1)
    refused = me(key)
    assert refused.status_code in (401, 403) and "not valid" in refused.json()["detail"]
    assert "Expired" in client_for(alpha.viewer).get(ACCOUNT).content.decode()


def test_the_account_page_creates_a_token_with_an_expiry(alpha, clock):
    client_for(alpha.viewer).post(reverse("tenants:api_token_create"), {"name": "Nightly", "expires_in_days": 90})
    row = ApiToken.objects.get(user=alpha.viewer)
    assert row.name == "Nightly" and row.expires_at == clock.now + timedelta(days=90)


def test_the_account_page_lists_tokens_with_their_last_use(alpha, clock):
    used = api_token_create(user=alpha.viewer, name="Used one")
    api_token_create(user=alpha.viewer, name="Idle one")
    me(used)
    body = client_for(alpha.viewer).get(ACCOUNT).content.decode()
    assert "Used one" in body and "Idle one" in body
    assert timezone.localtime(clock.now).strftime("%Y-%m-%d %H:%M") in body
    assert "Not used yet" in body


def test_the_last_use_is_written_at_most_once_a_minute(alpha, clock):
    key = api_token_create(user=alpha.viewer, name="busy")
    me(key)
    first = clock.now
    clock.advance(seconds=30)
    me(key)
    assert ApiToken.objects.get(user=alpha.viewer).last_used_at == first
    clock.advance(seconds=31)
    me(key)
    assert ApiToken.objects.get(user=alpha.viewer).last_used_at == clock.now


def test_changing_the_password_revokes_every_token(alpha):
    keys = [api_token_create(user=alpha.viewer, name=n) for n in ("a", "b")]
    password_change(user=alpha.viewer, new_password="Fresh-pass-42")
    assert not any(works(k) for k in keys)
    assert not ApiToken.objects.filter(user=alpha.viewer).exists()


def test_the_password_change_page_revokes_tokens_too(alpha, password):
    key = api_token_create(user=alpha.viewer, name="a")
    client_for(alpha.viewer).post(
        reverse("tenants:password_change"),
        {"old_password": password, "new_password1": "Fresh-pass-42", "new_password2": "Fresh-pass-42"},
    )
    assert not works(key)


def test_a_password_reset_revokes_every_token(alpha):
    key = api_token_create(user=alpha.viewer, name="a")
    password_reset_complete(user=alpha.viewer, new_password="Fresh-pass-42")
    assert not works(key)


def test_an_expired_temporary_password_revokes_the_tokens(alpha):
    key = api_token_create(user=alpha.viewer, name="a")
    alpha.viewer.must_change_password = True
    alpha.viewer.temporary_password_expires_at = timezone.now() - timedelta(minutes=1)
    alpha.viewer.save()
    assert not works(key)
    assert not ApiToken.objects.filter(user=alpha.viewer).exists()


def test_another_users_token_cannot_be_deleted(alpha, bravo):
    api_token_create(user=bravo.viewer, name="theirs")
    theirs = ApiToken.objects.get(user=bravo.viewer)
    client = client_for(alpha.viewer)
    assert client.get(reverse("tenants:api_token_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("tenants:api_token_delete", args=[theirs.pk])).status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
