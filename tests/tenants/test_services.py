"""Account services and rules, below the pages: the lock in the backend, two-step decisions,
and writes that leave nothing half-saved."""

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from tenants.models import ApiToken, KnownEnvironment, Role, TwoFactorMode, User
from tenants.security import two_factor_required
from tenants.services import (
    api_token_create,
    user_create,
    user_delete,
    user_update,
)
from tests.factories import PASSWORD


def test_the_backend_locks_every_entry_point_not_just_the_login_page(alpha):
    request = RequestFactory().post("/staff/admin/login/")
    for _ in range(5):
        assert authenticate(request, username=alpha.admin.email, password="wrong-pass") is None
    assert authenticate(request, username=alpha.admin.email, password=PASSWORD) is None
    alpha.admin.refresh_from_db()
    assert alpha.admin.locked_until > timezone.now()


def test_two_factor_required_follows_the_mode_and_the_known_environment(alpha):
    user = alpha.viewer
    KnownEnvironment.objects.create(operator=user.operator, user=user, device_key="k1", ip="10.0.0.1")
    assert not two_factor_required(user=user, device_key=None, ip="10.0.0.9")  # off
    user.two_factor_mode = TwoFactorMode.ALWAYS
    assert two_factor_required(user=user, device_key="k1", ip="10.0.0.1")
    user.two_factor_mode = TwoFactorMode.RISK
    assert not two_factor_required(user=user, device_key="k1", ip="10.0.0.1")
    assert two_factor_required(user=user, device_key="k2", ip="10.0.0.1")
    assert two_factor_required(user=user, device_key="k1", ip="10.0.0.2")
    assert two_factor_required(user=user, device_key=None, ip="10.0.0.1")


def test_another_users_environment_does_not_count(alpha):
    KnownEnvironment.objects.create(operator=alpha.operator, user=alpha.admin, device_key="k1", ip="10.0.0.1")
    alpha.viewer.two_factor_mode = TwoFactorMode.RISK
    assert two_factor_required(user=alpha.viewer, device_key="k1", ip="10.0.0.1")


def test_user_create_with_a_bad_password_saves_nothing(alpha):
    with pytest.raises(ValidationError) as caught:
        user_create(
            operator=alpha.operator, actor=alpha.admin, email="x@example.com", name="X", role="viewer", password="a b"
        )
    assert "password" in caught.value.message_dict
    assert not User.objects.filter(email="x@example.com").exists()


def test_user_update_refuses_own_role_change_and_keeps_the_rest(alpha):
    with pytest.raises(ValidationError):
        user_update(actor=alpha.admin, target=alpha.admin, name="New", email=alpha.admin.email, role=Role.VIEWER)
    alpha.admin.refresh_from_db()
    assert alpha.admin.role == Role.ADMIN and alpha.admin.name == "Alpha admin"


def test_user_delete_refuses_self_and_removes_others_with_their_token(alpha):
    with pytest.raises(ValidationError):
        user_delete(actor=alpha.admin, target=alpha.admin)
    api_token_create(user=alpha.viewer, name="script")
    user_delete(actor=alpha.admin, target=alpha.viewer)
    assert not User.objects.filter(pk=alpha.viewer.pk).exists()
    assert not ApiToken.objects.filter(user_id=alpha.viewer.pk).exists()


def test_api_token_create_stores_only_a_hash_and_allows_several(alpha):
    first = api_token_create(user=alpha.viewer, name="report")
    second = api_token_create(user=alpha.viewer, name="backup")
    assert first != second
    stored = ApiToken.objects.filter(user=alpha.viewer)
    assert stored.count() == 2
    assert not stored.filter(key_hash__in=[first, second]).exists()
    assert {t.prefix for t in stored} == {first[:8], second[:8]}
